"""Use cases of the notifications service: inboxes, school webhooks, broadcasts, the delivery log."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from mentornet_auth import AccessDenied, Principal, Role
from mentornet_events import Tenant
from mentornet_spine.db import statement_reads
from mentornet_spine.errors import DomainError, InvalidCommand
from mentornet_spine.http import NotFound
from mentornet_spine.upsert import upsert
from mentornet_spine.validation import Code, Strict
from notifications.adapters.tables import broadcasts, deliveries, messages, preferences, schools, webhooks
from notifications.application.delivery import queue_webhooks
from notifications.domain.messages import render

SCHOOL_STAFF = (Role.SCHOOL, Role.SCHOOL_CURATOR)
DIGESTS = uuid.UUID("6d3f3c1e-5b7a-4f7e-9a51-0d1f2c3b4a59")  # namespace of digest ids


class WebhookIn(Strict):
    url: str = Field(
        pattern=r"^https?://[^\s]{1,1990}$", max_length=2000, description="Адрес, принимающий POST с JSON"
    )


class PreferenceIn(Strict):
    channel: Literal["inbox", "webhook", "email"]
    opt_out: bool = Field(default=False, description="Не получать необязательные сообщения")
    digest: bool = Field(default=False, description="Второстепенные — раз в день одной сводкой")


class BroadcastIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1, max_length=10_000)
    municipality: Code | None = Field(default=None, description="Только этому муниципалитету")


def inboxes(principal: Principal) -> list[str]:
    """The inboxes a caller reads: a person's own, a school's, an operator's level."""
    if principal.role in (Role.MENTOR, Role.MENTEE):
        return [f"participant:{principal.participant_id}"] if principal.participant_id else []
    if principal.role in SCHOOL_STAFF and principal.school:
        return [f"school:{principal.school}"]
    if principal.role is Role.MUNICIPAL_OPERATOR and principal.municipality:
        return [f"municipality:{principal.municipality}"]
    if principal.role is Role.REGIONAL_OPERATOR:
        return [f"region:{principal.region}"]
    return []


@dataclass(frozen=True)
class WebhookSet:
    """The endpoint saved, with its secret shown this once and how deliveries are signed."""

    url: str
    secret: str
    signature: str = "X-MentorNet-Signature: v1=HMAC-SHA256(secret, timestamp + '.' + body)"


@dataclass(frozen=True)
class BroadcastSent:
    id: UUID
    schools: int
    webhooks: int


class Notifications:
    def __init__(self, engine: AsyncEngine, wake_dispatcher: Callable[[], None] | None = None) -> None:
        self.engine = engine
        self.reads = statement_reads(engine)
        self.wake_dispatcher = wake_dispatcher or (lambda: None)

    # -- inbox ----------------------------------------------------------------------------

    async def inbox(
        self, principal: Principal, unread_only: bool = False, limit: int = 50
    ) -> list[dict[str, Any]]:
        query = select(messages).where(
            messages.c.recipient.in_(inboxes(principal)), messages.c.state == "shown"
        )
        if unread_only:
            query = query.where(messages.c.read_at.is_(None))
        async with self.reads.connect() as conn:
            rows = await conn.execute(query.order_by(messages.c.created_at.desc()).limit(limit))
            return [dict(r._mapping) for r in rows]

    async def unread(self, principal: Principal) -> int:
        async with self.reads.connect() as conn:
            count = await conn.scalar(
                select(func.count()).where(
                    messages.c.recipient.in_(inboxes(principal)),
                    messages.c.read_at.is_(None),
                    messages.c.state == "shown",
                )
            )
        return int(count or 0)

    async def mark_read(self, principal: Principal, message_id: UUID) -> None:
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(messages)
                .where(messages.c.id == message_id, messages.c.recipient.in_(inboxes(principal)))
                .values(read_at=func.coalesce(messages.c.read_at, datetime.now(UTC)))
            )
        if done.rowcount == 0:
            raise NotFound(f"Сообщение {message_id} не найдено")

    # -- preferences and the daily digest ------------------------------------------------

    async def preferences(self, principal: Principal) -> list[dict[str, Any]]:
        async with self.reads.connect() as conn:
            rows = await conn.execute(
                select(preferences).where(preferences.c.recipient.in_(inboxes(principal)))
            )
            return [dict(r._mapping) for r in rows]

    async def set_preference(self, principal: Principal, data: PreferenceIn) -> None:
        own = inboxes(principal)
        if not own:
            raise AccessDenied("Настройки уведомлений есть у людей и организаций")
        if data.channel == "webhook" and not own[0].startswith("school:"):
            raise InvalidCommand("Адрес для уведомлений есть только у организации", "channel")
        async with self.engine.begin() as conn:
            await upsert(
                conn,
                preferences,
                [
                    {
                        "recipient": own[0],
                        "channel": data.channel,
                        "opt_out": data.opt_out,
                        "digest": data.digest,
                    }
                ],
                ["recipient", "channel"],
                ["opt_out", "digest"],
            )

    async def make_digests(self, day: date | None = None) -> int:
        """One digest per recipient and day of the low-priority messages held for it (once)."""
        day = day or datetime.now(UTC).date()
        now = datetime.now(UTC)
        made = 0
        async with self.engine.begin() as conn:
            held = list(
                await conn.execute(
                    select(messages.c.id, messages.c.recipient, messages.c.subject)
                    .where(messages.c.state == "digest")
                    .order_by(messages.c.recipient, messages.c.created_at)
                )
            )
            by_recipient: dict[str, list[Any]] = {}
            for row in held:
                by_recipient.setdefault(row.recipient, []).append(row)
            for recipient, rows in by_recipient.items():
                digest = render("digest", day=day, items=[r.subject for r in rows])
                source = uuid.uuid5(DIGESTS, f"{recipient}/{day.isoformat()}")
                await upsert(
                    conn,
                    messages,
                    [
                        {
                            "id": uuid.uuid5(source, recipient),
                            "source_id": source,
                            "source_type": "Digest",
                            "recipient": recipient,
                            "priority": "low",
                            "subject": digest.subject,
                            "body": digest.body,
                            "created_at": now,
                            "state": "shown",
                        }
                    ],
                    ["source_id", "recipient"],
                    [],
                )
                await conn.execute(
                    update(messages).where(messages.c.id.in_([r.id for r in rows])).values(state="digested")
                )
                made += 1
        return made

    # -- a school's own system ------------------------------------------------------------

    async def _school(self, principal: Principal, code: str) -> Any:
        async with self.reads.connect() as conn:
            row = (await conn.execute(select(schools).where(schools.c.code == code))).one_or_none()
        tenant = (
            Tenant(region=row.region, municipality=row.municipality or None, school=code) if row else None
        )
        if tenant is None or principal.role in (Role.MENTOR, Role.MENTEE) or not principal.can_access(tenant):
            raise NotFound(f"Организация {code} не найдена")
        return row

    async def set_webhook(self, principal: Principal, code: str, data: WebhookIn) -> WebhookSet:
        """The school's system registers its endpoint; the signing secret is shown this once."""
        await self._school(principal, code)
        principal.require_role(*SCHOOL_STAFF)
        secret = secrets.token_urlsafe(32)
        async with self.engine.begin() as conn:
            await upsert(
                conn,
                webhooks,
                [
                    {
                        "school": code,
                        "url": data.url,
                        "secret": secret,
                        "failures": 0,
                        "open_until": None,
                        "enabled": True,
                    }
                ],
                ["school"],
                ["url", "secret", "failures", "open_until", "enabled"],
            )
        return WebhookSet(data.url, secret)

    async def webhook(self, principal: Principal, code: str) -> dict[str, Any]:
        """The endpoint and its circuit (never the secret)."""
        await self._school(principal, code)
        async with self.reads.connect() as conn:
            row = (await conn.execute(select(webhooks).where(webhooks.c.school == code))).one_or_none()
        if row is None:
            raise NotFound(f"У организации {code} нет адреса для уведомлений")
        now = datetime.now(UTC)
        circuit = "open" if row.open_until and row.open_until > now else "closed"
        return {
            "url": row.url,
            "enabled": row.enabled,
            "failures": row.failures,
            "open_until": row.open_until,
            "circuit": circuit,
        }

    async def delivery_log(self, principal: Principal, code: str, limit: int = 100) -> list[dict[str, Any]]:
        """Was this school told, when, and did it succeed."""
        await self._school(principal, code)
        async with self.reads.connect() as conn:
            rows = await conn.execute(
                select(
                    messages.c.id,
                    messages.c.source_type,
                    messages.c.subject,
                    messages.c.created_at,
                    messages.c.read_at,
                    deliveries.c.status.label("webhook_status"),
                    deliveries.c.attempts.label("webhook_attempts"),
                    deliveries.c.sent_at.label("webhook_sent_at"),
                    deliveries.c.last_error.label("webhook_error"),
                )
                .outerjoin(deliveries, deliveries.c.message_id == messages.c.id)
                .where(messages.c.recipient == f"school:{code}")
                .order_by(messages.c.created_at.desc())
                .limit(limit)
            )
            return [dict(r._mapping) for r in rows]

    # -- broadcasts -----------------------------------------------------------------------

    async def broadcast(self, principal: Principal, data: BroadcastIn) -> BroadcastSent:
        """To every connected school in the caller's scope: each school's message and webhook once."""
        if principal.role is Role.MUNICIPAL_OPERATOR:
            if data.municipality not in (None, principal.municipality):
                raise AccessDenied("Муниципальный оператор пишет только своим организациям")
            municipality = principal.municipality
        elif principal.role is Role.REGIONAL_OPERATOR:
            municipality = data.municipality
        else:
            raise AccessDenied("Рассылку отправляет региональный или муниципальный оператор")
        broadcast_id = uuid.uuid4()
        message = render("broadcast", title=data.title, text=data.text)
        now = datetime.now(UTC)
        query = select(schools.c.code).where(
            schools.c.region == principal.region, schools.c.status == "connected"
        )
        if municipality:
            query = query.where(schools.c.municipality == municipality)
        async with self.engine.begin() as conn:
            codes = list(await conn.scalars(query))
            if not codes:
                raise DomainError("В выбранном круге нет подключённых организаций")
            await conn.execute(
                insert(broadcasts).values(
                    id=broadcast_id,
                    author=principal.subject,
                    region=principal.region,
                    municipality=municipality,
                    title=data.title,
                    schools=len(codes),
                    created_at=now,
                )
            )
            rows = [
                {
                    "id": uuid.uuid5(broadcast_id, code),
                    "source_id": broadcast_id,
                    "source_type": "Broadcast",
                    "recipient": f"school:{code}",
                    "priority": "mandatory",
                    "subject": message.subject,
                    "body": message.body,
                    "created_at": now,
                    "state": "shown",
                }
                for code in codes
            ]
            await upsert(conn, messages, rows, ["source_id", "recipient"], [])
            webhooks_queued = await queue_webhooks(conn, rows, now)
        self.wake_dispatcher()
        return BroadcastSent(broadcast_id, len(codes), webhooks_queued)

    async def broadcast_status(self, principal: Principal, broadcast_id: UUID) -> dict[str, Any]:
        async with self.reads.connect() as conn:
            row = (
                await conn.execute(select(broadcasts).where(broadcasts.c.id == broadcast_id))
            ).one_or_none()
            if (
                row is None
                or row.region != principal.region
                or (principal.role is Role.MUNICIPAL_OPERATOR and row.municipality != principal.municipality)
                or principal.role not in (Role.REGIONAL_OPERATOR, Role.MUNICIPAL_OPERATOR)
            ):
                raise NotFound(f"Рассылка {broadcast_id} не найдена")
            per_school = await conn.execute(
                select(messages.c.recipient, messages.c.read_at, deliveries.c.status, deliveries.c.attempts)
                .outerjoin(deliveries, deliveries.c.message_id == messages.c.id)
                .where(messages.c.source_id == broadcast_id)
                .order_by(messages.c.recipient)
            )
            schools_status = [
                {
                    "school": r.recipient.removeprefix("school:"),
                    "inbox": "read" if r.read_at else "delivered",
                    "webhook": r.status,
                    "attempts": r.attempts,
                }
                for r in per_school
            ]
        return {**dict(row._mapping), "deliveries": schools_status}
