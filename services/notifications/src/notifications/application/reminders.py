"""The daily check behind the scheduled rules: due soon, still overdue, a meeting without its form.

Each reminder's source id is derived from the item or meeting and its date, so the message unique
key makes it arrive once however often the check runs (and whichever replica runs it).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from notifications.adapters.tables import items, meetings
from notifications.application.delivery import deliver, pair_people
from notifications.domain.messages import render
from notifications.domain.rules import Audience, Rule


class Reminders:
    def __init__(self, engine: AsyncEngine, rules: list[Rule], email: bool = False) -> None:
        self.engine = engine
        self.rules = {r.event: r for r in rules if r.days is not None}
        self.email = email

    async def run_once(self, today: date) -> int:
        sent = 0
        if rule := self.rules.get("RoadmapItemDueSoon"):
            sent += await self._due_soon(rule, today)
        if rule := self.rules.get("RoadmapItemStillOverdue"):
            sent += await self._still_overdue(rule, today)
        if rule := self.rules.get("MeetingFeedbackMissing"):
            sent += await self._feedback_missing(rule, today)
        return sent

    async def _due_soon(self, rule: Rule, today: date) -> int:
        assert rule.days is not None
        async with self.engine.connect() as conn:
            due = list(
                await conn.execute(
                    select(items).where(
                        ~items.c.completed,
                        items.c.due_on >= today,
                        items.c.due_on <= today + timedelta(days=rule.days),
                    )
                )
            )
        for item in due:
            async with self.engine.begin() as conn:
                to = [p for side in _sides(rule) for p in await pair_people(conn, item.pair_id, side)]
                message = render(rule.template, due_on=item.due_on, today=today)
                source = uuid.uuid5(item.item_id, f"due-soon/{item.due_on}")
                await deliver(conn, rule, source, rule.event, to, message, self.email)
        return len(due)

    async def _still_overdue(self, rule: Rule, today: date) -> int:
        assert rule.days is not None
        async with self.engine.connect() as conn:
            late = list(
                await conn.execute(
                    select(items).where(
                        ~items.c.completed, items.c.overdue_since <= today - timedelta(days=rule.days)
                    )
                )
            )
        for item in late:
            async with self.engine.begin() as conn:
                message = render(rule.template, due_on=item.due_on, days=rule.days)
                source = uuid.uuid5(item.item_id, f"still-overdue/{item.due_on}")
                await deliver(conn, rule, source, rule.event, [f"school:{item.school}"], message, self.email)
        return len(late)

    async def _feedback_missing(self, rule: Rule, today: date) -> int:
        assert rule.days is not None
        async with self.engine.connect() as conn:
            held = list(
                await conn.execute(
                    select(meetings).where(
                        meetings.c.held_on <= today - timedelta(days=rule.days),
                        or_(~meetings.c.mentor_form, ~meetings.c.mentee_form),
                        and_(meetings.c.held_on >= today - timedelta(days=90)),  # old ones are history
                    )
                )
            )
        for meeting in held:
            owing = [s for s in _sides(rule) if not getattr(meeting, f"{s}_form")]
            async with self.engine.begin() as conn:
                to = [p for side in owing for p in await pair_people(conn, meeting.pair_id, side)]
                message = render(rule.template, held_on=meeting.held_on)
                source = uuid.uuid5(meeting.meeting_id, "feedback-missing")
                await deliver(conn, rule, source, rule.event, to, message, self.email)
        return len(held)


def _sides(rule: Rule) -> list[str]:
    return [
        side
        for side, audience in (("mentor", Audience.MENTORS), ("mentee", Audience.MENTEES))
        if audience in rule.to
    ]
