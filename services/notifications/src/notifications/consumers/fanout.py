"""Turns events into messages, once per event and recipient, in the consumer's transaction.

The message's unique key (source event, recipient) and the processed-event ledger committed in
the same transaction make the fan-out exactly once across redeliveries and restarts; a webhook
delivery row is written beside the school's message and sent later by the dispatcher.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from mentornet_events import DomainEvent, Envelope
from mentornet_events.catalogue.programs import PairFormed
from mentornet_events.catalogue.registry import (
    SchoolApplied,
    SchoolConnected,
    SchoolDisconnected,
    SchoolResumed,
    SchoolSuspended,
)
from mentornet_spine.handlers import Scope, TransactionalHandler
from mentornet_spine.upsert import upsert
from notifications.adapters.tables import (
    deliveries,
    emails,
    messages,
    pair_members,
    preferences,
    schools,
    webhooks,
)
from notifications.domain.messages import render
from notifications.domain.preferences import Preference, inbox_state, webhook_wanted
from notifications.domain.rules import Audience, Channel, Rule, rules_by_event

STATUS = {
    SchoolApplied: "applied",
    SchoolConnected: "connected",
    SchoolSuspended: "suspended",
    SchoolResumed: "connected",
    SchoolDisconnected: "disconnected",
}


class FanOut(TransactionalHandler):
    name = "notifications-fanout"
    sources = ("registry", "programs")

    def __init__(self, rules: list[Rule], email: bool = False) -> None:
        self.rules = rules_by_event(rules)
        self.email = email  # an SMTP server is configured
        self.event_types = frozenset({*self.rules, *(cls.__name__ for cls in STATUS), "PairFormed"})

    async def apply(
        self, conn: AsyncConnection, scope: Scope, envelope: Envelope, event: DomainEvent
    ) -> None:
        tenant = envelope.tenant
        if type(event) in STATUS:
            await upsert(
                conn,
                schools,
                [
                    {
                        "code": event.code,  # type: ignore[attr-defined]
                        "region": tenant.region,
                        "municipality": tenant.municipality or "",
                        "status": STATUS[type(event)],
                    }
                ],
                ["code"],
                ["status"],
            )
        if isinstance(event, PairFormed):
            await upsert(
                conn,
                pair_members,
                [
                    {"pair_id": event.pair_id, "participant_id": pid, "side": side}
                    for side, ids in (("mentor", event.mentor_ids), ("mentee", event.mentee_ids))
                    for pid in ids
                ],
                ["pair_id", "participant_id"],
                [],
            )
        for rule in self.rules.get(envelope.type, []):
            await notify(conn, rule, envelope, event, self.email)


async def _people(conn: AsyncConnection, event: DomainEvent, side: str) -> list[str]:
    ids = getattr(event, f"{side}_ids", None)
    if ids is None:
        pair_id = getattr(event, "pair_id", None)
        if pair_id is None:
            return []
        ids = list(
            await conn.scalars(
                select(pair_members.c.participant_id).where(
                    pair_members.c.pair_id == pair_id, pair_members.c.side == side
                )
            )
        )
    return [f"participant:{pid}" for pid in ids]


async def recipients(conn: AsyncConnection, rule: Rule, envelope: Envelope, event: DomainEvent) -> list[str]:
    tenant = envelope.tenant
    found: list[str] = []
    for audience in rule.to:
        if audience is Audience.SCHOOL and tenant.school:
            found.append(f"school:{tenant.school}")
        elif audience is Audience.REGION:
            found.append(f"region:{tenant.region}")
        elif audience is Audience.MUNICIPALITY and tenant.municipality:
            found.append(f"municipality:{tenant.municipality}")
        elif audience is Audience.MENTORS:
            found += await _people(conn, event, "mentor")
        elif audience is Audience.MENTEES:
            found += await _people(conn, event, "mentee")
    return list(dict.fromkeys(found))


async def _preferences(
    conn: AsyncConnection, recipients: list[str], channel: Channel
) -> dict[str, Preference]:
    rows = await conn.execute(
        select(preferences).where(
            preferences.c.recipient.in_(recipients), preferences.c.channel == channel.value
        )
    )
    return {r.recipient: Preference(r.opt_out, r.digest) for r in rows}


async def notify(
    conn: AsyncConnection, rule: Rule, envelope: Envelope, event: DomainEvent, email: bool = False
) -> None:
    message = render(rule.template, event=event, tenant=envelope.tenant)
    now = datetime.now(UTC)
    to = await recipients(conn, rule, envelope, event)
    inbox_prefs = await _preferences(conn, to, Channel.INBOX)
    rows: list[dict[str, Any]] = [
        {
            "id": uuid.uuid5(envelope.event_id, recipient),  # the same message on every redelivery
            "source_id": envelope.event_id,
            "source_type": envelope.type,
            "recipient": recipient,
            "priority": rule.priority.value,
            "subject": message.subject,
            "body": message.body,
            "created_at": now,
            "state": inbox_state(rule.priority, inbox_prefs.get(recipient)),
        }
        for recipient in to
    ]
    await upsert(conn, messages, rows, ["source_id", "recipient"], [])
    if Channel.WEBHOOK in rule.channels:
        hook_prefs = await _preferences(conn, to, Channel.WEBHOOK)
        wanted = [
            r
            for r in rows
            if r["recipient"].startswith("school:")
            and webhook_wanted(rule.priority, hook_prefs.get(r["recipient"]))
        ]
        await queue_webhooks(conn, wanted, now)
    if email and Channel.EMAIL in rule.channels:
        mail_prefs = await _preferences(conn, to, Channel.EMAIL)
        addressable = [
            r
            for r in rows
            if r["recipient"].startswith(("participant:", "school:"))
            and webhook_wanted(rule.priority, mail_prefs.get(r["recipient"]))
        ]
        await queue_emails(conn, addressable, now)


async def queue_emails(conn: AsyncConnection, rows: list[dict[str, Any]], now: datetime) -> None:
    await upsert(
        conn,
        emails,
        [
            {
                "id": uuid.uuid5(r["id"], "email"),
                "message_id": r["id"],
                "recipient": r["recipient"],
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
            }
            for r in rows
        ],
        ["message_id"],
        [],
    )


async def queue_webhooks(conn: AsyncConnection, school_messages: list[dict[str, Any]], now: datetime) -> int:
    """A pending delivery for each school message whose school has a webhook."""
    codes = {r["recipient"].removeprefix("school:") for r in school_messages}
    if not codes:
        return 0
    hooked = set(
        await conn.scalars(select(webhooks.c.school).where(webhooks.c.school.in_(codes), webhooks.c.enabled))
    )
    rows = [
        {
            "id": uuid.uuid5(r["id"], "webhook"),
            "message_id": r["id"],
            "school": code,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
        }
        for r in school_messages
        if (code := r["recipient"].removeprefix("school:")) in hooked
    ]
    await upsert(conn, deliveries, rows, ["message_id"], [])
    return len(rows)
