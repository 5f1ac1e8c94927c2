"""A shim between nats-py and faststream, applied once on import of the consumer module.

nats-py 2.15+ raises the builtin ``TimeoutError`` from ``PullSubscription.fetch`` when a pull
expires empty; faststream 0.7's pull loop catches only ``nats.errors.TimeoutError`` (a subclass),
so its consuming task dies on the first idle fetch and the subscriber silently stops. Older
nats-py (<=2.14) raises the subclass but leaves an orphaned pull request behind that stalls the
next fetch for its whole timeout (nats.py #933/#934), which cuts throughput several times over.
We keep the fixed nats-py and translate the exception back to the subclass faststream expects.

A pull fetch takes each message of a batch with ``Subscription.next_msg``, which spends a task,
``asyncio.wait_for`` and a random task name on it even when the message is already queued — a
tenth of a consumer's CPU in a profile. A queued message is returned at once instead, exactly as
the wait would have returned it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import nats.errors
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.client import JetStreamContext

_PATCHED = "_mentornet_timeout_shim"
_STOCK_NEXT_MSG = Subscription.next_msg


def install() -> None:
    cls: Any = JetStreamContext.PullSubscription
    if getattr(cls, _PATCHED, False):
        return
    original = cls.fetch

    async def fetch(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, *args, **kwargs)
        except nats.errors.TimeoutError:
            raise
        except TimeoutError as error:
            raise nats.errors.TimeoutError from error

    cls.fetch = fetch
    _take_queued_at_once()
    setattr(cls, _PATCHED, True)


@contextlib.contextmanager
def stock_next_msg() -> Iterator[None]:
    """nats-py's own ``next_msg`` for a while: bench/spine.py's raw baseline is nats-py as shipped."""
    patched = Subscription.next_msg
    Subscription.next_msg = _STOCK_NEXT_MSG  # type: ignore[method-assign]
    try:
        yield
    finally:
        Subscription.next_msg = patched  # type: ignore[method-assign]


def _take_queued_at_once() -> None:
    async def next_msg(self: Subscription, timeout: float | None = 1.0) -> Msg:  # noqa: ASYNC109 — nats-py's
        queue = self._pending_queue
        if queue.empty() or self._cb or self._conn.is_closed:
            return await _STOCK_NEXT_MSG(self, timeout)  # it waits, or raises as it always did
        msg: Msg = queue.get_nowait()
        self._pending_size -= len(msg.data)
        queue.task_done()
        return msg

    Subscription.next_msg = next_msg  # type: ignore[method-assign]
