"""Faults survived with nothing lost and nothing applied twice, all on real processes over loopback:
a service killed mid-batch, the broker restarted, the node leading a stream killed in a cluster of
three, PostgreSQL backends terminated and PostgreSQL away for seconds, the network to NATS silent
for longer than the client's ping window. After each, every committed event (read back from the
service's own store) is on the stream once and in the projection once, and nothing was dead-lettered.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
import nats
from nats.js import JetStreamContext
from nats.js.errors import ServiceUnavailableError
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from mentornet_events import Subjects
from mentornet_simulator.proxy import TcpProxy
from mentornet_spine.natsserver import NatsCluster, NatsServer, free_port
from mentornet_spine.store import EventStore
from mentornet_spine.streams import delete_streams
from mentornet_spine.tables import events
from mentornet_spine.testing import EventCounts, pair_formed, tenant
from tests.conftest import Database
from tests.integration.support import eventually, stream_messages

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
#: Events delivered to a process that died, or whose acks a broker restart or a silent network
#: lost, come back after the consumer's ack wait (30 s by default): 5 s keeps each test short.
SHORT_ACK_WAIT = {"MENTORNET_CONSUMER_ACK_WAIT": "5"}


class ServiceProcess:
    """The sample service run as ``mentornet up`` runs it: its own process on a real broker and database."""

    def __init__(
        self,
        db: Database,
        nats_url: str,
        subjects: Subjects,
        log: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.log = log
        self.env = (
            os.environ
            | db.env()
            | {
                "MENTORNET_EXTRA_SERVICES": "tests.integration.sample_service:SPEC",
                "MENTORNET_SERVICE": "sample",
                "MENTORNET_SUBJECT_ROOT": subjects.root,
                "NATS_URL": nats_url,
                "PORT": str(self.port),
                "PYTHONPATH": str(ROOT),
            }
            | (env or {})
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "mentornet_spine.serve", "sample"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def _assert_exactly_once(
    db: Database, nats_url: str, subjects: Subjects, expected_ids: list[str], counts: EventCounts
) -> None:
    table, applied = await counts.content(db.engine)
    duplicates = [i for i, n in Counter(applied).items() if n > 1]
    assert duplicates == [], f"applied twice: {duplicates[:5]}"
    assert sorted(map(str, applied)) == sorted(expected_ids)
    assert sum(table.values()) == len(expected_ids)
    nc = await nats.connect(nats_url)
    try:
        msgs = await stream_messages(
            nc.jetstream(), subjects.stream("programs"), subjects.service_wildcard("programs")
        )
        assert [m.headers["Nats-Msg-Id"] for m in msgs] == expected_ids  # once each, in commit order
        await delete_streams(nc.jetstream(), subjects)
    finally:
        await nc.close()


async def test_service_killed_mid_batch_then_restarted(
    pg_database: Database, nats_url: str, subjects: Subjects, tmp_path: Path
) -> None:
    """The relay and the consumer die at arbitrary points (kill -9) while thousands of events flow."""
    service = ServiceProcess(pg_database, nats_url, subjects, tmp_path / "service.log", SHORT_ACK_WAIT)
    service.start()
    counts = EventCounts("sample-event-counts")
    store = EventStore(pg_database.engine)
    expected: list[str] = []
    try:
        for kill_round in range(2):
            for i in range(40):
                stored = await store.append(
                    f"pair-{kill_round}-{i}",
                    0,
                    [pair_formed() for _ in range(50)],
                    tenant=tenant(f"s{i % 3}"),
                )
                expected += [str(s.envelope.event_id) for s in stored]
            target = len(expected)

            async def some_applied(target: int = target) -> bool:
                _, applied = await counts.content(pg_database.engine)
                return target - 2000 < len(applied) < target

            await eventually(some_applied, within=30, interval=0.01)
            service.kill()  # mid-batch: relay and consumer both die without warning
            service.start()

        async def all_applied() -> bool:
            _, applied = await counts.content(pg_database.engine)
            return len(applied) >= len(expected)

        await eventually(all_applied, within=60)
        await asyncio.sleep(0.5)  # anything applied twice would show up now
    finally:
        service.stop()
    await _assert_exactly_once(pg_database, nats_url, subjects, expected, counts)


async def test_nats_restarted_under_load(
    pg_database: Database, private_nats: NatsServer, subjects: Subjects, tmp_path: Path
) -> None:
    service = ServiceProcess(
        pg_database, private_nats.url, subjects, tmp_path / "service.log", SHORT_ACK_WAIT
    )
    service.start()
    counts = EventCounts("sample-event-counts")
    expected: list[str] = []
    url = f"http://127.0.0.1:{service.port}/pairs"
    try:
        async with httpx.AsyncClient(timeout=30) as client:

            async def load(seconds: float) -> None:
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    answer = await client.post(url, json={"school": "s1", "count": 10})
                    answer.raise_for_status()
                    expected.extend(answer.json()["event_ids"])

            loading = asyncio.create_task(load(6.0))
            await asyncio.sleep(2.0)
            await asyncio.to_thread(private_nats.stop)
            await asyncio.sleep(1.5)  # appends keep committing while the broker is away
            await asyncio.to_thread(private_nats.start)
            before_restart = len(expected)
            await loading

        async def all_applied() -> bool:
            _, applied = await counts.content(pg_database.engine)
            return len(applied) >= len(expected)

        await eventually(all_applied, within=60)
        await asyncio.sleep(0.5)
    finally:
        service.stop()
    assert 0 < before_restart < len(expected)  # events flowed before and after the restart
    await _assert_exactly_once(pg_database, private_nats.url, subjects, expected, counts)


async def _committed_ids(db: Database) -> list[str]:
    async with db.engine.connect() as conn:
        return [str(i) for i in await conn.scalars(select(events.c.event_id).order_by(events.c.position))]


async def _assert_committed_applied_once(
    db: Database,
    servers: list[str],
    subjects: Subjects,
    counts: EventCounts,
    acknowledged: list[str],
    delete_after: bool = True,
) -> list[str]:
    """Every event committed to the store is on the stream once and in the projection once; every
    event the API acknowledged is among them; nothing went to the dead-letter stream. Then the
    streams are deleted (``delete_after``) from a broker other tests share."""
    committed = await _committed_ids(db)
    assert set(acknowledged) <= set(committed), "an acknowledged event is missing from the store"
    _, applied = await counts.content(db.engine)
    twice = [i for i, n in Counter(map(str, applied)).items() if n > 1]
    assert twice == [], f"applied twice: {twice[:5]}"
    assert sorted(map(str, applied)) == sorted(committed)
    nc = await nats.connect(servers=servers)
    try:
        js = nc.jetstream()
        on_stream = await _message_ids(js, subjects.stream("programs"))
        assert [i for i, n in Counter(on_stream).items() if n > 1] == [], "published twice"
        assert sorted(on_stream) == sorted(committed)
        dead = await js.stream_info(subjects.dead_letter_stream)
        assert dead.state.messages == 0, "an event was dead-lettered"
        if delete_after:
            await delete_streams(js, subjects)
    finally:
        await nc.close()
    return committed


async def _message_ids(js: JetStreamContext, stream: str) -> list[str]:
    """Every message id in the stream, asked of the stream's leader one by one: with a node of the
    cluster down, a consumer for reading it back could be placed on the dead node."""
    state = (await _asked_again(lambda: js.stream_info(stream))).state
    ids = []
    for seq in range(state.first_seq, state.last_seq + 1):
        msg = await _asked_again(lambda seq=seq: js.get_msg(stream, seq))
        assert msg.headers is not None
        ids.append(msg.headers["Nats-Msg-Id"])
    return ids


async def _asked_again(ask: Callable[[], Awaitable[T]]) -> T:
    """A read of the stream, asked again while the cluster answers 503 (a node just killed: its
    meta leader may still be catching up); only the read is repeated, never what it asserts."""
    for _ in range(50):
        try:
            return await ask()
        except ServiceUnavailableError:
            await asyncio.sleep(0.2)
    return await ask()


class Load:
    """Posts pairs to the sample service for a while; remembers what the API acknowledged."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/pairs"
        self.acknowledged: list[str] = []
        self.refused = 0
        #: server errors by status: an outage should be a 503 (retry), never a 500
        self.failures: Counter[int] = Counter()

    async def run(self, seconds: float, tolerate_errors: bool = False) -> None:
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(timeout=30) as client:
            while time.monotonic() < deadline:
                try:
                    answer = await client.post(self.url, json={"school": "s1", "count": 5})
                except httpx.HTTPError:
                    if not tolerate_errors:
                        raise
                    self.refused += 1
                    await asyncio.sleep(0.05)
                    continue
                if answer.status_code >= 500 and tolerate_errors:
                    self.refused += 1  # the database was away: a client retries
                    self.failures[answer.status_code] += 1
                    await asyncio.sleep(0.05)
                    continue
                answer.raise_for_status()
                self.acknowledged.extend(answer.json()["event_ids"])


async def _all_applied(db: Database, counts: EventCounts, within: float = 60) -> None:
    async def caught_up() -> bool:
        _, applied = await counts.content(db.engine)
        return len(applied) >= len(await _committed_ids(db))

    await eventually(caught_up, within=within, interval=0.2)
    await asyncio.sleep(0.5)  # anything applied twice would show up now


async def test_stream_leader_killed_in_a_cluster_of_three(
    pg_database: Database, nats_cluster: NatsCluster, subjects: Subjects, tmp_path: Path
) -> None:
    """kill -9 of the node leading the service's stream while events flow: the other two elect a
    new leader, the relay's and the consumer's connections move to a live node, nothing is lost."""
    service = ServiceProcess(
        pg_database,
        nats_cluster.url,
        subjects,
        tmp_path / "service.log",
        {"MENTORNET_STREAM_REPLICAS": "3"} | SHORT_ACK_WAIT,
    )
    service.start()
    counts = EventCounts("sample-event-counts")
    load = Load(service.port)
    try:
        loading = asyncio.create_task(load.run(6.0))
        await asyncio.sleep(2.0)
        nc = await nats.connect(servers=nats_cluster.servers)
        info = await nc.jetstream().stream_info(subjects.stream("programs"))
        await nc.close()
        assert info.config.num_replicas == 3 and info.cluster is not None and info.cluster.leader
        leader = nats_cluster.node(info.cluster.leader)
        applied_before = len((await counts.content(pg_database.engine))[1])
        acknowledged_before = len(load.acknowledged)
        await asyncio.to_thread(leader.stop, True)  # kill -9 while appends, relay and consumer run
        await loading
        await _all_applied(pg_database, counts)
    finally:
        service.stop()
    # flowing before and after (an event may be applied before its HTTP answer reaches the client,
    # so the two counts are not compared with each other)
    assert applied_before > 0 and 0 < acknowledged_before < len(load.acknowledged)
    live = [n.url for n in nats_cluster.nodes if n is not leader]
    nc = await nats.connect(servers=live)
    after = await nc.jetstream().stream_info(subjects.stream("programs"))
    await nc.close()
    assert after.cluster is not None and after.cluster.leader not in (None, leader.name)
    # the cluster is this test's own and goes with it: no stream deletion, which a cluster that just
    # lost its leader may answer after the request's timeout (a CI run failed there, every check passed)
    committed = await _assert_committed_applied_once(
        pg_database, live, subjects, counts, load.acknowledged, delete_after=False
    )
    assert len(committed) == len(load.acknowledged)


async def test_postgres_backends_terminated_during_writes(
    pg_database: Database, nats_url: str, subjects: Subjects, tmp_path: Path
) -> None:
    """Every connection of the service is terminated (pg_terminate_backend), again and again, while
    it appends, relays and applies: requests may fail with 503, committed events all arrive once."""
    name = f"mnfault-{subjects.root}"
    env = {"DATABASE_APPLICATION_NAME": name, "SAMPLE_CONSUMER_BACKOFF": "0.1"}
    service = ServiceProcess(pg_database, nats_url, subjects, tmp_path / "service.log", env)
    service.start()
    counts = EventCounts("sample-event-counts")
    load = Load(service.port)
    terminated = 0
    admin = create_async_engine(pg_database.url)
    try:
        loading = asyncio.create_task(load.run(5.0, tolerate_errors=True))
        await asyncio.sleep(1.0)
        while not loading.done():
            async with admin.connect() as conn:
                killed = await conn.scalars(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                terminated += sum(1 for ok in killed if ok)
            await asyncio.sleep(0.4)
        await loading
        await _all_applied(pg_database, counts)
    finally:
        service.stop()
        await admin.dispose()
    assert terminated >= 5
    assert set(load.failures) <= {503}, load.failures
    await _assert_committed_applied_once(pg_database, [nats_url], subjects, counts, load.acknowledged)
    assert load.acknowledged, "no write got through between the terminations"


async def test_postgres_away_for_seconds(
    pg_database: Database, nats_url: str, subjects: Subjects, tmp_path: Path
) -> None:
    """PostgreSQL unreachable for 3 s (connections cut, new ones refused) while events flow: the
    consumer waits for it instead of spending attempts, so no event reaches the dead-letter stream."""
    real = make_url(pg_database.url)
    proxy = await TcpProxy(real.host or "127.0.0.1", real.port or 5432).start()
    proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    # five attempts 0.1 s apart: were the outage counted against the events, 3 s would dead-letter them
    env = {"DATABASE_URL": proxied, "SAMPLE_CONSUMER_BACKOFF": "0.1"}
    service = ServiceProcess(pg_database, nats_url, subjects, tmp_path / "service.log", env)
    await asyncio.to_thread(service.start)
    counts = EventCounts("sample-event-counts")
    load = Load(service.port)
    try:
        loading = asyncio.create_task(load.run(6.0, tolerate_errors=True))
        await asyncio.sleep(1.5)
        await proxy.cut()
        await asyncio.sleep(3.0)
        await proxy.restore()
        await loading
        await _all_applied(pg_database, counts)
    finally:
        await asyncio.to_thread(service.stop)
        await proxy.close()
    assert load.refused > 0, "the outage did not reach the service"
    assert set(load.failures) <= {503}, load.failures
    await _assert_committed_applied_once(pg_database, [nats_url], subjects, counts, load.acknowledged)
    assert "database unavailable" in service.log.read_text()


async def test_network_to_nats_silent_longer_than_the_ping_window(
    pg_database: Database, private_nats: NatsServer, subjects: Subjects, tmp_path: Path
) -> None:
    """The network to NATS goes quiet for 8 s without closing anything (a cable pulled, a stuck
    NAT): pings go unanswered, the client drops the stale connection and keeps reconnecting until
    the network is back; appends go on meanwhile and everything is relayed and applied once."""
    proxy = await TcpProxy("127.0.0.1", private_nats.port).start()
    service = ServiceProcess(
        pg_database,
        f"nats://127.0.0.1:{proxy.port}",
        subjects,
        tmp_path / "service.log",
        {
            "NATS_PING_INTERVAL": "1",
            "NATS_MAX_OUTSTANDING_PINGS": "2",
            "NATS_CONNECT_TIMEOUT": "1",
        }
        | SHORT_ACK_WAIT,
    )
    await asyncio.to_thread(service.start)
    counts = EventCounts("sample-event-counts")
    load = Load(service.port)
    try:
        loading = asyncio.create_task(load.run(11.0))
        await asyncio.sleep(1.5)
        connections = proxy.connections
        silent_from = time.monotonic()
        proxy.silence()
        await asyncio.sleep(8.0)
        await proxy.restore()
        retried = [t - silent_from for t in proxy.accepted_at if t > silent_from]
        await loading
        await _all_applied(pg_database, counts)
    finally:
        await asyncio.to_thread(service.stop)
        await proxy.close()
    # pings every 1 s, two unanswered: the client gives up the silent connection within seconds
    assert retried and retried[0] < 5.0, f"no reconnect attempt while silent: {retried}"
    assert proxy.connections > connections, "the client never reconnected"
    await _assert_committed_applied_once(pg_database, [private_nats.url], subjects, counts, load.acknowledged)
