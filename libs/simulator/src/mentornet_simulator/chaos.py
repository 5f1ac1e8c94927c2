"""A region's year under faults, and a checker that compares its end with the plan (issue 17).

The simulator drives a plan through the public APIs of all four services, on PostgreSQL and a
private three-node JetStream cluster whose client connections pass through a proxy per node,
while a seeded scheduler injects faults at random moments: kill -9 of each service (restarted),
kill -9 of the stream's leader (restarted), SIGSTOP/SIGCONT of a node, PostgreSQL backends
terminated, a node's client connections made silent, and one broker data loss (the programs
stream recreated empty). Then a checker — not an eye — compares monitoring's figures with those
the plan implies, every committed event with each projection's processed-event records, the
notifications (one per source and recipient), the dead-letter stream and the simulator's answers
(no 500: a 503 during an outage is fine and retried). ``tests/integration/test_chaos.py`` runs the
demo region in CI; ``bench/chaos.py`` the medium one with more rounds.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
from nats.js import JetStreamContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from mentornet_events.subjects import Subjects
from mentornet_simulator.executor import Api, Done, Runner, RunResult
from mentornet_simulator.plan import Figures, RegionPlan
from mentornet_simulator.proxy import TcpProxy
from mentornet_simulator.system import System
from mentornet_spine.natsserver import NatsCluster
from mentornet_spine.services import load_object
from mentornet_spine.streams import ensure_streams

SERVICES = ("registry", "programs", "monitoring", "notifications")
#: settings that make the faults' after-effects pass in seconds rather than a production's minutes
FAST = {
    "MENTORNET_CONSUMER_ACK_WAIT": "5",
    "MENTORNET_RELAY_RECONCILE_EVERY": "1",
    "MONITORING_REFRESH_EVERY": "1",
    # a silent connection is given up after two unanswered pings a second apart
    "NATS_PING_INTERVAL": "1",
    "NATS_MAX_OUTSTANDING_PINGS": "2",
    "NATS_CONNECT_TIMEOUT": "2",
}
#: the projections checked event by event: consumer, its handler (for the types it applies),
#: the service that keeps its records and the services whose events it reads
PROJECTIONS = (
    (
        "monitoring-facts",
        "monitoring.consumers.facts:MonitoringFacts",
        "monitoring",
        ("registry", "programs"),
    ),
    ("programs-eligibility", "programs.consumers.eligibility:EligibilityHandler", "programs", ("registry",)),
)

Fault = Callable[[], Awaitable[None]]


@dataclass
class Chaos:
    """The faults, each a coroutine that injects one and lets it pass (restart, resume, restore)."""

    system: System
    cluster: NatsCluster
    proxies: list[TcpProxy]
    postgres_url: str
    rng: random.Random
    injected: Counter[str] = field(default_factory=Counter)
    victims: list[str] = field(default_factory=list)
    #: PostgreSQL connections the terminations ended (a termination that met none proves nothing)
    backends_ended: int = 0

    def __post_init__(self) -> None:
        self.victims = list(SERVICES)
        self.rng.shuffle(self.victims)

    async def kill_service(self) -> None:
        """Each service in turn, in a seeded order."""
        name = self.victims[sum(self.injected[f"kill -9 {n}"] for n in SERVICES) % len(self.victims)]
        await self.system.kill(name)
        await asyncio.sleep(self.rng.uniform(0.2, 1.5))
        await self.system.respawn(name)
        self.injected[f"kill -9 {name}"] += 1

    async def _leader(self) -> Any:
        nc = await nats.connect(servers=self.cluster.servers)
        try:
            info = await nc.jetstream(timeout=10).stream_info(self.system.subjects.stream("programs"))
        finally:
            await nc.close()
        return self.cluster.node(info.cluster.leader) if info.cluster and info.cluster.leader else None

    async def kill_leader(self) -> None:
        leader = await _until(self._leader, within=30)
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

    async def silence_connections(self) -> None:
        """A node's client connections go quiet, nothing closed (a cable pulled, a stuck NAT):
        the services connected through it stop hearing pongs and reconnect to another node."""
        proxy = self.rng.choice(self.proxies)
        proxy.silence()
        await asyncio.sleep(self.rng.uniform(3.0, 6.0))
        await proxy.restore()
        self.injected["NATS connections made silent"] += 1

    async def terminate_backends(self) -> None:
        """Every PostgreSQL connection of this system's services (not of others on the server)."""
        names = [self.system.application_name(name) for name in SERVICES]
        engine = create_async_engine(self.postgres_url)
        try:
            async with engine.connect() as conn:
                ended = await conn.scalars(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = ANY(:names) AND pid <> pg_backend_pid()"
                    ),
                    {"names": names},
                )
                self.backends_ended += sum(1 for e in ended if e)
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
            await _until(lambda: _created(js, self.system.subjects), within=60)
        finally:
            await nc.close()
        self.injected["broker data loss"] += 1

    def schedule(self, rounds: int = 1) -> list[Fault]:
        """Every kind in each round (every service killed), one data loss, in a seeded order."""
        faults: list[Fault] = []
        for _ in range(rounds):
            faults += [
                *(self.kill_service for _ in SERVICES),
                self.kill_leader,
                self.pause_node,
                self.silence_connections,
                self.terminate_backends,
                self.terminate_backends,
            ]
        self.rng.shuffle(faults)
        faults.insert(self.rng.randrange(1, len(faults)), self.lose_stream)
        return faults

    @property
    def kinds(self) -> int:
        """Kinds of fault injected (a kill of any service is one kind)."""
        killed = {f"kill -9 {n}" for n in SERVICES}
        return len({"kill -9 service" if k in killed else k for k in self.injected})


@dataclass
class Report:
    """What the checker found; ``exact`` only if every check holds."""

    faults: dict[str, int]
    fault_kinds: int
    steps: int
    events: int
    seconds: float
    figures_expected: dict[str, int]
    figures_shown: dict[str, int]
    #: per projection: committed upstream events of its types with no record of being applied
    unapplied: dict[str, int]
    dead_letters: int
    told_twice: int
    server_errors: list[str]
    backends_ended: int = 0
    #: how the last request for the figures failed, if it did (the figures shown are older then)
    figures_failed: str = ""

    @property
    def figures_wrong(self) -> dict[str, tuple[int | None, int | None]]:
        keys = self.figures_expected.keys() | self.figures_shown.keys()
        return {
            k: (self.figures_expected.get(k), self.figures_shown.get(k))
            for k in sorted(keys)
            if self.figures_expected.get(k) != self.figures_shown.get(k)
        }

    @property
    def checks(self) -> dict[str, bool]:
        return {
            "monitoring's figures equal the plan's": not self.figures_wrong and not self.figures_failed,
            "every committed event applied by every projection": not any(self.unapplied.values()),
            "dead-letter stream empty": self.dead_letters == 0,
            "nobody told twice": self.told_twice == 0,
            "no HTTP 500": not self.server_errors,
        }

    @property
    def exact(self) -> bool:
        return all(self.checks.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "faults": self.faults,
            "fault kinds": self.fault_kinds,
            "PostgreSQL connections ended": self.backends_ended,
            "commands": self.steps,
            "events": self.events,
            "seconds": self.seconds,
            "checks": self.checks,
            "figures wrong (plan, shown)": self.figures_wrong,
            "figures' last request failed": self.figures_failed,
            "unapplied": self.unapplied,
            "dead letters": self.dead_letters,
            "told twice": self.told_twice,
            "HTTP 500": self.server_errors[:3],
        }


class Stalled(RuntimeError):
    """The rehearsal did not end within its budget: what it was waiting for, and the services' last
    warnings (a hang is a finding, reported as one rather than as a test runner's timeout)."""


@dataclass
class Progress:
    """The simulation as the rehearsal watches it: steps done and when the last one was."""

    steps: int = 0
    last_at: float = field(default_factory=time.monotonic)
    last: str = ""
    phase: str = "start"
    api: Api | None = None

    def done(self, step: Done) -> None:
        self.steps += 1
        self.last_at = time.monotonic()
        self.last = f"{step.school} {step.act.value}"

    def __str__(self) -> str:
        ago = time.monotonic() - self.last_at
        waiting = "; ".join(self.api.waiting()[:6]) if self.api else ""
        last = f"the last ({self.last}) {ago:.0f} s ago"
        return f"{self.phase}; {self.steps} steps, {last}; waiting for: {waiting or 'no call'}"


async def rehearse(
    plan: RegionPlan,
    cluster: NatsCluster,
    postgres_url: str,
    data_dir: Path,
    *,
    seed: int,
    rounds: int = 1,
    gap: tuple[float, float] = (0.5, 2.0),
    concurrency: int = 4,
    settle_s: float = 90.0,
    budget_s: float | None = None,
    keep: bool = False,
) -> Report:
    """The plan's year while faults hit it (``gap``: the seconds between two faults), then the
    checks; past ``budget_s`` it raises ``Stalled`` saying where it waited. ``keep``: leave the
    services' schemas and streams for a post-mortem."""
    proxies = [await TcpProxy("127.0.0.1", node.port).start() for node in cluster.nodes]
    system = System(
        ",".join(f"nats://127.0.0.1:{p.port}" for p in proxies),
        data_dir,
        postgres_url,
        services=SERVICES,
        extra_env=FAST,
        replicas=len(cluster.nodes),
    )
    rng = random.Random(seed)
    chaos = Chaos(system, cluster, proxies, postgres_url, rng)
    progress = Progress()
    began = time.monotonic()
    running: asyncio.Task[RunResult] | None = None
    try:
        async with asyncio.timeout(budget_s):
            await system.start()
            runner = Runner(plan, system.endpoints, system.operator, concurrency, [progress.done])
            progress.api = runner.api
            running = asyncio.create_task(runner.run())
            for fault in chaos.schedule(rounds):
                await asyncio.sleep(rng.uniform(*gap))
                progress.phase = f"fault {fault.__name__} (after {dict(chaos.injected)})"
                await fault()
            progress.phase = "the simulation's end"
            result = await running
            return await _check(system, cluster, plan, result, chaos, began, settle_s, progress)
    except TimeoutError as timeout:
        state = await _state(system, cluster)
        raise Stalled(f"not done in {budget_s} s: {progress}\n{state}\n{_warnings(system)}") from timeout
    finally:
        if running is not None and not running.done():
            running.cancel()
            await asyncio.wait([running], timeout=10)
        await system.stop(clean=not keep, streams=False)  # the cluster is the caller's, thrown away
        for proxy in proxies:
            await proxy.close()


async def _state(system: System, cluster: NatsCluster) -> str:
    """Where the events stand: per service committed and relayed, per stream its last sequence and
    each durable consumer's pending and unacknowledged messages (asked, not waited for)."""
    lines = []
    try:
        for name in SERVICES:
            schema = system.processes[name].schema or ""
            [(committed, relayed)] = await _rows(
                system.postgres_url or "",
                schema,
                "SELECT (SELECT coalesce(max(position), 0) FROM {s}.events), "
                "(SELECT coalesce(max(position), 0) FROM {s}.relay_checkpoints)",
            )
            lines.append(f"{name}: committed up to {committed}, relayed up to {relayed}")
        nc = await nats.connect(servers=cluster.servers)
        try:
            js = nc.jetstream(timeout=5)
            for name in SERVICES:
                stream = system.subjects.stream(name)
                try:
                    info = await js.stream_info(stream)
                except nats.js.errors.NotFoundError:
                    continue  # a service that publishes no events has no stream
                consumers = [
                    f"{c.name} pending {c.num_pending} unacked {c.num_ack_pending} "
                    f"redelivered {c.num_redelivered} waiting {c.num_waiting}"
                    for c in await js.consumers_info(stream)
                ]
                lines.append(f"{stream}: last {info.state.last_seq}; " + "; ".join(consumers))
        finally:
            await nc.close()
    except Exception as error:  # a post-mortem helper: whatever it could not ask, it says so
        lines.append(f"(not all asked: {error!r})")
    return "\n".join(lines)


def _warnings(system: System, last: int = 12) -> str:
    """Each service's last warnings and errors, one line each."""
    lines = []
    for name in system.processes:
        path = system.data_dir / f"{name}.log"
        found = [
            line[:300]
            for line in (path.read_text(errors="replace").splitlines() if path.exists() else [])
            if '"level": "WARNING"' in line or '"level": "ERROR"' in line
        ]
        lines += [f"{name}: {line}" for line in found[-last:]]
    return "\n".join(lines)


async def _check(
    system: System,
    cluster: NatsCluster,
    plan: RegionPlan,
    result: RunResult,
    chaos: Chaos,
    began: float,
    settle_s: float,
    progress: Progress,
) -> Report:
    expected = vars(plan.figures())
    shown: dict[str, int] = {}
    postgres_url = system.postgres_url
    assert postgres_url is not None

    failed: list[str] = []

    async def exact() -> bool:
        try:
            shown.update(await _figures(system, plan.period))
        except httpx.HTTPError as error:  # a 503 while a fault's after-effects settle: ask again
            failed.append(f"{type(error).__name__}: {error}"[:300])
            return False
        failed.clear()
        return shown == expected

    progress.phase = "monitoring's figures"
    await _until(exact, within=settle_s)
    unapplied: dict[str, int] = {}

    async def all_applied() -> bool:
        unapplied.update(await _unapplied(system, postgres_url))
        return not any(unapplied.values())

    progress.phase = "the projections' records"
    await _until(all_applied, within=settle_s)
    progress.phase = "the notifications and the dead letters"
    schemas = _schemas(system)
    told = await _rows(
        postgres_url,
        schemas["notifications"],
        "SELECT source_id, recipient, count(*) FROM {s}.notifications_messages "
        "GROUP BY 1, 2 HAVING count(*) > 1",
    )
    events = 0
    for name in SERVICES:
        [(count,)] = await _rows(postgres_url, schemas[name], "SELECT count(*) FROM {s}.events")
        events += int(count)
    return Report(
        faults=dict(chaos.injected),
        fault_kinds=chaos.kinds,
        steps=result.steps,
        events=events,
        seconds=round(time.monotonic() - began, 1),
        figures_expected=expected,
        figures_shown=shown,
        unapplied=unapplied,
        dead_letters=await _dead_letters(cluster, system),
        told_twice=len(told),
        server_errors=list(result.server_errors),
        figures_failed=failed[-1] if failed else "",
        backends_ended=chaos.backends_ended,
    )


async def _until(check: Callable[[], Awaitable[Any]], within: float, interval: float = 1.0) -> Any:
    """The first truthy answer of ``check``, asked every ``interval`` s; its last answer after ``within``."""
    deadline = time.monotonic() + within
    while not (answer := await check()) and time.monotonic() < deadline:  # noqa: ASYNC110 (polls a peer)
        await asyncio.sleep(interval)
    return answer


async def _created(js: JetStreamContext, subjects: Subjects) -> bool:
    try:
        await ensure_streams(js, subjects, 3)
    except (nats.errors.Error, TimeoutError):
        return False
    return True


async def _figures(system: System, period: str) -> dict[str, int]:
    async with httpx.AsyncClient(timeout=30) as client:
        form = {"grant_type": "password", "username": "operator", "password": system.operator_password}
        token = (await client.post(f"{system.url('registry')}/auth/token", data=form)).raise_for_status()
        answer = await client.get(
            f"{system.url('monitoring')}/indicators/region",
            params={"period": period},
            headers={"Authorization": f"Bearer {token.json()['access_token']}", "Cache-Control": "no-cache"},
        )
        return Figures.shown(answer.raise_for_status().json()["figures"])


def _schemas(system: System) -> dict[str, str]:
    return {n: p.schema for n, p in system.processes.items() if p.schema}


async def _rows(postgres_url: str, schema: str, query: str) -> list[Any]:
    engine = create_async_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            return list(await conn.execute(text(query.replace("{s}", f'"{schema}"'))))
    finally:
        await engine.dispose()


async def _unapplied(system: System, postgres_url: str) -> dict[str, int]:
    """Per projection: committed upstream events of its types that it has no record of applying,
    plus any it has a record of applying twice (a position in two of its batch rows)."""
    schemas = _schemas(system)
    missing: dict[str, int] = {}
    for consumer, handler, keeper, sources in PROJECTIONS:
        types = load_object(handler).event_types
        batches = await _rows(
            postgres_url,
            schemas[keeper],
            f"SELECT stream, positions FROM {{s}}.applied_batches WHERE consumer LIKE '{consumer}%'",
        )
        applied = [(str(stream), int(p)) for stream, positions in batches for p in positions]
        by_id = await _rows(
            postgres_url,
            schemas[keeper],
            f"SELECT event_id FROM {{s}}.processed_events WHERE consumer LIKE '{consumer}%'",
        )
        committed_positions: set[tuple[str, int]] = set()
        committed_ids: dict[tuple[str, int], str] = {}
        for source in sources:
            stream = system.subjects.stream(source)
            for position, event_id, kind in await _rows(
                postgres_url, schemas[source], "SELECT position, event_id, type FROM {s}.events"
            ):
                if kind in types:
                    committed_positions.add((stream, int(position)))
                    committed_ids[(stream, int(position))] = str(event_id)
        known_ids = {str(r[0]) for r in by_id}
        unapplied = {key for key in committed_positions - set(applied) if committed_ids[key] not in known_ids}
        missing[consumer] = len(unapplied) + len(applied) - len(set(applied))
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
        raise RuntimeError("the dead-letter stream did not answer in 30 s")
    finally:
        await nc.close()
