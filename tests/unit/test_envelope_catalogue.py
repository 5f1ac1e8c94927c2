"""The envelope round-trips exactly; the catalogue refuses what it does not know, naming the field."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import Field, ValidationError

from mentornet_events import (
    CATALOGUE,
    Catalogue,
    DomainEvent,
    Envelope,
    InvalidEventPayload,
    Subjects,
    Tenant,
    UnknownEventType,
    envelope_from_json,
    envelope_to_json,
    new_event_id,
)
from mentornet_spine.testing import item_completed, pair_formed


def make_envelope(**overrides: Any) -> Envelope:
    event = pair_formed()
    fields: dict[str, Any] = {
        "event_id": new_event_id(),
        "type": "PairFormed",
        "schema_version": 1,
        "occurred_at": datetime(2026, 9, 1, 8, 30, 15, 123456, tzinfo=UTC),
        "stream_id": f"pair-{event.pair_id}",
        "stream_version": 3,
        "tenant": Tenant(region="38", municipality="irk", school="s042"),
        "correlation_id": uuid.uuid4(),
        "causation_id": uuid.uuid4(),
        "trace_context": {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
        "payload": event.model_dump(mode="json"),
    }
    fields.update(overrides)
    return Envelope(**fields)


def test_envelope_round_trips_exactly() -> None:
    envelope = make_envelope()
    data = envelope_to_json(envelope)
    assert envelope_from_json(data) == envelope
    assert envelope_to_json(envelope_from_json(data)) == data


@pytest.mark.parametrize(
    "event",
    [
        pair_formed(),
        item_completed(),
        item_completed().model_copy(update={"product_kind": 'Проект «Δ» "x"\n'}),
    ],
    ids=["pair", "item", "non-ascii"],
)
def test_the_admitted_payload_spliced_in_gives_the_same_bytes(event: DomainEvent) -> None:
    """The store serialises a payload once (admitting it) and splices it into the message."""
    envelope = make_envelope(type=type(event).event_type, payload=event.model_dump(mode="json"))
    payload_json = CATALOGUE.admit(event)
    assert envelope_to_json(envelope, payload_json) == envelope_to_json(envelope)
    assert envelope_from_json(envelope_to_json(envelope, payload_json)) == envelope


def test_occurred_at_is_normalised_to_utc() -> None:
    moscow = timezone(timedelta(hours=3))
    envelope = make_envelope(occurred_at=datetime(2026, 9, 1, 11, 0, tzinfo=moscow))
    assert envelope.occurred_at == datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    assert envelope.occurred_at.utcoffset() == timedelta(0)


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValidationError, match="occurred_at"):
        make_envelope(occurred_at=datetime(2026, 9, 1, 8, 0))


def test_event_ids_are_uuid7_and_time_ordered() -> None:
    ids = [new_event_id() for _ in range(50)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids)


def test_catalogue_decodes_payload_into_its_model() -> None:
    envelope = make_envelope()
    event = CATALOGUE.decode(envelope)
    assert type(event).__name__ == "PairFormed"
    assert event.model_dump(mode="json") == envelope.payload


def test_unknown_type_is_refused_with_its_name() -> None:
    with pytest.raises(UnknownEventType, match="'PairMelted'"):
        CATALOGUE.decode(make_envelope(type="PairMelted"))


def test_invalid_payload_names_the_field() -> None:
    payload = make_envelope().payload | {"mentor_ids": []}
    with pytest.raises(InvalidEventPayload, match="field 'mentor_ids'"):
        CATALOGUE.decode(make_envelope(payload=payload))


def test_missing_field_is_named() -> None:
    payload = {k: v for k, v in make_envelope().payload.items() if k != "formed_on"}
    with pytest.raises(InvalidEventPayload, match="field 'formed_on': Field required"):
        CATALOGUE.decode(make_envelope(payload=payload))


def test_subject_rule() -> None:
    spec = CATALOGUE.spec("RoadmapItemCompleted")
    assert spec.subject(Subjects()) == "mentornet.programs.roadmap.roadmap_item_completed"
    assert Subjects("t1").stream("programs") == "T1_PROGRAMS"
    with pytest.raises(ValueError):
        Subjects("Bad.Root")


def test_required_events_are_declared() -> None:
    names = {spec.name for spec in CATALOGUE}
    assert {
        "MentorRegistered",
        "MenteeRegistered",
        "PairFormed",
        "RoadmapItemCompleted",
        "FeedbackSubmitted",
    } <= names


def test_upcasters_bring_old_versions_to_current() -> None:
    catalogue = Catalogue()

    @catalogue.event(service="programs", aggregate="meeting", version=3)
    class MeetingHeld(DomainEvent):
        meeting_id: uuid.UUID
        kind: str
        minutes: int = Field(ge=1)

    @catalogue.upcaster("MeetingHeld", from_version=1)
    def _v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
        return payload | {"kind": "regular"}

    @catalogue.upcaster("MeetingHeld", from_version=2)
    def _v2_to_v3(payload: dict[str, Any]) -> dict[str, Any]:
        hours = payload.pop("hours")
        return payload | {"minutes": int(hours * 60)}

    meeting = uuid.uuid4()
    event = catalogue.parse("MeetingHeld", 1, {"meeting_id": str(meeting), "hours": 1.5})
    assert event == MeetingHeld(meeting_id=meeting, kind="regular", minutes=90)
    with pytest.raises(InvalidEventPayload, match="newer than this code knows"):
        catalogue.parse("MeetingHeld", 4, {})


def test_an_event_type_is_registered_once() -> None:
    catalogue = Catalogue()

    @catalogue.event(service="s", aggregate="a")
    class Twice(DomainEvent):
        pass

    with pytest.raises(ValueError, match="registered twice"):
        catalogue.event(service="s", aggregate="a")(Twice)
