"""An event that cannot be published never stops a stream: refused at append, or parked by the relay."""

from __future__ import annotations

import json
import uuid

import pytest
from nats.js import JetStreamContext
from sqlalchemy import func, select, update

from mentornet_events import MAX_PAYLOAD_BYTES, EventTooLarge, Subjects
from mentornet_events.catalogue.programs import RoadmapItemCompleted
from mentornet_spine.relay import OutboxRelay
from mentornet_spine.store import EventStore
from mentornet_spine.tables import events
from mentornet_spine.testing import item_completed, pair_formed, tenant
from tests.conftest import Database
from tests.integration.support import stream_messages


def _long_item(length: int) -> RoadmapItemCompleted:
    """An event within its field bounds in spirit but not in size (constructed, as a bug would)."""
    return item_completed().model_copy(update={"product_kind": "x" * length})


async def test_an_event_larger_than_the_stream_allows_is_refused_at_append_and_nothing_is_committed(
    database: Database,
) -> None:
    store = EventStore(database.engine)
    huge = _long_item(MAX_PAYLOAD_BYTES + 1)
    with pytest.raises(EventTooLarge) as refused:
        await store.append("pair-1", None, [pair_formed(), huge], tenant=tenant())
    assert "слишком велико" in str(refused.value)
    async with database.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(events)) == 0


async def _corrupt(database: Database, position: int, **values: object) -> None:
    """What an older release (or a hand edit) may have left in the store."""
    async with database.engine.begin() as conn:
        await conn.execute(update(events).where(events.c.position == position).values(**values))


async def test_the_relay_parks_what_it_cannot_publish_and_relays_the_next(
    database: Database, js: JetStreamContext, subjects: Subjects
) -> None:
    store = EventStore(database.engine)
    stored = []
    for i in range(4):
        stored += await store.append(f"pair-{i}", 0, [item_completed()], tenant=tenant())
    oversized, unknown = stored[1], stored[2]
    payload = dict(oversized.envelope.payload)
    payload["product_kind"] = "x" * 1_100_000  # the 1.1 MB subject of the report
    await _corrupt(database, oversized.position, payload=payload, message=None)  # no stored message then
    await _corrupt(database, unknown.position, type="mystery_happened")

    relay = OutboxRelay(database.engine, js, subjects, service="programs")
    assert await relay.relay_once() == 4
    assert await relay.backlog() == 0

    published = await stream_messages(js, subjects.stream("programs"), subjects.service_wildcard("programs"))
    assert [m.headers["Nats-Msg-Id"] for m in published] == [
        str(stored[0].envelope.event_id),
        str(stored[3].envelope.event_id),
    ]
    parked = await relay.parked()
    assert [p["position"] for p in parked] == [oversized.position, unknown.position]
    assert "exceeds the limit" in parked[0]["reason"]
    assert "mystery_happened" in parked[1]["reason"]

    letters = await stream_messages(js, subjects.dead_letter_stream, subjects.dead_letter_wildcard)
    records = [json.loads(m.data) for m in letters]
    assert [r["original"]["event_id"] for r in records] == [
        str(oversized.envelope.event_id),
        str(unknown.envelope.event_id),
    ]
    assert {r["consumer"] for r in records} == {"programs-relay"}
    assert all(r["reason"] for r in records)

    # a restarted relay starts after them: nothing parked twice, the stream goes on
    later = await store.append("pair-9", 0, [item_completed()], tenant=tenant())
    restarted = OutboxRelay(database.engine, js, subjects, service="programs")
    assert await restarted.relay_once() == 1
    assert len(await restarted.parked()) == 2
    after = await stream_messages(js, subjects.stream("programs"), subjects.service_wildcard("programs"))
    assert after[-1].headers["Nats-Msg-Id"] == str(later[0].envelope.event_id)


async def test_a_message_the_stream_refuses_on_ack_is_parked_too(
    database: Database, js: JetStreamContext, subjects: Subjects
) -> None:
    """A stream configured smaller than the relay's own limit answers with an error ack (10054)."""
    name = subjects.stream("programs")
    config = (await js.stream_info(name)).config
    config.max_msg_size = 4096
    await js.update_stream(config)
    store = EventStore(database.engine)
    small = await store.append("pair-a", 0, [item_completed()], tenant=tenant())
    big = await store.append("pair-b", 0, [_long_item(8000)], tenant=tenant())
    after = await store.append("pair-c", 0, [item_completed()], tenant=tenant())

    relay = OutboxRelay(database.engine, js, subjects, service="programs", ack_timeout=2.0)
    assert await relay.relay_once() == 3
    published = await stream_messages(js, name, subjects.service_wildcard("programs"))
    assert [m.headers["Nats-Msg-Id"] for m in published] == [
        str(small[0].envelope.event_id),
        str(after[0].envelope.event_id),
    ]
    parked = await relay.parked()
    assert [uuid.UUID(str(p["event_id"])) for p in parked] == [big[0].envelope.event_id]
    assert "refused" in parked[0]["reason"]
