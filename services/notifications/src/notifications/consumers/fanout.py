"""Turns events into messages, once per event and recipient, in the consumer's transaction.

The message's unique key (source event, recipient) and the processed-event ledger committed in
the same transaction make the fan-out exactly once across redeliveries and restarts; a webhook
delivery row is written beside the school's message and sent later by the dispatcher.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from mentornet_events import DomainEvent, Envelope
from mentornet_events.catalogue.programs import (
    FeedbackSubmitted,
    MeetingHeld,
    PairFormed,
    RoadmapItemCompleted,
    RoadmapItemOverdue,
    RoadmapSet,
)
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
    items,
    meetings,
    messages,
    pair_members,
    preferences,
    schools,
    webhooks,
)
from notifications.domain.messages import Message, render
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
    sources = ("registry", "programs", "monitoring")

    def __init__(self, rules: list[Rule], email: bool = False) -> None:
        self.rules = rules_by_event(rules)
        self.email = email  # an SMTP server is configured
        remembered = {"PairFormed", "RoadmapSet", "RoadmapItemCompleted", "RoadmapItemOverdue", "MeetingHeld"}
        self.event_types = frozenset(
            {*self.rules, *(cls.__name__ for cls in STATUS), *remembered, "FeedbackSubmitted"}
        )

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
        await _remember(conn, envelope, event)
        for rule in self.rules.get(envelope.type, []):
            await notify(conn, rule, envelope, event, self.email)


async def _remember(conn: AsyncConnection, envelope: Envelope, event: DomainEvent) -> None:
    """What the scheduled reminders look at: roadmap items and their dates, meetings and their forms."""
    place = {"school": envelope.tenant.school or "", "municipality": envelope.tenant.municipality or ""}
    if isinstance(event, RoadmapSet):
        await upsert(
            conn,
            items,
            [
                {
                    "item_id": i.item_id,
                    "pair_id": event.pair_id,
                    "due_on": i.due_on,
                    "revision": event.revision,
                    "completed": False,
                    **place,
                }
                for i in event.items
            ],
            ["item_id"],
            ["due_on", "revision"],
            newer="revision",
        )
    elif isinstance(event, RoadmapItemCompleted):
        await conn.execute(update(items).where(items.c.item_id == event.item_id).values(completed=True))
    elif isinstance(event, RoadmapItemOverdue):
        await conn.execute(
            update(items).where(items.c.item_id == event.item_id).values(overdue_since=event.detected_on)
        )
    elif isinstance(event, MeetingHeld):
        row = {"meeting_id": event.meeting_id, "pair_id": event.pair_id, "held_on": event.held_on, **place}
        await upsert(
            conn, meetings, [{**row, "mentor_form": False, "mentee_form": False}], ["meeting_id"], []
        )
    elif isinstance(event, FeedbackSubmitted):
        column = "mentor_form" if event.respondent_role == "mentor" else "mentee_form"
        await conn.execute(
            update(meetings).where(meetings.c.meeting_id == event.meeting_id).values(**{column: True})
        )


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
