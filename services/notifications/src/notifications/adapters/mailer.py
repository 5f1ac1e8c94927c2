"""Sends pending e-mails over SMTP, each address asked from the registry just before sending."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from notifications.adapters.directory import RegistryDirectory
from notifications.adapters.tables import emails, messages
from notifications.adapters.worker import LeasedWorker
from notifications.domain.webhooks import DeliveryPolicy, retry_delay


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "MentorNet <noreply@mentornet.local>"
    username: str | None = None
    password: str | None = None
    starttls: bool = False


class Mailer(LeasedWorker):
    table = emails

    def __init__(
        self,
        engine: AsyncEngine,
        smtp: SmtpSettings,
        directory: RegistryDirectory,
        concurrency: int = 10,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        policy: DeliveryPolicy | None = None,
    ) -> None:
        super().__init__(engine, concurrency, now)
        self.smtp = smtp
        self.directory = directory
        self.policy = policy or DeliveryPolicy()

    async def _load(self, conn: AsyncConnection, ids: Sequence[Any]) -> list[Any]:
        rows = list(
            await conn.execute(
                select(
                    emails.c.id, emails.c.attempts, emails.c.recipient, messages.c.subject, messages.c.body
                )
                .join(messages, messages.c.id == emails.c.message_id)
                .where(emails.c.id.in_(ids))
            )
        )
        try:
            found = await self.directory.addresses([r.recipient for r in rows])
        except Exception as error:  # the registry is away: all of them try again later
            for row in rows:
                await self._failed(row, f"реестр недоступен: {error!r}"[:400])
            return []
        return [(row, found.get(row.recipient)) for row in rows]

    async def _deliver(self, claimed: Any) -> None:
        row, address = claimed
        if not address:
            await self._record(row.id, "no_address", row.attempts, None, "в реестре нет адреса")
            return
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = address
        message["Subject"] = row.subject
        message.set_content(row.body)
        try:
            await asyncio.to_thread(self._send, message)
        except (OSError, smtplib.SMTPException) as error:
            await self._failed(row, f"{type(error).__name__}: {error}"[:400])
            return
        await self._record(row.id, "sent", row.attempts + 1, None, None, sent=True)

    def _send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=10) as client:
            if self.smtp.starttls:
                client.starttls()
            if self.smtp.username and self.smtp.password:
                client.login(self.smtp.username, self.smtp.password)
            client.send_message(message)

    async def _failed(self, row: Any, error: str) -> None:
        attempts = row.attempts + 1
        if attempts >= self.policy.max_attempts:
            await self._record(row.id, "dead", attempts, None, f"после {attempts} попыток: {error}")
        else:
            retry_at = self.now() + timedelta(seconds=retry_delay(attempts, self.policy))
            await self._record(row.id, "pending", attempts, retry_at, error)

    async def _record(
        self,
        email_id: Any,
        status: str,
        attempts: int,
        next_at: datetime | None,
        error: str | None,
        sent: bool = False,
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(emails)
                .where(emails.c.id == email_id)
                .values(
                    status=status,
                    attempts=attempts,
                    next_attempt_at=next_at or self.now(),
                    last_error=error,
                    sent_at=self.now() if sent else None,
                )
            )
