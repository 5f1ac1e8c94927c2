"""The nats-py shim under the consumers: a queued message is taken at once, an empty wait still
times out as faststream expects, and a pull fetch still returns a whole batch."""

from __future__ import annotations

import asyncio
from typing import Any

import nats.errors
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from mentornet_events import Subjects
from mentornet_spine import compat
from tests.integration.support import eventually

compat.install()


async def test_queued_messages_come_in_order_without_a_task_each(nc: Client, subjects: Subjects) -> None:
    sub = await nc.subscribe(f"{subjects.root}.compat")
    for i in range(5):
        await nc.publish(f"{subjects.root}.compat", f"m{i}".encode())
    await nc.flush()
    await eventually(lambda: asyncio.sleep(0, sub.pending_msgs == 5))
    loop, created = asyncio.get_running_loop(), []

    def counting(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        created.append(coro)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(counting)
    try:
        taken = [await sub.next_msg(timeout=1) for _ in range(5)]
    finally:
        loop.set_task_factory(None)
    assert [m.data for m in taken] == [b"m0", b"m1", b"m2", b"m3", b"m4"]
    assert created == []
    assert sub.pending_msgs == 0 and sub.pending_bytes == 0
    with pytest.raises(nats.errors.TimeoutError):
        await sub.next_msg(timeout=0.05)
    await sub.unsubscribe()


async def test_a_pull_fetch_returns_the_batch_and_an_empty_one_times_out(
    js: JetStreamContext, subjects: Subjects
) -> None:
    subject = subjects.event("programs", "pair", "PairFormed")
    for i in range(300):
        await js.publish(subject, f"e{i}".encode())
    sub = await js.pull_subscribe(
        subject,
        durable="compat",
        stream=subjects.stream("programs"),
        config=ConsumerConfig(ack_policy=AckPolicy.ALL),
    )
    got = await sub.fetch(256, timeout=2)
    assert [m.data for m in got] == [f"e{i}".encode() for i in range(256)]
    rest = await sub.fetch(256, timeout=2)
    assert [m.data for m in rest] == [f"e{i}".encode() for i in range(256, 300)]
    await rest[-1].ack()
    with pytest.raises(nats.errors.TimeoutError):  # faststream's pull loop catches this subclass
        await sub.fetch(10, timeout=0.2)
    await sub.unsubscribe()
