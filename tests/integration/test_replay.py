"""A projection rebuilt from the start of the stream comes out identical, and live updates go on."""

from __future__ import annotations

from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from sqlalchemy import inspect

from mentornet_events import Subjects
from mentornet_spine.consumer import ConsumerSettings, register_consumer
from mentornet_spine.projection import rebuild
from mentornet_spine.relay import OutboxRelay
from mentornet_spine.store import EventStore
from mentornet_spine.testing import POISON, EventCounts, item_completed, pair_formed, tenant
from tests.conftest import Database
from tests.integration.support import eventually


async def _tables(database: Database) -> set[str]:
    async with database.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_replay_rebuilds_an_identical_projection(
    database: Database, nats_url: str, js: JetStreamContext, subjects: Subjects
) -> None:
    projection = EventCounts()
    await projection.install(database.engine)
    broker = NatsBroker(nats_url, graceful_timeout=10)
    register_consumer(
        broker, database.engine, projection, subjects, ConsumerSettings(max_deliver=2, backoff_s=(0.05,))
    )
    await broker.start()
    store = EventStore(database.engine)
    relay = OutboxRelay(database.engine, js, subjects)
    try:
        for i in range(60):
            events = [pair_formed(), item_completed()] if i % 3 else [pair_formed()]
            await store.append(f"pair-{i}", 0, events, tenant=tenant(f"s{i % 4}"))
        await store.append("pair-poison", 0, [item_completed(POISON)], tenant=tenant())
        while await relay.relay_once():
            pass

        async def live_done() -> bool:
            info = await js.consumer_info(subjects.stream("programs"), projection.name)
            return info.num_pending == 0 and info.num_ack_pending == 0

        await eventually(live_done)
        live = await projection.snapshot(database.engine)
        assert sum(live[0].values()) == 100

        seen: list[int] = []
        result = await rebuild(
            database.engine, js, projection, subjects, progress=lambda n, _t: seen.append(n)
        )
        assert result.generation == 2
        assert result.events == 101  # the poison event is read, refused, and left out as it was live
        assert sum(seen) == 101
        assert [seq for seq, _ in result.refused] == [101]
        assert "POISON is refused" in result.refused[0][1]
        assert await projection.snapshot(database.engine) == live
        tables = await _tables(database)
        assert {"event_counts_g2", "event_applied_g2"} <= tables
        assert not {"event_counts_g1", "event_applied_g1"} & tables

        await store.append("pair-after", 0, [pair_formed()], tenant=tenant("s9"))
        while await relay.relay_once():
            pass

        async def applied_after() -> bool:
            return ("s9", "PairFormed") in (await projection.snapshot(database.engine))[0]

        await eventually(applied_after)  # the live consumer now writes to generation 2
    finally:
        await broker.stop()
