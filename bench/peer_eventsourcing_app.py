"""pyeventsourcing's side of bench/spine.py: the domain, application, view and projection.

Module level because pyeventsourcing names event classes by topic (module and qualified name);
imported only by the peer's processes, where the package is installed.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection
from psycopg.sql import SQL, Identifier

APPLICATION = "MentoringApp"
PROJECTION = "counts"  # its tracking table is counts_tracking


class PairRecord(Aggregate):
    """A pair's history: created with its first event, the rest recorded after; each event names
    its school, as every MentorNet envelope carries its tenant."""

    @event("Created")
    def __init__(self, school: str, kind: str, payload: dict[str, Any]) -> None:
        self.school = school
        self.count = 1

    @event("Recorded")
    def record(self, school: str, kind: str, payload: dict[str, Any]) -> None:
        self.count += 1


class MentoringApp(Application[uuid.UUID]):
    name = APPLICATION


class CountsView(PostgresTrackingRecorder):
    """Counts per school and type, a row per applied event, and the tracking record."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.event_counts "
                "(school text, type text, n integer NOT NULL, PRIMARY KEY (school, type))"
            ).format(schema),
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.event_applied (id bigserial PRIMARY KEY, "
                "event_id uuid NOT NULL, stream_id text NOT NULL, stream_version integer NOT NULL)"
            ).format(schema),
        ]
        self.add_count = SQL(
            "INSERT INTO {0}.event_counts VALUES (%s, %s, 1) "
            "ON CONFLICT (school, type) DO UPDATE SET n = {0}.event_counts.n + 1"
        ).format(schema)
        self.add_applied = SQL(
            "INSERT INTO {0}.event_applied (event_id, stream_id, stream_version) VALUES (%s, %s, %s)"
        ).format(schema)

    def apply(self, school: str, kind: str, stream_id: uuid.UUID, version: int, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.add_count, (school, kind), prepare=True)
            curs.execute(self.add_applied, (uuid.uuid4(), str(stream_id), version), prepare=True)
            self._insert_tracking(curs, tracking)


class CountsProjection(Projection[CountsView]):
    name = PROJECTION

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        e = domain_event
        self.view.apply(e.school, e.kind, e.originator_id, e.originator_version, tracking)
