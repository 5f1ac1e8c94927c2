"""HTTP from the bench: calls with a bearer token, bounded concurrency, a bare keep-alive connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def call(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str] | None = None, **kwargs: Any
) -> Any:
    """The JSON of the answer; raises on a status of 300 or above."""
    answer = await client.request(method, url, headers=headers, **kwargs)
    if answer.status_code >= 300:
        raise RuntimeError(f"{method} {url}: {answer.status_code} {answer.text[:500]}")
    return answer.json()


async def bounded(limit: int, jobs: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs with at most ``limit`` in flight; results in the jobs' order."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


class RawConnection:
    """One keep-alive HTTP/1.1 connection with just enough protocol for authenticated GETs.

    The load process must cost far less CPU per request than the service it measures; httpx's
    pool costs about as much as a service's handler on a small host, and with 50 requests in
    flight its own queueing shows up as latency. Responses must carry Content-Length (FastAPI's do).
    ``limit`` is the stream reader's buffer limit (asyncio's default is 64 KiB).
    """

    def __init__(self, host: str, port: int, limit: int = 2**16) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, token: str, extra: str = "") -> tuple[int, bytes]:
        """(status, body); ``extra`` is more header lines, each ending in CRLF."""
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=self.limit)
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n{extra}\r\n"
        self.writer.write(request.encode())
        try:
            head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            lengths = [line for line in head.split("\r\n") if line.startswith("content-length:")]
            if not lengths:
                raise ValueError("a response without Content-Length")
            body = await self.reader.readexactly(int(lengths[0].partition(":")[2]))
        except BaseException:
            await self.close()
            raise
        if "\r\nconnection: close" in head:
            await self.close()
        return int(head[9:12]), body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None
