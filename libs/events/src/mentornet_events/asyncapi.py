"""The AsyncAPI 3.0.0 document of MentorNet's events, generated from the catalogue.

faststream's generator does the schema work: one documented NATS publisher per catalogue event,
whose pydantic schema it turns into ``components.schemas`` with ``$ref``s. The result is then
completed and put in a fixed order, so the committed ``libs/events/asyncapi.yaml`` can be
compared with a fresh render in CI (``mentornet asyncapi --check`` / ``--write``).

What each message documents, and why:

* **payload** — the whole envelope as it travels, not the bare event: a per-event model
  ``<Name>Envelope`` subclasses :class:`Envelope` with ``payload: <Name>``, ``type`` fixed to the
  event's name and ``schema_version`` fixed to its current version. So one self-contained schema
  validates exactly the bytes on a subject, and code generators produce a typed class for it
  without resolving ``allOf`` (which many handle poorly). The price, the envelope's fields
  repeated in each envelope schema, is paid by a generated file.
* **version** — pinned as a constant in the payload (``schema_version``) and in the
  ``Mentornet-Schema-Version`` header, and shown in the message title (``PairFormed v1``).
* **description** — the event model's docstring, on the message and on its channel.
* **headers** — those the outbox relay sets (``Nats-Msg-Id`` is the event id, so JetStream
  deduplicates) plus the W3C trace context.

The dead-letter subject ``<root>.dlq.{consumer}`` is a channel with a ``consumer`` parameter;
its message is the dead-letter record the spine's consumers write (:class:`DeadLetter`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, cast

import yaml
from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model

from mentornet_events.catalogue import CATALOGUE, Catalogue, EventSpec
from mentornet_events.envelope import Envelope
from mentornet_events.subjects import Subjects

ASYNCAPI_PATH = Path(__file__).resolve().parents[2] / "asyncapi.yaml"
"""The committed document, ``libs/events/asyncapi.yaml``."""

#: The project's version (``[project].version`` in pyproject.toml; a unit test keeps them equal).
DOCUMENT_VERSION = "0.1.0"
TITLE = "MentorNet events"
#: The development NATS of ``./mn up`` (the ``NATS_URL`` default); deployments set their own.
DEVELOPMENT_NATS = "nats://127.0.0.1:4222"
DEAD_LETTER = "DeadLetter"
JSON = "application/json"

DESCRIPTION = """\
Domain events of MentorNet's services, published to NATS JetStream by each service's outbox relay.

Every event travels as JSON in an envelope: metadata (event id, type, schema version, tenant,
aggregate stream and position, correlation and causation ids, trace context) around the event's
payload. The subject is `<root>.<service>.<aggregate>.<event>` (root `mentornet` in deployments);
each service has one stream, `<ROOT>_<SERVICE>`.

Each event type's payload schema is versioned; this document gives the current version, the one
publishers write. Streams keep messages written under older versions, which readers upcast, so a
message's `schema_version` may be lower than documented here, never higher.

A consumer that cannot process an event after its redeliveries publishes a dead-letter record to
`<root>.dlq.<consumer>` (stream `<ROOT>_DLQ`). A relay that meets a committed event the stream can
never take (too large, unknown type) parks it: a record to `<root>.dlq.<service>-relay` with the
event's `position` in its store and no stream fields, since it was never in a stream.

Generated from the event catalogue (mentornet_events.asyncapi); do not edit by hand."""


class DeadLetter(BaseModel):
    """What a consumer publishes when it gives up on an event: the reason and the original message."""

    # Mirrors mentornet_spine.consumer.dead_letter_body, which this library cannot import;
    # tests/unit/test_asyncapi.py validates that function's output against this model.
    model_config = ConfigDict(frozen=True, extra="forbid")

    consumer: str = Field(description="Durable consumer (handler) that gave up, or `<service>-relay`")
    reason: str = Field(description="Why: the error, or the event was poison")
    attempts: int = Field(ge=1, description="Deliveries made before giving up")
    subject: str | None = Field(None, description="Subject of the original message (not for a relay's)")
    stream: str | None = Field(None, description="Stream of the original message (not for a relay's)")
    stream_sequence: int | None = Field(
        None, ge=1, description="Sequence of the original message in its stream (not for a relay's)"
    )
    position: int | None = Field(None, ge=1, description="A parked event's position in its service's store")
    dead_lettered_at: AwareDatetime = Field(description="When it was dead-lettered, UTC")
    original: Envelope | Any = Field(
        description="The original message: its JSON (normally an Envelope) or, if not JSON, its text; "
        "for a parked event its id, type and stream"
    )


def envelope_model(spec: EventSpec) -> type[Envelope]:
    """``<Name>Envelope``: the envelope with this event's name, version and typed payload."""
    fields = Envelope.model_fields
    literal = cast(Any, Literal)
    return create_model(
        f"{spec.name}Envelope",
        __base__=Envelope,
        __doc__=f"A {spec.name} v{spec.version} event in its envelope.",
        type=(literal[spec.name], Field(description=fields["type"].description)),
        schema_version=(literal[spec.version], Field(description=fields["schema_version"].description)),
        payload=(spec.model, Field(description=f"The {spec.name} event, schema version {spec.version}")),
    )


def _header(description: str, **schema: Any) -> dict[str, Any]:
    return {"type": "string", **schema, "description": description}


def _trace_headers() -> dict[str, Any]:
    return {
        "traceparent": _header("W3C trace context of the publisher"),
        "tracestate": _header("W3C trace state"),
    }


def _event_headers(spec: EventSpec) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "Nats-Msg-Id": _header("The envelope's event_id; JetStream deduplicates on it", format="uuid"),
            "Mentornet-Type": _header("The envelope's type", const=spec.name),
            "Mentornet-Schema-Version": _header(
                "The envelope's schema_version, as text", const=str(spec.version)
            ),
            "Mentornet-Position": _header(
                "The event's position in its service's store, as text: how far the stream holds "
                "what the store committed (the relay reconciles a stream that lost its tail)",
                pattern="^[0-9]+$",
            ),
            **_trace_headers(),
        },
        "required": ["Nats-Msg-Id", "Mentornet-Type", "Mentornet-Schema-Version"],
    }


def _dead_letter_headers() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "Nats-Msg-Id": _header(
                "`<consumer>:<stream>:<stream_sequence>`, so a message is dead-lettered once per consumer"
            ),
        },
        "required": ["Nats-Msg-Id"],
    }


def _correlation_id() -> dict[str, Any]:
    return {
        "description": "The envelope's correlation_id: the request or process that started the chain",
        "location": "$message.payload#/correlation_id",
    }


def _ref(*path: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(path)}


def _generated(catalogue: Catalogue, subjects: Subjects) -> dict[str, Any]:
    """faststream's document: channels, operations and schemas, in no order we rely on."""
    broker = NatsBroker(
        DEVELOPMENT_NATS, description="NATS with JetStream of `./mn up`; deployments set NATS_URL"
    )
    for spec in catalogue:
        broker.publisher(
            spec.subject(subjects),
            schema=envelope_model(spec),
            title=spec.name,
            description=spec.description,
        )
    broker.publisher(
        subjects.dead_letter("{consumer}"),
        schema=DeadLetter,
        title=DEAD_LETTER,
        description="Events a consumer gave up on, with the reason; one subject per consumer.",
    )
    specification = AsyncAPI(
        broker, title=TITLE, version=DOCUMENT_VERSION, description=DESCRIPTION, schema_version="3.0.0"
    ).to_specification()
    return cast(dict[str, Any], specification.to_jsonable())


def _payload_ref(generated: dict[str, Any], channel: str) -> Any:
    message_key = f"{channel}:Message"
    return generated["components"]["messages"][message_key]["payload"]


def _channel(generated: dict[str, Any], name: str, title: str) -> dict[str, Any]:
    made = generated["channels"][name]
    channel: dict[str, Any] = {
        "address": made["address"],
        "title": title,
        "description": made["description"],
        "messages": {name: _ref("components", "messages", name)},
    }
    if "servers" in made:
        channel["servers"] = made["servers"]
    return channel


def _server(made: dict[str, Any]) -> dict[str, Any]:
    """faststream's server without its placeholders (an empty pathname, protocolVersion "custom")."""
    return {
        key: value
        for key, value in made.items()
        if value != "" and not (key == "protocolVersion" and value == "custom")
    }


def _operation(name: str, summary: str, tags: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "action": "send",
        "channel": _ref("channels", name),
        "summary": summary,
        "tags": tags,
        "messages": [_ref("channels", name, "messages", name)],
    }


def asyncapi_document(
    catalogue: Catalogue = CATALOGUE, *, subjects: Subjects | None = None
) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of ``catalogue``: events in catalogue order, dead letters last."""
    subjects = subjects or Subjects()
    specs = list(catalogue)
    if any(spec.name == DEAD_LETTER for spec in specs):
        raise ValueError(f"an event may not be named {DEAD_LETTER}: the dead-letter channel has that name")
    generated = _generated(catalogue, subjects)

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in specs:
        name = spec.name
        tags = [{"name": spec.service}]
        channels[name] = _channel(generated, name, f"{spec.service} · {spec.aggregate} · {name}")
        operations[name] = _operation(name, f"The {spec.service} service publishes {name} events.", tags)
        messages[name] = {
            "name": name,
            "title": f"{name} v{spec.version}",
            "summary": f"A {spec.service} {spec.aggregate} event, schema version {spec.version}",
            "description": spec.description,
            "contentType": JSON,
            "headers": _event_headers(spec),
            "payload": _payload_ref(generated, name),
            "correlationId": _correlation_id(),
            "tags": tags,
        }

    dlq_tags = [{"name": "dlq"}]
    channels[DEAD_LETTER] = _channel(generated, DEAD_LETTER, "Dead letters")
    channels[DEAD_LETTER]["parameters"] = {
        "consumer": {"description": "Name of the durable consumer (handler) that gave up"}
    }
    operations[DEAD_LETTER] = _operation(
        DEAD_LETTER, "A consumer publishes an event it gave up on, with the reason.", dlq_tags
    )
    messages[DEAD_LETTER] = {
        "name": DEAD_LETTER,
        "title": "Dead letter",
        "summary": "An event a consumer gave up on, with the reason",
        "description": (DeadLetter.__doc__ or "").strip(),
        "contentType": JSON,
        "headers": _dead_letter_headers(),
        "payload": _payload_ref(generated, DEAD_LETTER),
        "tags": dlq_tags,
    }

    schemas = generated["components"]["schemas"]
    document: dict[str, Any] = {
        "asyncapi": generated["asyncapi"],
        "info": generated["info"],
        "defaultContentType": JSON,
        "servers": {name: _server(server) for name, server in generated["servers"].items()},
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": {key: schemas[key] for key in sorted(schemas)},
        },
    }
    return document


class _Dumper(yaml.SafeDumper):
    """Plain YAML: no anchors for repeated objects, multi-line text as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def render_asyncapi(catalogue: Catalogue = CATALOGUE) -> str:
    """The document as YAML, byte for byte what ``libs/events/asyncapi.yaml`` should hold."""
    return yaml.dump(
        asyncapi_document(catalogue),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
