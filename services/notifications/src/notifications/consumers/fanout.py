"""Turns events into messages, once per event and recipient, in the consumer's transaction.

Only the translation lives here: what an event tells is remembered (application.memory) and each
of its rules delivered (application.delivery). The message's unique key (source event, recipient)
and the processed-event ledger committed in the same transaction make the fan-out exactly once
across redeliveries and restarts.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from mentornet_events import DomainEvent, Envelope
from mentornet_spine.handlers import Scope, TransactionalHandler
from notifications.application.delivery import notify
from notifications.application.memory import REMEMBERED, remember
from notifications.domain.rules import Rule, rules_by_event


class FanOut(TransactionalHandler):
    name = "notifications-fanout"
    sources = ("registry", "programs", "monitoring")

    def __init__(self, rules: list[Rule], email: bool = False) -> None:
        self.rules = rules_by_event(rules)
        self.email = email  # an SMTP server is configured
        self.event_types = frozenset({*self.rules, *REMEMBERED})

    async def apply(
        self, conn: AsyncConnection, scope: Scope, envelope: Envelope, event: DomainEvent
    ) -> None:
        await remember(conn, envelope, event)
        for rule in self.rules.get(envelope.type, []):
            await notify(conn, rule, envelope, event, self.email)
