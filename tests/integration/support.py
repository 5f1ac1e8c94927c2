"""Helpers shared by integration tests: polling, running a relay, reading a stream back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy


async def eventually(
    check: Callable[[], Awaitable[Any]], within: float = 20.0, interval: float = 0.05
) -> Any:
    """Poll ``check`` until it returns a truthy value; fail with the last value after ``within`` seconds."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {within}s; last value: {last!r}")


async def stream_messages(js: JetStreamContext, stream: str, subject: str) -> list[Any]:
    """Every message of a stream, in stream order."""
    info = await js.stream_info(stream)
    total = info.state.messages
    if total == 0:
        return []
    sub = await js.pull_subscribe(
        subject,
        durable=None,
        stream=stream,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE),
    )
    msgs: list[Any] = []
    try:
        while len(msgs) < total:
            msgs.extend(await sub.fetch(min(500, total - len(msgs)), timeout=5))
    finally:
        await sub.unsubscribe()
    return msgs
