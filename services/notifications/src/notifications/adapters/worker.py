"""The loop every outbound channel shares: claim due rows under a lease, send, record each result.

Rows are claimed in small batches (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several replicas
share the work), only as many as there are free sending slots, so a stop leaves nothing claimed
but unsent: sends in flight finish and are recorded, the rest stays due for the next process. A
claim is a lease: rows claimed by a process that died are claimed again when it runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mentornet_spine.db import is_sqlite

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
CLAIM = 200


class LeasedWorker(ABC):
    #: rows with ``id``, ``status`` (pending | sending | …) and ``next_attempt_at``
    table: Table

    def __init__(
        self, engine: AsyncEngine, concurrency: int, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.engine = engine
        self.concurrency = concurrency
        self.now = now
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event, idle_s: float = 0.5) -> None:
        tasks: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            free = self.concurrency - len(tasks)
            if free <= 0:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                claimed = await self._claim(min(CLAIM, free))
            except Exception:
                log.exception("%s: claiming failed; trying again", type(self).__name__)
                claimed = []
            for row in claimed:
                task = asyncio.create_task(self._deliver(row))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if not claimed:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), idle_s)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _claim(self, limit: int) -> list[Any]:
        now, t = self.now(), self.table
        due = (
            select(t.c.id)
            .where(t.c.status.in_(["pending", "sending"]), t.c.next_attempt_at <= now)
            .order_by(t.c.next_attempt_at)
            .limit(limit)
        )
        if not is_sqlite(self.engine):
            due = due.with_for_update(skip_locked=True)
        async with self.engine.begin() as conn:
            ids = list(await conn.scalars(due))
            if not ids:
                return []
            await conn.execute(
                update(t).where(t.c.id.in_(ids)).values(status="sending", next_attempt_at=now + LEASE)
            )
            return await self._load(conn, ids)

    @abstractmethod
    async def _load(self, conn: AsyncConnection, ids: Sequence[Any]) -> list[Any]:
        """The claimed rows with what sending them needs."""

    @abstractmethod
    async def _deliver(self, row: Any) -> None:
        """Send one row and record the outcome."""
