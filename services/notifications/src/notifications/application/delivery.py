"""Delivers a message: once per source and recipient, with its webhook and e-mail rows beside it.

The message's unique key (source, recipient) makes a delivery exactly once across redeliveries,
restarts and repeated reminder runs; a webhook or e-mail delivery row is written beside the
message in the same transaction and sent later by the dispatcher or the mailer.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from mentornet_events import DomainEvent, Envelope
from mentornet_spine.upsert import upsert
from notifications.adapters.tables import deliveries, emails, messages, pair_members, preferences, webhooks
from notifications.domain.messages import Message, render
from notifications.domain.preferences import Preference, inbox_state, webhook_wanted
from notifications.domain.rules import Audience, Channel, Rule


async def pair_people(conn: AsyncConnection, pair_id: Any, side: str) -> list[str]:
    ids = await conn.scalars(
        select(pair_members.c.participant_id).where(
            pair_members.c.pair_id == pair_id, pair_members.c.side == side
        )
    )
    return [f"participant:{pid}" for pid in ids]


async def _people(conn: AsyncConnection, event: DomainEvent, side: str) -> list[str]:
    ids = getattr(event, f"{side}_ids", None)
    if ids is not None:
        return [f"participant:{pid}" for pid in ids]
    pair_id = getattr(event, "pair_id", None)
    return [] if pair_id is None else await pair_people(conn, pair_id, side)


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
    to = await recipients(conn, rule, envelope, event)
    await deliver(conn, rule, envelope.event_id, envelope.type, to, message, email)


async def deliver(
    conn: AsyncConnection,
    rule: Rule,
    source_id: uuid.UUID,
    source_type: str,
    to: list[str],
    message: Message,
    email: bool = False,
) -> None:
    """A message per recipient, once per source (the unique key), and its outbound deliveries."""
    now = datetime.now(UTC)
    inbox_prefs = await _preferences(conn, to, Channel.INBOX)
    rows: list[dict[str, Any]] = [
        {
            "id": uuid.uuid5(source_id, recipient),  # the same message on every redelivery
            "source_id": source_id,
            "source_type": source_type,
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
