"""Durable pull consumers on faststream: applied once, poison dead-lettered, others keep flowing."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date

import nats
import pytest
from faststream.nats import NatsBroker
from nats.js import JetStreamContext

from mentornet_events import Subjects, envelope_to_json
from mentornet_events.catalogue.programs import MeetingHeld
from mentornet_events.vocabulary import MeetingKind, MeetingMode
from mentornet_spine.consumer import ConsumerSettings, register_consumer
from mentornet_spine.natsserver import NatsServer
from mentornet_spine.relay import POSITION_HEADER, OutboxRelay
from mentornet_spine.store import EventStore
from mentornet_spine.streams import ensure_streams
from mentornet_spine.testing import POISON, EventCounts, item_completed, pair_formed, tenant
from tests.conftest import Database
from tests.integration.support import eventually, stream_messages

FAST = ConsumerSettings(max_deliver=3, backoff_s=(0.05, 0.1), batch_size=64, fetch_timeout_s=0.2)


@pytest.fixture
async def projection(database: Database) -> EventCounts:
    counts = EventCounts()
    await counts.install(database.engine)
    return counts


@pytest.fixture
async def broker(
    nats_url: str, js: JetStreamContext, subjects: Subjects, database: Database, projection: EventCounts
) -> AsyncIterator[NatsBroker]:
    broker = NatsBroker(nats_url, graceful_timeout=10)
    register_consumer(broker, database.engine, projection, subjects, FAST)
    await broker.start()
    yield broker
    await broker.stop()


async def relay_all(database: Database, js: JetStreamContext, subjects: Subjects) -> None:
    relay = OutboxRelay(database.engine, js, subjects)
    while await relay.relay_once():
        pass


async def test_events_reach_the_projection_once(
    broker: NatsBroker, database: Database, js: JetStreamContext, subjects: Subjects, projection: EventCounts
) -> None:
    store = EventStore(database.engine)
    for school in ("s1", "s1", "s2"):
        await store.append(
            f"pair-{school}-{id(object())}", None, [pair_formed(), item_completed()], tenant=tenant(school)
        )
    await relay_all(database, js, subjects)

    async def applied() -> bool:
        return len((await projection.snapshot(database.engine))[1]) == 6

    await eventually(applied)
    counts, _ = await projection.snapshot(database.engine)
    assert counts == {
        ("s1", "PairFormed"): 2,
        ("s1", "RoadmapItemCompleted"): 2,
        ("s2", "PairFormed"): 1,
        ("s2", "RoadmapItemCompleted"): 1,
    }


async def test_redelivered_event_is_not_applied_twice(
    broker: NatsBroker, database: Database, js: JetStreamContext, subjects: Subjects, projection: EventCounts
) -> None:
    """The same event arriving again (beyond the duplicate window, or a redelivery) changes nothing."""
    store = EventStore(database.engine)
    [stored] = await store.append("pair-1", 0, [pair_formed()], tenant=tenant())
    await relay_all(database, js, subjects)
    subject = f"{subjects.root}.programs.pair.pair_formed"
    # no msg id, so JetStream keeps it; stamped with its store position, as a relay publishes every
    # message (only relays may publish on a service's subjects)
    await js.publish(
        subject, envelope_to_json(stored.envelope), headers={POSITION_HEADER: str(stored.position)}
    )
    await store.append("pair-2", 0, [pair_formed()], tenant=tenant())
    await relay_all(database, js, subjects)

    async def two_applied() -> bool:
        info = await js.consumer_info(subjects.stream("programs"), projection.name)
        return info.num_pending == 0 and info.num_ack_pending == 0

    await eventually(two_applied)
    counts, ids = await projection.snapshot(database.engine)
    assert counts == {("s1", "PairFormed"): 2}
    assert len(ids) == 2


async def test_poison_event_is_dead_lettered_and_the_rest_flow(
    broker: NatsBroker, database: Database, js: JetStreamContext, subjects: Subjects, projection: EventCounts
) -> None:
    store = EventStore(database.engine)
    await store.append("pair-a", 0, [pair_formed()], tenant=tenant())
    [poison] = await store.append("pair-b", 0, [item_completed(POISON)], tenant=tenant())
    await store.append("pair-c", 0, [pair_formed(), item_completed()], tenant=tenant())
    await relay_all(database, js, subjects)

    async def dead_lettered() -> list[object]:
        info = await js.stream_info(subjects.dead_letter_stream)
        if info.state.messages == 0:
            return []
        return await stream_messages(js, subjects.dead_letter_stream, subjects.dead_letter_wildcard)

    [letter] = await eventually(dead_lettered)
    body = json.loads(letter.data)  # type: ignore[attr-defined]
    assert letter.subject == subjects.dead_letter(projection.name)  # type: ignore[attr-defined]
    assert body["attempts"] == FAST.max_deliver
    assert "POISON is refused" in body["reason"]
    assert body["original"]["event_id"] == str(poison.envelope.event_id)
    counts, ids = await projection.snapshot(database.engine)
    assert counts == {("s1", "PairFormed"): 2, ("s1", "RoadmapItemCompleted"): 1}
    assert poison.envelope.event_id not in ids


async def test_unknown_type_and_invalid_payload_are_dead_lettered_at_once(
    broker: NatsBroker, database: Database, js: JetStreamContext, subjects: Subjects, projection: EventCounts
) -> None:
    store = EventStore(database.engine)
    [good] = await store.append("pair-a", 0, [pair_formed()], tenant=tenant())
    bad = good.envelope.model_copy(update={"payload": {**good.envelope.payload, "mentor_ids": []}})
    bad = bad.model_copy(update={"event_id": bad.event_id.__class__(int=bad.event_id.int + 1)})
    subject = f"{subjects.root}.programs.pair.pair_formed"
    await js.publish(subject, envelope_to_json(bad))
    await js.publish(subject, b"{not json")

    async def letters() -> list[object]:
        info = await js.stream_info(subjects.dead_letter_stream)
        if info.state.messages < 2:
            return []
        return await stream_messages(js, subjects.dead_letter_stream, subjects.dead_letter_wildcard)

    found = await eventually(letters)
    reasons = sorted(json.loads(m.data)["reason"] for m in found)  # type: ignore[attr-defined]
    assert "field 'mentor_ids'" in reasons[0]
    assert reasons[1].startswith("not a MentorNet envelope")
    assert all(json.loads(m.data)["attempts"] == 1 for m in found)  # type: ignore[attr-defined]


async def test_consumer_keeps_pulling_after_idle_periods(
    broker: NatsBroker, database: Database, js: JetStreamContext, subjects: Subjects, projection: EventCounts
) -> None:
    """Empty fetches time out again and again; the pull loop must survive them (nats-py pitfall)."""
    store = EventStore(database.engine)
    for round_ in range(3):
        await asyncio.sleep(1.5)  # several empty fetches at FAST.fetch_timeout_s
        await store.append(f"pair-{round_}", 0, [pair_formed()], tenant=tenant())
        await relay_all(database, js, subjects)

        async def applied(n: int = round_ + 1) -> bool:
            return len((await projection.snapshot(database.engine))[1]) == n

        await eventually(applied, within=10)


async def test_jetstream_delivers_only_the_event_types_the_handler_applies(
    private_nats: NatsServer, database: Database, subjects: Subjects, projection: EventCounts
) -> None:
    """Subject filters per consumer need nats-server 2.10 (an older one ignores them and sends all)."""
    nc = await nats.connect(private_nats.url)
    js = nc.jetstream()
    await ensure_streams(js, subjects)
    broker = NatsBroker(private_nats.url, graceful_timeout=10)
    register_consumer(broker, database.engine, projection, subjects, FAST)
    await broker.start()
    try:
        store = EventStore(database.engine)
        meeting = MeetingHeld(
            pair_id=uuid.uuid4(),
            meeting_id=uuid.uuid4(),
            kind=MeetingKind.ACQUAINTANCE,
            mode=MeetingMode.IN_PERSON,
            held_on=date(2026, 9, 10),
        )
        await store.append("pair-a", 0, [pair_formed(), meeting, item_completed()], tenant=tenant())
        await relay_all(database, js, subjects)

        async def applied() -> bool:
            return len((await projection.snapshot(database.engine))[1]) == 2

        await eventually(applied)
        info = await js.consumer_info(subjects.stream("programs"), projection.name)
        assert sorted(info.config.filter_subjects or []) == [
            f"{subjects.root}.programs.pair.pair_formed",
            f"{subjects.root}.programs.roadmap.roadmap_item_completed",
        ]
        assert info.num_pending == 0 and info.delivered.consumer_seq == 2  # the meeting was never sent
    finally:
        await broker.stop()
        await nc.close()
