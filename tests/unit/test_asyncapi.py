"""The AsyncAPI document: committed and current, complete for every catalogue event, deterministic."""

from __future__ import annotations

import json
import tomllib
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from nats.aio.msg import Msg

from mentornet_events import CATALOGUE, Catalogue, DomainEvent, Envelope, EventSpec, Subjects, Tenant
from mentornet_events.asyncapi import (
    ASYNCAPI_PATH,
    DEAD_LETTER,
    DOCUMENT_VERSION,
    DeadLetter,
    asyncapi_document,
    envelope_model,
    render_asyncapi,
)
from mentornet_spine.consumer import dead_letter_body
from mentornet_spine.relay import message_headers
from mentornet_spine.testing import pair_formed

ROOT = Path(__file__).resolve().parents[2]


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def message_of(document: dict[str, Any], channel: dict[str, Any]) -> dict[str, Any]:
    [message] = channel["messages"].values()
    return resolve(document, message)


def channel_by_address(document: dict[str, Any], address: str) -> dict[str, Any]:
    matches: list[dict[str, Any]] = [c for c in document["channels"].values() if c["address"] == address]
    assert len(matches) == 1, f"{len(matches)} channels have the address {address}"
    return matches[0]


def test_committed_document_is_current() -> None:
    assert ASYNCAPI_PATH == ROOT / "libs" / "events" / "asyncapi.yaml"
    committed = ASYNCAPI_PATH.read_text(encoding="utf-8") if ASYNCAPI_PATH.exists() else ""
    assert committed == render_asyncapi(), (
        f"{ASYNCAPI_PATH.relative_to(ROOT)} is out of date with the event catalogue: "
        "run `./mn asyncapi --write` and commit the result"
    )


def test_render_is_deterministic() -> None:
    assert render_asyncapi() == render_asyncapi()
    assert asyncapi_document() == asyncapi_document()


def test_document_is_asyncapi_3() -> None:
    document = asyncapi_document()
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["version"] == DOCUMENT_VERSION


def test_document_version_is_the_project_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == DOCUMENT_VERSION, "bump DOCUMENT_VERSION in mentornet_events/asyncapi.py"


def test_every_event_has_its_channel_with_its_payload_version_and_description() -> None:
    document = asyncapi_document()
    specs = list(CATALOGUE)
    assert specs
    for spec in specs:
        channel = channel_by_address(document, spec.subject(Subjects()))
        message = message_of(document, channel)
        assert message["description"] == spec.description
        assert f"v{spec.version}" in message["title"]

        envelope = resolve(document, message["payload"])
        assert set(Envelope.model_fields) <= set(envelope["properties"])
        assert envelope["properties"]["type"]["const"] == spec.name
        assert envelope["properties"]["schema_version"]["const"] == spec.version

        payload = resolve(document, envelope["properties"]["payload"])
        assert list(payload["properties"]) == list(spec.model.model_fields)
        headers = message["headers"]["properties"]
        assert headers["Mentornet-Schema-Version"]["const"] == str(spec.version)


def test_pair_formed_documents_its_fields() -> None:
    document = asyncapi_document()
    channel = channel_by_address(document, "mentornet.programs.pair.pair_formed")
    envelope = resolve(document, message_of(document, channel)["payload"])
    payload = resolve(document, envelope["properties"]["payload"])
    mentor_ids = payload["properties"]["mentor_ids"]
    assert mentor_ids["type"] == "array"
    assert mentor_ids["maxItems"] == 2
    assert "mentor_ids" in payload["required"]


def test_operations_and_messages_are_referenced_and_named_validly() -> None:
    document = asyncapi_document()
    assert list(document["operations"]) == list(document["channels"])
    for name, operation in document["operations"].items():
        assert resolve(document, operation["channel"]) is document["channels"][name]
        for message in operation["messages"]:
            assert resolve(document, message) is document["components"]["messages"][name]
    components = document["components"]
    for key in [*components["messages"], *components["schemas"]]:
        assert all(c.isalnum() or c in "._-" for c in key), f"{key} is not a valid AsyncAPI component key"


def test_dead_letter_subject_is_documented() -> None:
    document = asyncapi_document()
    channel = document["channels"][DEAD_LETTER]
    assert channel["address"] == Subjects().dead_letter("{consumer}")
    assert "consumer" in channel["parameters"]
    payload = resolve(document, message_of(document, channel)["payload"])
    assert list(payload["properties"]) == list(DeadLetter.model_fields)


def test_dead_letter_model_matches_what_consumers_publish() -> None:
    msg = SimpleNamespace(
        data=b'{"not": "an envelope"}',
        subject="mentornet.programs.pair.pair_formed",
        metadata=SimpleNamespace(stream="MENTORNET_PROGRAMS", sequence=SimpleNamespace(stream=7)),
    )
    body = dead_letter_body("projector", cast(Msg, msg), "poison", 5)
    record = DeadLetter.model_validate_json(body)
    assert record.original == {"not": "an envelope"}
    assert record.stream_sequence == 7


def test_documented_headers_cover_what_the_relay_sets() -> None:
    envelope = wire_envelope()
    document = asyncapi_document()
    channel = channel_by_address(document, CATALOGUE.spec("PairFormed").subject(Subjects()))
    documented = message_of(document, channel)["headers"]["properties"]
    assert set(message_headers(envelope)) <= set(documented)


def wire_envelope() -> Envelope:
    event = pair_formed()
    return Envelope(
        event_id=uuid.uuid4(),
        type="PairFormed",
        schema_version=1,
        occurred_at=datetime(2026, 9, 1, 8, 30, tzinfo=UTC),
        stream_id=f"pair-{event.pair_id}",
        stream_version=1,
        tenant=Tenant(region="38"),
        correlation_id=uuid.uuid4(),
        payload=event.model_dump(mode="json"),
    )


def test_typed_envelope_reads_the_wire_form() -> None:
    envelope = wire_envelope()
    typed = envelope_model(CATALOGUE.spec("PairFormed")).model_validate_json(envelope.model_dump_json())
    assert json.loads(typed.model_dump_json()) == json.loads(envelope.model_dump_json())


def test_a_given_catalogue_is_documented() -> None:
    catalogue = Catalogue()

    @catalogue.event(service="demo", aggregate="thing", version=3)
    class ThingHappened(DomainEvent):
        """Something happened to a thing."""

        weight: int

    spec: EventSpec = catalogue.spec("ThingHappened")
    document = asyncapi_document(catalogue)
    assert list(document["channels"]) == ["ThingHappened", DEAD_LETTER]
    message = message_of(document, channel_by_address(document, "mentornet.demo.thing.thing_happened"))
    assert message["title"] == "ThingHappened v3"
    envelope = resolve(document, message["payload"])
    assert resolve(document, envelope["properties"]["payload"])["properties"]["weight"]["type"] == "integer"
    assert spec.version == 3
