"""Sends pending webhook deliveries: signed, retried with backoff and jitter, a circuit per endpoint.

Receivers get ``Idempotency-Key`` = the message id, so the rare resend after a crash between
sending and recording is recognisable.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from notifications.adapters.tables import deliveries, messages, webhooks
from notifications.adapters.worker import LeasedWorker
from notifications.domain.webhooks import Circuit, DeliveryPolicy, retry_delay, signature

log = logging.getLogger(__name__)


class Dispatcher(LeasedWorker):
    table = deliveries

    def __init__(
        self,
        engine: AsyncEngine,
        client: httpx.AsyncClient | None = None,
        concurrency: int = 100,
        timeout_s: float = 5.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        policy: DeliveryPolicy | None = None,
    ) -> None:
        super().__init__(engine, concurrency, now)
        self.policy = policy or DeliveryPolicy()
        # as many kept-alive connections as sends in flight (httpx keeps 20 by default)
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self.client = client or httpx.AsyncClient(timeout=timeout_s, limits=limits)
        self._circuits: dict[str, Circuit] = {}

    async def _load(self, conn: AsyncConnection, ids: Sequence[Any]) -> list[Any]:
        rows = await conn.execute(
            select(
                deliveries.c.id,
                deliveries.c.attempts,
                deliveries.c.school,
                messages.c.id.label("message_id"),
                messages.c.source_type,
                messages.c.subject,
                messages.c.body,
                messages.c.created_at,
                webhooks.c.url,
                webhooks.c.secret,
                webhooks.c.failures,
                webhooks.c.open_until,
            )
            .join(messages, messages.c.id == deliveries.c.message_id)
            .join(webhooks, webhooks.c.school == deliveries.c.school)
            .where(deliveries.c.id.in_(ids))
        )
        return list(rows)

    def _circuit(self, row: Any) -> Circuit:
        return self._circuits.get(row.school) or Circuit(row.failures, row.open_until)

    async def _deliver(self, row: Any) -> None:
        now = self.now()
        circuit = self._circuit(row)
        if not circuit.allows(now):
            assert circuit.open_until is not None
            await self._record(
                row, "pending", row.attempts, circuit.open_until, "цепь разомкнута: адрес недоступен"
            )
            return
        body = json.dumps(
            {
                "message_id": str(row.message_id),
                "type": row.source_type,
                "school": row.school,
                "subject": row.subject,
                "body": row.body,
                "created_at": row.created_at.isoformat(),
            },
            ensure_ascii=False,
        ).encode()
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-MentorNet-Timestamp": str(stamp),
            "X-MentorNet-Signature": signature(row.secret, stamp, body),
            "Idempotency-Key": str(row.message_id),
        }
        error = None
        try:
            answer = await self.client.post(row.url, content=body, headers=headers)
            if answer.status_code >= 300:
                error = f"HTTP {answer.status_code}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:400]
        attempts = row.attempts + 1
        if error is None:
            self._circuits[row.school] = circuit.after_success()
            await self._record(row, "sent", attempts, now, None, sent=True)
        elif attempts >= self.policy.max_attempts:
            self._circuits[row.school] = circuit.after_failure(now, self.policy)
            await self._record(row, "dead", attempts, now, f"после {attempts} попыток: {error}")
        else:
            self._circuits[row.school] = circuit.after_failure(now, self.policy)
            retry_at = now + timedelta(seconds=retry_delay(attempts, self.policy))
            await self._record(row, "pending", attempts, retry_at, error)

    async def _record(
        self, row: Any, status: str, attempts: int, next_at: datetime, error: str | None, sent: bool = False
    ) -> None:
        circuit = self._circuit(row)
        async with self.engine.begin() as conn:
            await conn.execute(
                update(deliveries)
                .where(deliveries.c.id == row.id)
                .values(
                    status=status,
                    attempts=attempts,
                    next_attempt_at=next_at,
                    last_error=error,
                    sent_at=self.now() if sent else None,
                )
            )
            await conn.execute(
                update(webhooks)
                .where(webhooks.c.school == row.school)
                .values(failures=circuit.failures, open_until=circuit.open_until)
            )

    async def close(self) -> None:
        await self.client.aclose()
