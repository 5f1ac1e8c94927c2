"""Faults survived with nothing lost and nothing applied twice: a killed service, a restarted broker."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import nats

from mentornet_events import Subjects
from mentornet_spine.natsserver import NatsServer, free_port
from mentornet_spine.store import EventStore
from mentornet_spine.streams import delete_streams
from mentornet_spine.testing import EventCounts, pair_formed, tenant
from tests.conftest import Database
from tests.integration.support import eventually, stream_messages

ROOT = Path(__file__).resolve().parents[2]


class ServiceProcess:
    """The sample service run as ``mentornet up`` runs it: its own process on a real broker and database."""

    def __init__(self, db: Database, nats_url: str, subjects: Subjects, log: Path) -> None:
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
    service = ServiceProcess(pg_database, nats_url, subjects, tmp_path / "service.log")
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
    service = ServiceProcess(pg_database, private_nats.url, subjects, tmp_path / "service.log")
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
            await loading

        async def all_applied() -> bool:
            _, applied = await counts.content(pg_database.engine)
            return len(applied) >= len(expected)

        await eventually(all_applied, within=60)
        await asyncio.sleep(0.5)
    finally:
        service.stop()
    assert len(expected) > 100
    await _assert_exactly_once(pg_database, private_nats.url, subjects, expected, counts)
