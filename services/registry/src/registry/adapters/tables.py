"""The registry's own tables: read models kept in the command's transaction, secrets, the vault."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
)

from mentornet_spine.idempotency import idempotency_table
from mentornet_spine.tables import UTCDateTime

metadata = MetaData()

municipalities = Table(
    "registry_municipalities",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("region", String(32), nullable=False),
    Column("name", String(300), nullable=False),
)

schools = Table(
    "registry_schools",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("region", String(32), nullable=False),
    Column("municipality", String(32), nullable=False, index=True),
    Column("name", String(500), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("teachers", Integer, nullable=False),
    Column("students", Integer, nullable=False),
    Column("bases_refreshed_on", Date),
    Column("version", Integer, nullable=False),
)

participants = Table(
    "registry_participants",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("school", String(32), ForeignKey("registry_schools.code"), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("in_mentor_base", Boolean, nullable=False),
    Column("in_mentee_base", Boolean, nullable=False),
    Column("attributes", JSON, nullable=False),
    Column("erased", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
)

school_credentials = Table(
    "registry_school_credentials",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("school", String(32), ForeignKey("registry_schools.code"), nullable=False, index=True),
    Column("secret_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
)

accounts = Table(
    "registry_accounts",
    metadata,
    Column("username", String(100), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(40), nullable=False),
    Column("region", String(32), nullable=False),
    Column("municipality", String(32)),
    Column("school", String(32)),
    Column("participant_id", Uuid),
    Column("disabled", Boolean, nullable=False),
)

# Personal data: one data key per participant, wrapped by the key-encryption key; erasure
# deletes the data key, which leaves the ciphertext (and any backup of it) unreadable.
participant_keys = Table(
    "registry_participant_keys",
    metadata,
    Column("participant_id", Uuid, primary_key=True),
    Column("wrapped_key", LargeBinary, nullable=False),
)

participant_personal_data = Table(
    "registry_participant_personal_data",
    metadata,
    Column("participant_id", Uuid, primary_key=True),
    Column("ciphertext", LargeBinary, nullable=False),
)

#: how to reach a school (its official address); never in events, given to services that deliver
school_contacts = Table(
    "registry_school_contacts",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("email", String(320)),
    Column("phone", String(40)),
)

idempotency = idempotency_table(metadata, "registry_idempotency")
