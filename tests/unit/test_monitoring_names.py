"""Monitoring keeps the public names of municipalities and schools, so its reports show names."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from mentornet_events import CATALOGUE, Envelope, Tenant, new_event_id
from mentornet_events.catalogue.registry import MunicipalityRegistered, SchoolConnected
from mentornet_events.vocabulary import SchoolKind
from monitoring.consumers.facts import NAME, _rows


def _envelope(event: MunicipalityRegistered | SchoolConnected, stream: str, version: int) -> Envelope:
    spec = CATALOGUE.spec_of(event)
    return Envelope(
        event_id=new_event_id(),
        type=spec.name,
        schema_version=spec.version,
        occurred_at=datetime(2026, 9, 1, tzinfo=UTC),
        stream_id=stream,
        stream_version=version,
        tenant=Tenant(region="38", municipality="m01", school=None),
        correlation_id=uuid.uuid4(),
        payload=event.model_dump(mode="json"),
    )


def test_a_municipality_and_a_school_give_their_names() -> None:
    town = MunicipalityRegistered(code="m01", name="Городской округ Братск")
    rows = _rows(_envelope(town, "municipality-m01", 1), town)
    assert rows == [
        (
            NAME,
            {
                "kind": "municipality",
                "code": "m01",
                "region": "38",
                "name": "Городской округ Братск",
                "name_v": 1,
            },
        )
    ]
    school = SchoolConnected(
        code="s0001", name="МБОУ «СОШ № 1» (Братск)", kind=SchoolKind.SCHOOL, teachers=40, students=500
    )
    named = dict(_rows(_envelope(school, "school-s0001", 2), school))
    assert named[NAME]["name"] == "МБОУ «СОШ № 1» (Братск)" and named[NAME]["kind"] == "school"
