"""A broker that loses what it acknowledged loses nothing for good: the store is the source of truth.

JetStream acknowledges before it syncs to disk (Jepsen, NATS 2.12.1; nats-server #7564, #7549,
#7545). Each test commits events, lets the sample service relay and project them all, then takes
them from the broker as such a fault would — the stream recreated empty, its files deleted while
the server is stopped, its last block truncated — and commits more. The relay finds the stream's
tail behind its checkpoint and publishes again from the first missing position; a durable consumer
the stream lost is created again. In the end every committed event is on the stream once, in
commit order, and in the projection once.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import nats
import pytest

from mentornet_events import Subjects
from mentornet_spine.natsserver import NatsServer
from mentornet_spine.relay import OutboxRelay
from mentornet_spine.store import EventStore
from mentornet_spine.streams import ensure_streams
from mentornet_spine.testing import EventCounts, pair_formed, tenant
from tests.conftest import Database
from tests.integration.support import eventually, stream_messages
from tests.integration.test_faults import SHORT_ACK_WAIT, ServiceProcess

RECONCILE = {"MENTORNET_RELAY_RECONCILE_EVERY": "1"}


def _stream_dir(server: NatsServer, subjects: Subjects) -> Path:
    [found] = list(server.store_dir.glob(f"jetstream/*/streams/{subjects.stream('programs')}"))
    return found


async def _recreate_empty(server: NatsServer, subjects: Subjects) -> None:
    """A stream deleted and provisioned again (an operator's mistake, a restore of old config)."""
    nc = await nats.connect(server.url)
    js = nc.jetstream()
    await js.delete_stream(subjects.stream("programs"))
    await ensure_streams(js, subjects)
    await nc.close()


async def _files_deleted(server: NatsServer, subjects: Subjects) -> None:
    """The stream's directory gone while the server was down (a lost volume, a bad restore)."""
    server.stop()
    shutil.rmtree(_stream_dir(server, subjects))
    server.start()


async def _last_block_truncated(server: NatsServer, subjects: Subjects) -> None:
    """Power lost before the last block reached the disk: its second half is gone."""
    server.stop()
    blocks = sorted((_stream_dir(server, subjects) / "msgs").glob("*.blk"), key=lambda p: int(p.stem))
    last = blocks[-1]
    with last.open("r+b") as block:
        block.truncate(last.stat().st_size // 2)
    for index in (_stream_dir(server, subjects) / "msgs").glob("*.idx"):
        index.unlink()
    state = _stream_dir(server, subjects) / "msgs" / "index.db"
    state.unlink(missing_ok=True)
    server.start()


async def _commit(store: EventStore, round_: str, streams: int) -> list[str]:
    ids = []
    for i in range(streams):
        stored = await store.append(
            f"pair-{round_}-{i}", 0, [pair_formed() for _ in range(50)], tenant=tenant()
        )
        ids += [str(s.envelope.event_id) for s in stored]
    return ids


@pytest.mark.parametrize(
    "lose",
    [_recreate_empty, _files_deleted, _last_block_truncated],
    ids=["recreated-empty", "files-deleted", "last-block-truncated"],
)
async def test_what_the_broker_lost_is_published_again_and_applied_once(
    lose: Callable[[NatsServer, Subjects], object],
    pg_database: Database,
    private_nats: NatsServer,
    subjects: Subjects,
    tmp_path: Path,
) -> None:
    env = SHORT_ACK_WAIT | RECONCILE
    service = ServiceProcess(pg_database, private_nats.url, subjects, tmp_path / "service.log", env)
    service.start()
    counts = EventCounts("sample-event-counts")
    store = EventStore(pg_database.engine)
    expected = await _commit(store, "before", 6)

    async def applied(n: int) -> bool:
        _, done = await counts.content(pg_database.engine)
        return len(done) >= n

    try:
        await eventually(lambda: applied(len(expected)), within=60)
        await lose(private_nats, subjects)  # type: ignore[misc]
        expected += await _commit(store, "after", 2)
        await eventually(lambda: applied(len(expected)), within=90)
    finally:
        service.stop()
    log = (tmp_path / "service.log").read_text(errors="replace")
    assert "publishing" in log and "events again" in log, log[-3000:]
    _, done = await counts.content(pg_database.engine)
    assert sorted(map(str, done)) == sorted(expected)  # every committed event applied once
    assert await _stream_ids(private_nats.url, subjects) == expected  # on the stream once, in order


async def _relay_all(relay: OutboxRelay) -> None:
    while await relay.relay_once():
        pass


async def _stream_ids(server_url: str, subjects: Subjects) -> list[str]:
    nc = await nats.connect(server_url)
    try:
        msgs = await stream_messages(
            nc.jetstream(), subjects.stream("programs"), subjects.service_wildcard("programs")
        )
        return [json.loads(m.data)["event_id"] for m in msgs]  # a repair's message ids carry a suffix
    finally:
        await nc.close()


async def test_reconciliation_puts_the_stream_back_in_commit_order_step_by_step(
    pg_database: Database, private_nats: NatsServer, subjects: Subjects
) -> None:
    """The relay in-process, each step awaited: a loss, later events published past the gap, the
    reconciliation, and the stream again exactly the store — also after a second reconciliation."""
    store = EventStore(pg_database.engine)
    ids = await _commit(store, "a", 4)  # 200 events
    nc = await nats.connect(private_nats.url)
    js = nc.jetstream()
    await ensure_streams(js, subjects)

    async def provision() -> None:
        await ensure_streams(js, subjects)

    relay = OutboxRelay(pg_database.engine, js, subjects, service="programs", provision=provision)
    await _relay_all(relay)
    await nc.close()
    await _last_block_truncated(private_nats, subjects)  # the tail lost after its acks
    nc = await nats.connect(private_nats.url)
    js = nc.jetstream()
    relay = OutboxRelay(pg_database.engine, js, subjects, service="programs", provision=provision)
    relay.js = js
    kept = await _stream_ids(private_nats.url, subjects)
    assert 0 < len(kept) < len(ids) and kept == ids[: len(kept)]
    ids += await _commit(store, "b", 1)
    await _relay_all(relay)  # published past the gap, as a running service would before it looks
    assert await _stream_ids(private_nats.url, subjects) == kept + ids[-50:]
    assert await relay.reconcile() == len(ids) - len(kept)  # the lost ones and those past the gap
    await _relay_all(relay)
    assert await _stream_ids(private_nats.url, subjects) == ids  # once each, in commit order
    assert await relay.reconcile() == 0  # and it stays so
    await nc.close()
