"""The monitoring service's tables: the facts the projection keeps, one generation per suffix.

``monitoring.consumers.facts`` fills them from the registry's and the programs service's events;
``monitoring.application`` reads them (the live generation's, through the projection's scope).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Uuid,
)

from mentornet_events.vocabulary import EvaluationLevel
from mentornet_spine.projection import Tables

#: the feedback forms a meeting has, as bits: both sides' = 3
FORMS = {"mentor": 1, "mentee": 2}
BOTH_FORMS = 3

#: the positions' row counting the deliveries the facts have taken (no stream has this name)
CHANGES = "*"


def define_tables(metadata: MetaData, suffix: str) -> Tables:
    """The facts' tables of one generation of the projection, each name ending in ``suffix``."""

    def table(name: str, *columns: Column[Any] | Index) -> Table:
        return Table(f"monitoring_{name}{suffix}", metadata, *columns)

    return {
        # the public names of municipalities and schools, for the reports (not personal data)
        "names": table(
            "names",
            Column("kind", String(12), primary_key=True),  # municipality | school
            Column("code", String(32), primary_key=True),
            Column("region", String(32), nullable=False),
            Column("name", String(500), nullable=False),
            Column("name_v", Integer, nullable=False),
        ),
        "schools": table(
            "schools",
            Column("code", String(32), primary_key=True),
            Column("region", String(32), nullable=False),
            Column("municipality", String(32), nullable=False),
            Column("status", String(20)),
            Column("status_v", Integer, nullable=False),
            Column("teachers", Integer),
            Column("students", Integer),
            Column("counts_v", Integer, nullable=False),
        ),
        "participants": table(
            "participants",
            Column("id", Uuid, primary_key=True),
            Column("region", String(32), nullable=False),
            Column("municipality", String(32), nullable=False, index=True),
            Column("school", String(32), nullable=False, index=True),
            Column("role", String(20)),
            Column("mentor", Boolean, nullable=False),
            Column("mentor_v", Integer, nullable=False),
            Column("mentee", Boolean, nullable=False),
            Column("mentee_v", Integer, nullable=False),
            Column("mentor_on", Date),
            Column("mentee_on", Date),
            Column("competencies", Integer, nullable=False),
            Column("deficits", Integer, nullable=False),
            Column("max_mentees", SmallInteger),
            Column("young_specialist", Boolean, nullable=False),
            Column("attrs_v", Integer, nullable=False),
            Column("erased", Boolean, nullable=False),
        ),
        "pairs": table(
            "pairs",
            Column("id", Uuid, primary_key=True),
            Column("programme_id", Uuid, nullable=False),
            Column("region", String(32), nullable=False),
            Column("municipality", String(32), nullable=False, index=True),
            Column("school", String(32), nullable=False, index=True),
            Column("form", String(40), nullable=False),
            Column("formed_on", Date, nullable=False),
        ),
        "members": table(
            "pair_members",
            Column("pair_id", Uuid, primary_key=True),
            Column("participant_id", Uuid, primary_key=True, index=True),
            Column("side", String(10), nullable=False),
        ),
        "ends": table(
            "pair_ends",
            Column("pair_id", Uuid, primary_key=True),
            Column("kind", String(10), nullable=False),  # dissolved | completed
            Column("ended_on", Date, nullable=False),
            Column("reason", String(40)),
        ),
        "roadmaps": table(
            "roadmaps",
            Column("pair_id", Uuid, primary_key=True),
            Column("revision", Integer, nullable=False),
        ),
        "items": table(
            "roadmap_items",
            Column("pair_id", Uuid, primary_key=True),
            Column("item_id", Uuid, primary_key=True),
            Column("revision", Integer, primary_key=True),
            Column("due_on", Date),
        ),
        "done": table(
            "items_done",
            Column("item_id", Uuid, primary_key=True),
            Column("pair_id", Uuid, nullable=False, index=True),
            Column("completed_on", Date, nullable=False),
        ),
        "overdue": table(
            "items_overdue",
            Column("item_id", Uuid, primary_key=True),
            Column("due_on", Date, primary_key=True),
            Column("pair_id", Uuid, nullable=False, index=True),
            Column("detected_on", Date, nullable=False),
        ),
        # a meeting, and which sides' feedback forms exist for it (bits: FORMS); a form that
        # comes first leaves a row without a date, which the meeting's own event completes
        "meetings": table(
            "meetings",
            Column("id", Uuid, primary_key=True),
            Column("pair_id", Uuid, nullable=False),
            Column("held_on", Date),
            Column("forms", SmallInteger, nullable=False),
            Index(f"ix_monitoring_meetings{suffix}_pair_id_held_on", "pair_id", "held_on"),
        ),
        "feedback": table(
            "feedback",
            Column("meeting_id", Uuid, primary_key=True),
            Column("role", String(10), primary_key=True),
            Column("pair_id", Uuid, nullable=False, index=True),
            Column("submitted_on", Date, nullable=False),
            *(Column(level.value, SmallInteger, nullable=False) for level in EvaluationLevel),
            Column("wants_to_become_mentor", Boolean, nullable=False),
        ),
        "positions": table(
            "positions",
            Column("stream", String(200), primary_key=True),
            Column("sequence", Integer, nullable=False),
        ),
    }
