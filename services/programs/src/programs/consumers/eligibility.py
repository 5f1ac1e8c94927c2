"""Who may be matched and paired, kept from the registry's events only (never its database)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from mentornet_events import DomainEvent, Envelope
from mentornet_events.catalogue.registry import (
    ConsentGiven,
    ConsentWithdrawn,
    MenteeRegistered,
    MentorRegistered,
    ParticipantErased,
    ParticipantProfileUpdated,
)
from mentornet_events.vocabulary import BaseKind
from mentornet_spine.handlers import Scope, TransactionalHandler
from programs.adapters.tables import eligible

MENTOR_FIELDS = (
    "subjects",
    "experience_band",
    "qualification",
    "competencies",
    "hours_per_month",
    "max_mentees",
)
MENTEE_FIELDS = ("subjects", "experience_band", "young_specialist", "grade", "deficits", "desired_form")


class EligibilityHandler(TransactionalHandler):
    name = "programs-eligibility"
    sources = ("registry",)
    event_types = frozenset(
        {
            "MentorRegistered",
            "MenteeRegistered",
            "ParticipantProfileUpdated",
            "ConsentGiven",
            "ConsentWithdrawn",
            "ParticipantErased",
        }
    )

    async def apply(
        self, conn: AsyncConnection, scope: Scope, envelope: Envelope, event: DomainEvent
    ) -> None:
        participant_id = event.participant_id  # type: ignore[attr-defined]
        row = (await conn.execute(select(eligible).where(eligible.c.id == participant_id))).one_or_none()
        if isinstance(event, MentorRegistered | MenteeRegistered):
            side = "mentor" if isinstance(event, MentorRegistered) else "mentee"
            attributes = event.model_dump(mode="json", exclude={"participant_id", "role"})
            if row is None:
                tenant = envelope.tenant
                await conn.execute(
                    insert(eligible).values(
                        id=participant_id,
                        region=tenant.region,
                        municipality=tenant.municipality or "",
                        school=tenant.school or "",
                        role=event.role.value,
                        mentor=attributes if side == "mentor" else None,
                        mentee=attributes if side == "mentee" else None,
                        # entering a base records consent; a ConsentGiven event follows as well
                        mentor_consent=side == "mentor",
                        mentee_consent=side == "mentee",
                        erased=False,
                    )
                )
            else:
                await self._set(conn, participant_id, **{side: attributes, f"{side}_consent": True})
            return
        if row is None:
            raise LookupError(f"participant {participant_id} is not known here yet")
        if isinstance(event, ParticipantProfileUpdated):
            changes = event.model_dump(mode="json", exclude={"participant_id"}, exclude_none=True)
            values: dict[str, Any] = {}
            for side, fields in (("mentor", MENTOR_FIELDS), ("mentee", MENTEE_FIELDS)):
                current = getattr(row, side)
                if current is not None:
                    values[side] = dict(current) | {k: v for k, v in changes.items() if k in fields}
            await self._set(conn, participant_id, **values)
        elif isinstance(event, ConsentGiven):
            await self._set(conn, participant_id, **{f"{event.base.value}_consent": True})
        elif isinstance(event, ConsentWithdrawn):
            side = "mentor" if event.base is BaseKind.MENTOR else "mentee"
            await self._set(conn, participant_id, **{side: None, f"{side}_consent": False})
        elif isinstance(event, ParticipantErased):
            await self._set(
                conn,
                participant_id,
                erased=True,
                mentor=None,
                mentee=None,
                mentor_consent=False,
                mentee_consent=False,
            )

    @staticmethod
    async def _set(conn: AsyncConnection, participant_id: Any, **values: Any) -> None:
        await conn.execute(update(eligible).where(eligible.c.id == participant_id).values(**values))
