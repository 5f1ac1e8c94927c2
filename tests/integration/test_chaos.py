"""A region's year under faults: every figure exact, nothing lost, nobody told twice (issue 17).

The simulator drives the demo region's year (up to today) through the public APIs of all four
services, on PostgreSQL and a private three-node JetStream cluster, while a seeded scheduler
injects faults at random moments: kill -9 of each service (restarted), kill -9 of the stream's
leader (restarted), SIGSTOP/SIGCONT of a node, PostgreSQL backends terminated, and one broker
data loss (the programs stream recreated empty). Then a checker — not an eye — compares:
monitoring's figures with those the plan implies, every committed event with the projections'
processed-event records (each once), the notifications (one per source and recipient), the
dead-letter stream (empty) and the simulator's answers (no 500: a 503 during an outage is fine).
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import nats
from nats.js import JetStreamContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from mentornet_events.subjects import Subjects
from mentornet_simulator.executor import simulate
from mentornet_simulator.plan import PRESETS, Figures, Preset, academic_year, make_plan
from mentornet_simulator.system import System
from mentornet_spine.streams import ensure_streams
from tests.conftest import NatsCluster
from tests.integration.support import eventually

SEED = 17
SERVICES = ("registry", "programs", "monitoring", "notifications")
FAST = {
    "MENTORNET_CONSUMER_ACK_WAIT": "5",
    "MENTORNET_RELAY_RECONCILE_EVERY": "1",
    "MONITORING_REFRESH_EVERY": "1",
}


@dataclass
class Chaos:
    system: System
    cluster: NatsCluster
    postgres_url: str
    rng: random.Random
    injected: Counter[str] = field(default_factory=Counter)
    victims: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.victims = list(SERVICES)
        self.rng.shuffle(self.victims)

    async def kill_service(self) -> None:
        """Each service in turn, in a seeded order."""
        name = self.victims.pop()
        await self.system.kill(name)
        await asyncio.sleep(self.rng.uniform(0.2, 1.5))
        await self.system.respawn(name)
        self.injected[f"kill -9 {name}"] += 1

    async def _leader(self) -> Any:
        nc = await nats.connect(servers=self.cluster.servers)
        try:
            info = await nc.jetstream().stream_info(self.system.subjects.stream("programs"))
        finally:
            await nc.close()
        return self.cluster.node(info.cluster.leader) if info.cluster and info.cluster.leader else None

    async def kill_leader(self) -> None:
        leader = await self._leader()
        if leader is None:
            return
        await asyncio.to_thread(leader.stop, True)
        await asyncio.sleep(self.rng.uniform(1.0, 2.5))
        await asyncio.to_thread(leader.start)
        self.injected["kill -9 stream leader"] += 1

    async def pause_node(self) -> None:
        node = self.rng.choice(self.cluster.nodes)
        assert node.process is not None
        node.process.send_signal(signal.SIGSTOP)
        await asyncio.sleep(self.rng.uniform(1.0, 3.0))
        node.process.send_signal(signal.SIGCONT)
        self.injected["SIGSTOP/SIGCONT node"] += 1

    async def terminate_backends(self) -> None:
        engine = create_async_engine(self.postgres_url)
        try:
            async with engine.connect() as conn:
                await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name LIKE 'mentornet-%' AND pid <> pg_backend_pid()"
                    )
                )
        finally:
            await engine.dispose()
        self.injected["PostgreSQL backends terminated"] += 1

    async def lose_stream(self) -> None:
        """The broker loses what it acknowledged: the programs stream recreated empty."""
        nc = await nats.connect(servers=self.cluster.servers)
        try:
            js = nc.jetstream(timeout=10)
            await js.delete_stream(self.system.subjects.stream("programs"))
            # A node restarted by an earlier fault may still be catching up: the meta leader
            # answers a create late or not at all while it does, so the create is asked again.
            await eventually(lambda: _created(js, self.system.subjects), within=60, interval=1.0)
        finally:
            await nc.close()
        self.injected["broker data loss"] += 1

    def schedule(self) -> list[Callable[[], Awaitable[None]]]:
        """Every kind at least once, one data loss, in a seeded order."""
        faults: list[Callable[[], Awaitable[None]]] = [
            *(self.kill_service for _ in SERVICES),
            self.kill_leader,
            self.pause_node,
            self.terminate_backends,
            self.terminate_backends,
        ]
        self.rng.shuffle(faults)
        faults.insert(self.rng.randrange(1, len(faults)), self.lose_stream)
        return faults


async def _created(js: JetStreamContext, subjects: Subjects) -> bool:
    try:
        await ensure_streams(js, subjects, 3)
    except (nats.errors.Error, TimeoutError):
        return False
    return True


async def _operator(system: System) -> dict[str, str]:
    async with httpx.AsyncClient(timeout=30) as client:
        form = {"grant_type": "password", "username": "operator", "password": system.operator_password}
        answer = await client.post(f"{system.url('registry')}/auth/token", data=form)
        return {"Authorization": f"Bearer {answer.raise_for_status().json()['access_token']}"}


async def _figures(system: System, period: str) -> dict[str, int]:
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.get(
            f"{system.url('monitoring')}/indicators/region",
            params={"period": period},
            headers=await _operator(system) | {"Cache-Control": "no-cache"},
        )
        answer.raise_for_status()
        return Figures.shown(answer.json()["figures"])


async def _rows(postgres_url: str, schema: str, query: str) -> list[Any]:
    engine = create_async_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            return list(await conn.execute(text(query.replace("{s}", f'"{schema}"'))))
    finally:
        await engine.dispose()


async def _unapplied(system: System, postgres_url: str) -> dict[str, int]:
    """Per consumer: committed upstream events of its types that it has no record of applying."""
    from monitoring.consumers.facts import MonitoringFacts
    from programs.consumers.eligibility import EligibilityHandler

    schemas = {n: p.schema for n, p in system.processes.items() if p.schema}
    missing: dict[str, int] = {}
    for consumer, handler_types, sources, where in (
        ("monitoring-facts", MonitoringFacts.event_types, ("registry", "programs"), "monitoring"),
        ("programs-eligibility", EligibilityHandler.event_types, ("registry",), "programs"),
    ):
        applied = {
            str(r[0])
            for r in await _rows(
                postgres_url,
                schemas[where],
                f"SELECT event_id FROM {{s}}.processed_events WHERE consumer LIKE '{consumer}%'",
            )
        }
        committed = {
            str(r[0])
            for source in sources
            for r in await _rows(postgres_url, schemas[source], "SELECT event_id, type FROM {s}.events")
            if r[1] in handler_types
        }
        missing[consumer] = len(committed - applied)
    return missing


async def _dead_letters(cluster: NatsCluster, system: System) -> int:
    """The dead-letter stream's size, asked again while a stream leader is being elected."""
    nc = await nats.connect(servers=cluster.servers)
    try:
        for _ in range(30):
            try:
                info = await nc.jetstream().stream_info(system.subjects.dead_letter_stream)
                return int(info.state.messages)
            except (nats.errors.Error, TimeoutError):
                await asyncio.sleep(1.0)
        raise AssertionError("the dead-letter stream did not answer in 30 s")
    finally:
        await nc.close()


async def test_a_region_s_year_under_faults_ends_exact(
    nats_cluster: NatsCluster, postgres_url: str, tmp_path: Path
) -> None:
    today = date.today()
    year = academic_year(today - timedelta(days=30))
    plan = make_plan(replace(PRESETS[Preset.DEMO], year=year, until=today), SEED)
    system = System(
        nats_cluster.url, tmp_path / "system", postgres_url, services=SERVICES, extra_env=FAST, replicas=3
    )
    await system.start()
    chaos = Chaos(system, nats_cluster, postgres_url, random.Random(SEED))
    began = time.monotonic()
    try:
        running = asyncio.create_task(simulate(plan, system.endpoints, system.operator, concurrency=4))
        for fault in chaos.schedule():
            await asyncio.sleep(chaos.rng.uniform(0.5, 2.0))
            await fault()
        result = await running
        expected = vars(plan.figures())
        shown: dict[str, int] = {}

        async def exact() -> bool:
            try:
                shown.update(await _figures(system, plan.period))
            except httpx.HTTPError:  # a 503 while a fault's after-effects settle: ask again
                return False
            return shown == expected

        await eventually(exact, within=90, interval=1.0)
        unapplied: dict[str, int] = {}

        async def all_applied() -> bool:
            unapplied.update(await _unapplied(system, postgres_url))
            return not any(unapplied.values())

        await eventually(all_applied, within=60, interval=1.0)
        dlq = await _dead_letters(nats_cluster, system)
        told = await _rows(
            postgres_url,
            system.processes["notifications"].schema or "",
            "SELECT source_id, recipient, count(*) FROM {s}.notifications_messages "
            "GROUP BY 1, 2 HAVING count(*) > 1",
        )
    finally:
        await system.stop()
    report = {
        "faults": dict(chaos.injected),
        "steps": result.steps,
        "seconds": round(time.monotonic() - began, 1),
        "figures exact": shown == expected,
        "unapplied": unapplied,
        "dead letters": dlq,
        "told twice": len(told),
        "HTTP 500": result.server_errors[:3],
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))
    assert sum(chaos.injected.values()) >= 6 and len(chaos.injected) >= 8, report  # every service killed
    assert shown == expected, report
    assert not any(unapplied.values()) and dlq == 0 and not told, report
    assert result.server_errors == [], report
