"""A shim between nats-py and faststream, applied once on import of the consumer module.

nats-py 2.15+ raises the builtin ``TimeoutError`` from ``PullSubscription.fetch`` when a pull
expires empty; faststream 0.7's pull loop catches only ``nats.errors.TimeoutError`` (a subclass),
so its consuming task dies on the first idle fetch and the subscriber silently stops. Older
nats-py (<=2.14) raises the subclass but leaves an orphaned pull request behind that stalls the
next fetch for its whole timeout (nats.py #933/#934), which cuts throughput several times over.
We keep the fixed nats-py and translate the exception back to the subclass faststream expects.
"""

from __future__ import annotations

from typing import Any

import nats.errors
from nats.js.client import JetStreamContext

_PATCHED = "_mentornet_timeout_shim"


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
    setattr(cls, _PATCHED, True)
