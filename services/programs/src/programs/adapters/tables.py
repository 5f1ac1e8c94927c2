"""The programs service's own tables: read models kept in the command's transaction, texts, eligibility."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, Integer, MetaData, String, Table, Uuid

from mentornet_spine.idempotency import idempotency_table

metadata = MetaData()

#: participants as the registry's events describe them (pseudonymous ids, matching attributes)
eligible = Table(
    "programs_eligible",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("region", String(32), nullable=False),
    Column("municipality", String(32), nullable=False, index=True),
    Column("school", String(32), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("mentor", JSON),  # attributes of the mentor base entry, None when not in it
    Column("mentee", JSON),
    Column("mentor_consent", Boolean, nullable=False),
    Column("mentee_consent", Boolean, nullable=False),
    Column("erased", Boolean, nullable=False),
)

programmes = Table(
    "programs_programmes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("region", String(32), nullable=False),
    Column("municipality", String(32), nullable=False),
    Column("school", String(32), nullable=False, index=True),
    Column("title", String(300), nullable=False),
    Column("form", String(40), nullable=False),
    Column("variant", String(40)),
    Column("duration", String(20), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("curator", String(200)),
    Column("partner_schools", JSON, nullable=False),  # network partners whose mentors score higher
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("stage", String(30), nullable=False),
    Column("stages", JSON, nullable=False),  # [[stage, date], ...]
    Column("documents", JSON, nullable=False),  # [{kind, number, dated, title}, ...]
    Column("completed_on", Date),
    Column("nominated_mentor_ids", JSON),
    Column("version", Integer, nullable=False),
)

pairs = Table(
    "programs_pairs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("programme_id", Uuid, nullable=False, index=True),
    Column("school", String(32), nullable=False, index=True),
    Column("form", String(40), nullable=False),
    Column("mentor_ids", JSON, nullable=False),
    Column("mentee_ids", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("formed_on", Date, nullable=False),
    Column("ended_on", Date),
    Column("dissolution_reason", String(40)),
    Column("version", Integer, nullable=False),
    Column("roadmap_version", Integer, nullable=False),
)

#: who is in which pair, to find a person's own pairs and a mentor's load
pair_members = Table(
    "programs_pair_members",
    metadata,
    Column("pair_id", Uuid, primary_key=True),
    Column("participant_id", Uuid, primary_key=True, index=True),
    Column("side", String(10), nullable=False),  # mentor | mentee
    Column("active", Boolean, nullable=False),
)

roadmap_items = Table(
    "programs_roadmap_items",
    metadata,
    Column("pair_id", Uuid, primary_key=True),
    Column("item_id", Uuid, primary_key=True),
    Column("position", Integer, nullable=False),
    Column("direction", String(40), nullable=False),
    Column("due_on", Date, index=True),
    Column("rhythm", String(20)),
    Column("revision", Integer, nullable=False),
    Column("completed_on", Date),
    Column("product_kind", String(200)),
    Column("overdue_for", Date),  # the due date already reported overdue
)

meetings = Table(
    "programs_meetings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("pair_id", Uuid, nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("held_on", Date, nullable=False),
)

feedback = Table(
    "programs_feedback",
    metadata,
    Column("meeting_id", Uuid, primary_key=True),
    Column("respondent_role", String(10), primary_key=True),
    Column("pair_id", Uuid, nullable=False, index=True),
    Column("scores", JSON, nullable=False),
    Column("wants_to_become_mentor", Boolean, nullable=False),
)

#: free text that may describe a person; kept here, never in events
texts = Table(
    "programs_texts",
    metadata,
    Column("owner_id", Uuid, primary_key=True),
    Column("kind", String(30), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("body", JSON, nullable=False),
)

idempotency = idempotency_table(metadata, "programs_idempotency")
