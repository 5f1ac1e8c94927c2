"""The outbox relay publishes committed events once each, in commit order, across crashes."""

from __future__ import annotations

import asyncio
import json

from nats.js import JetStreamContext
from sqlalchemy import update

from mentornet_events import Subjects, envelope_from_json, envelope_to_json
from mentornet_spine.relay import OutboxRelay, message_headers
from mentornet_spine.store import EventStore
from mentornet_spine.tables import events
from mentornet_spine.testing import item_completed, pair_formed, tenant
from tests.conftest import Database
from tests.integration.support import stream_messages


async def test_relay_publishes_in_commit_order_with_msg_id(
    database: Database, js: JetStreamContext, subjects: Subjects
) -> None:
    store = EventStore(database.engine)
    appended = []
    for i in range(30):
        appended += await store.append(
            f"pair-{i % 4}", None, [pair_formed(), item_completed()], tenant=tenant()
        )
    relay = OutboxRelay(database.engine, js, subjects, batch_size=16)
    assert await relay.backlog() == 60
    while await relay.relay_once():
        pass
    assert await relay.backlog() == 0
    msgs = await stream_messages(js, subjects.stream("programs"), subjects.service_wildcard("programs"))
    assert [m.headers["Nats-Msg-Id"] for m in msgs] == [str(s.envelope.event_id) for s in appended]
    assert [json.loads(m.data)["stream_version"] for m in msgs[:2]] == [1, 2]
    assert msgs[1].subject == f"{subjects.root}.programs.roadmap.roadmap_item_completed"


async def test_crash_after_publish_before_checkpoint_sends_nothing_twice(
    database: Database, js: JetStreamContext, subjects: Subjects
) -> None:
    """A relay that published half a batch and died before advancing its checkpoint."""
    store = EventStore(database.engine)
    stored = []
    for i in range(10):
        stored += await store.append(f"pair-{i}", 0, [pair_formed()], tenant=tenant())
    spec_subject = f"{subjects.root}.programs.pair.pair_formed"
    for s in stored[:5]:  # what the dead relay managed to publish
        await js.publish(spec_subject, envelope_to_json(s.envelope), headers=message_headers(s.envelope))
    relay = OutboxRelay(database.engine, js, subjects)
    assert await relay.relay_once() == 10
    msgs = await stream_messages(js, subjects.stream("programs"), subjects.service_wildcard("programs"))
    assert [m.headers["Nats-Msg-Id"] for m in msgs] == [str(s.envelope.event_id) for s in stored]


async def test_uncommitted_events_are_never_published(
    database: Database, js: JetStreamContext, subjects: Subjects
) -> None:
    store = EventStore(database.engine)
    relay = OutboxRelay(database.engine, js, subjects)
    try:
        async with database.engine.begin() as conn:
            await store.append("pair-x", 0, [pair_formed()], tenant=tenant(), conn=conn)
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert await relay.relay_once() == 0
    info = await js.stream_info(subjects.stream("programs"))
    assert info.state.messages == 0


async def test_relay_keeps_running_while_appends_flow(
    database: Database, js: JetStreamContext, subjects: Subjects
) -> None:
    store = EventStore(database.engine)
    relay = OutboxRelay(database.engine, js, subjects, batch_size=50)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    ids = []
    for i in range(200):
        ids += [s.envelope.event_id for s in await store.append(f"p{i}", 0, [pair_formed()], tenant=tenant())]
    for _ in range(200):
        if await relay.backlog() == 0:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await running
    msgs = await stream_messages(js, subjects.stream("programs"), subjects.service_wildcard("programs"))
    assert [m.headers["Nats-Msg-Id"] for m in msgs] == [str(i) for i in ids]


async def test_the_relay_sends_the_envelope_as_stored_at_append_and_serialises_older_rows(
    database: Database, js: JetStreamContext, subjects: Subjects
) -> None:
    store = EventStore(database.engine)
    stored = await store.append("pair-1", 0, [pair_formed(), item_completed()], tenant=tenant())
    async with database.engine.begin() as conn:  # a row appended before the message column existed
        await conn.execute(update(events).where(events.c.position == stored[1].position).values(message=None))
    relay = OutboxRelay(database.engine, js, subjects)
    assert await relay.relay_once() == 2
    published = await stream_messages(js, subjects.stream("programs"), subjects.service_wildcard("programs"))
    assert [envelope_from_json(m.data) for m in published] == [s.envelope for s in stored]
    assert [m.data for m in published] == [envelope_to_json(s.envelope) for s in stored]
