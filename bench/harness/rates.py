"""A count over a time; requests over a measured window; the moment a condition is reached."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from harness.latency import Summary


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


@dataclass
class Requests:
    """Requests of ``clients`` answered in a measured window, latencies per endpoint."""

    clients: int
    duration_s: float
    requests: int
    errors: int
    per_endpoint: dict[str, Summary]

    @property
    def per_second(self) -> float:
        return self.requests / self.duration_s


async def wait_for(
    check: Callable[[], Awaitable[bool]], within_s: float, what: str, poll_s: float = 0.02
) -> float:
    """Poll ``check`` until true; returns the monotonic time it was first seen true."""
    deadline = time.monotonic() + within_s
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {within_s:.0f}s")
        await asyncio.sleep(poll_s)
    return time.monotonic()
