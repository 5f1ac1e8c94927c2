"""The whole system under a simulated region's academic year, on PostgreSQL and the local NATS.

Every service runs as its own process (``python -m mentornet_spine.serve <name>``) on a fresh
PostgreSQL schema, under a subject root of this run's own on the local NATS; the region simulator
(``mentornet_simulator``, the ``--preset`` region, default the large one: 1,100 schools in 40
municipalities, 45,000 teachers) drives their public APIs through one academic year. Measured:

- steps (commands) per second of the simulator and the whole run's wall time;
- events per second through the services: appended to the registry's and programs' streams, and
  handled by every durable consumer (monitoring, programs' eligibility, notifications);
- command → figure latency: after every ``--sample-every``-th pair formed or meeting held, the
  school's figure in the monitoring service (``GET /indicators/schools/{code}`` with
  ``Cache-Control: no-cache``, i.e. at the current stream positions) is polled every 100 ms from
  300 ms after the command's send until it counts the command; latency from the command's send
  (p50, p99; at most 2 probes at a time, so that the probing does not load the monitoring service
  more than a few dashboards would);
- consumer lag at the peak: every second, each consumer's pending + unacknowledged messages;
- CPU seconds and peak RSS per service (psutil; VmHWM from /proc), the simulator's own too.

At the end the bench waits for every consumer to drain, then checks that the region's figures are
exactly those the plan implies. Floors: the large region's year in under 15 minutes; p99
command → figure latency under 2 s.

    .venv/bin/python bench/region.py                      # large, writes bench/results/region.md
    .venv/bin/python bench/region.py --preset medium --output /tmp/region-medium.md
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent  # bench/registry.py etc. would shadow the service packages
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field, replace  # noqa: E402
from datetime import UTC, date, datetime  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
import nats  # noqa: E402
import psutil  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from mentornet_simulator.cli import run_with_progress  # noqa: E402
from mentornet_simulator.executor import Done  # noqa: E402
from mentornet_simulator.plan import PRESETS, Act, Figures, Preset, RegionPlan, academic_year, make_plan  # noqa: E402
from mentornet_simulator.system import System  # noqa: E402

DEFAULT_NATS = "nats://127.0.0.1:4222"
DEFAULT_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SERVICES = ("registry", "programs", "monitoring", "notifications")
PROBED = {Act.FORM_PAIR: ("pairs", "formed"), Act.MEETING: ("feedback", "meetings")}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Usage:
    """A process's CPU and memory, sampled every second."""

    process: psutil.Process
    cpu_start: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0

    def start(self) -> None:
        times = self.process.cpu_times()
        self.cpu_start = times.user + times.system

    def sample(self) -> None:
        try:
            times = self.process.cpu_times()
            self.cpu_s = times.user + times.system - self.cpu_start
            self.peak_rss_mb = max(
                self.peak_rss_mb, self.process.memory_info().rss / 2**20, _hwm_mb(self.process.pid)
            )
        except psutil.Error:
            pass


@dataclass
class GroupUsage:
    """CPU of every process of one program (PostgreSQL's backends, the NATS server): shared by the
    whole machine, so it includes anything else they serve; a backend that exits takes its share."""

    program: str
    cpu_start: dict[int, float] = field(default_factory=dict)
    cpu: dict[int, float] = field(default_factory=dict)
    peak_rss_mb: float = float("nan")

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu.values())

    def _each(self) -> list[tuple[int, float]]:
        found = []
        for process in psutil.process_iter(["name"]):
            if process.info["name"] == self.program:
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    found.append((process.pid, times.user + times.system))
        return found

    def start(self) -> None:
        self.cpu_start = dict(self._each())

    def sample(self) -> None:
        for pid, cpu in self._each():
            self.cpu[pid] = cpu - self.cpu_start.get(pid, 0.0)


def _hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Watch:
    """What the bench watches while the year runs."""

    system: System
    plan: RegionPlan
    token: str = ""
    usage: dict[str, Usage | GroupUsage] = field(default_factory=dict)
    peak_lag: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    #: each step's duration as the school saw it (request and answer, retries and waits included)
    step_seconds: dict[str, list[float]] = field(default_factory=dict)
    probes: set[asyncio.Task[None]] = field(default_factory=set)
    seen: dict[Act, int] = field(default_factory=dict)
    sample_every: int = 20
    max_probes: int = 2
    poll_s: float = 0.1
    #: no figure has ever followed its command this fast: earlier polls only load monitoring
    first_poll_s: float = 0.3
    client: httpx.AsyncClient | None = None

    async def lag(self, js: Any) -> dict[str, int]:
        prefix = self.system.root.upper() + "_"
        lags: dict[str, int] = {}
        for info in await js.streams_info():
            name = info.config.name or ""
            if name.startswith(prefix):
                for c in await js.consumers_info(name):
                    lags[f"{name.removeprefix(prefix).lower()}/{c.name}"] = c.num_pending + c.num_ack_pending
        return lags

    async def watch(self, stop: asyncio.Event) -> None:
        nc = await nats.connect(self.system.nats_url)
        js = nc.jetstream()
        try:
            while not stop.is_set():
                for name, lag in (await self.lag(js)).items():
                    self.peak_lag[name] = max(self.peak_lag.get(name, 0), lag)
                for usage in self.usage.values():
                    usage.sample()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
        finally:
            await nc.close()

    def observe(self, done: Done) -> None:
        self.step_seconds.setdefault(done.act.value, []).append(done.seconds)
        if done.act not in PROBED:
            return
        self.seen[done.act] = self.seen.get(done.act, 0) + 1
        if self.seen[done.act] % self.sample_every or len(self.probes) >= self.max_probes:
            return
        sent = time.monotonic() - done.seconds
        task = asyncio.create_task(self.probe(done.school, done.act, done.counts[done.act], sent))
        self.probes.add(task)
        task.add_done_callback(self.probes.discard)

    async def probe(self, school: str, act: Act, expected: int, sent: float) -> None:
        group, key = PROBED[act]
        url = f"{self.system.url('monitoring')}/indicators/schools/{school}"
        headers = {"Authorization": f"Bearer {self.token}", "Cache-Control": "no-cache"}
        if self.client is None:  # one client for all probes (each new one builds an SSL context)
            self.client = httpx.AsyncClient(timeout=30)
        await asyncio.sleep(max(0.0, sent + self.first_poll_s - time.monotonic()))
        while time.monotonic() - sent < 120:
            answer = await self.client.get(url, params={"period": self.plan.period}, headers=headers)
            if answer.status_code == 200 and answer.json()["figures"][group][key] >= expected:
                self.latencies.append(time.monotonic() - sent)
                return
            await asyncio.sleep(self.poll_s)


async def _drained(watch: Watch) -> None:
    nc = await nats.connect(watch.system.nats_url)
    try:
        while True:
            if not any((await watch.lag(nc.jetstream())).values()):
                return
            await asyncio.sleep(0.5)
    finally:
        await nc.close()


async def _operator_token(system: System) -> str:
    async with httpx.AsyncClient(timeout=30) as client:
        form = {"grant_type": "password", "username": "operator", "password": system.operator_password}
        answer = await client.post(f"{system.url('registry')}/auth/token", data=form)
        token: str = answer.raise_for_status().json()["access_token"]
        return token


async def _region(system: System, token: str, period: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=120) as client:
        answer = await client.get(
            f"{system.url('monitoring')}/indicators/region",
            params={"period": period},
            headers={"Authorization": f"Bearer {token}", "Cache-Control": "no-cache"},
        )
        figures: dict[str, Any] = answer.raise_for_status().json()["figures"]
        return figures


async def _analyze(postgres_url: str, system: System, stop: asyncio.Event, every: float) -> None:
    """ANALYZE the run's schemas now and then, as autovacuum would (the test server runs without it)."""
    engine = create_async_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            if stop.is_set():
                break
            async with engine.connect() as conn:
                for process in system.processes.values():
                    tables = await conn.scalars(
                        text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": process.schema}
                    )
                    for table in list(tables):
                        await conn.execute(text(f'ANALYZE "{process.schema}"."{table}"'))
    finally:
        await engine.dispose()


async def _stream_counts(system: System) -> tuple[int, int]:
    """Events on the services' streams, and messages handled by all durable consumers."""
    nc = await nats.connect(system.nats_url)
    js = nc.jetstream()
    prefix = system.root.upper() + "_"
    published = handled = 0
    try:
        for info in await js.streams_info():
            name = info.config.name or ""
            if name.startswith(prefix) and not name.endswith("_DLQ"):
                published += info.state.messages
                for c in await js.consumers_info(name):
                    handled += c.ack_floor.stream_seq if c.ack_floor else 0
    finally:
        await nc.close()
    return published, handled


@dataclass
class Report:
    preset: str
    seed: int
    steps: int
    wall_s: float
    run_s: float
    drain_s: float
    retries: int
    published: int
    handled: int
    latencies: list[float]
    step_seconds: dict[str, list[float]]
    peak_lag: dict[str, int]
    usage: dict[str, Usage | GroupUsage]
    figures_match: bool
    shown: dict[str, int]
    expected: dict[str, int]
    concurrency: int


async def bench(args: argparse.Namespace, console: Console) -> Report:
    # the year so far: the services refuse a meeting or a completed item dated after today
    config = replace(PRESETS[Preset(args.preset)], year=academic_year(date.today()), until=date.today())
    plan = make_plan(config, args.seed)
    console.print(f"plan: {len(plan.schools)} schools, {plan.total_steps:,} steps, {plan.figures()}")
    system = System(
        args.nats_url,
        Path(tempfile.mkdtemp(prefix="mentornet-region-")),
        postgres_url=args.postgres_url,
        services=SERVICES,
        extra_env={"MENTORNET_LOG_JSON": "true", "DATABASE_POOL_SIZE": "20"},
    )
    await system.start()
    stop = asyncio.Event()
    try:
        watch = Watch(system, plan, sample_every=args.sample_every)
        watch.token = await _operator_token(system)
        watch.usage = {name: Usage(psutil.Process(p.popen.pid)) for name, p in system.processes.items()}
        watch.usage["simulator (this process)"] = Usage(psutil.Process(os.getpid()))
        watch.usage["postgres (all backends)"] = GroupUsage("postgres")
        watch.usage["nats-server"] = GroupUsage("nats-server")
        for usage in watch.usage.values():
            usage.start()
        watcher = asyncio.create_task(watch.watch(stop))
        analyzer = asyncio.create_task(_analyze(args.postgres_url, system, stop, args.analyze_every))

        async def refresh_token() -> None:
            while not stop.is_set():
                await asyncio.sleep(300)
                watch.token = await _operator_token(system)

        refresher = asyncio.create_task(refresh_token())
        began = time.monotonic()
        result = await run_with_progress(plan, system.endpoints, system.operator, args.concurrency, console,
                                         observers=[watch.observe])  # fmt: skip
        run_s = time.monotonic() - began
        await asyncio.gather(*watch.probes, return_exceptions=True)
        if watch.client is not None:
            await watch.client.aclose()
        console.print("the year is done; waiting for every consumer to drain…")
        await _drained(watch)
        drain_s = time.monotonic() - began - run_s
        wall_s = time.monotonic() - began
        for usage in watch.usage.values():
            usage.sample()
        stop.set()
        await asyncio.gather(watcher, analyzer, return_exceptions=True)
        refresher.cancel()
        published, handled = await _stream_counts(system)
        expected = vars(plan.figures())
        shown: dict[str, int] = {}
        for _ in range(20):  # the monitoring service's answer at the final positions
            shown = Figures.shown(await _region(system, await _operator_token(system), plan.period))
            if shown == expected:
                break
            await asyncio.sleep(1)
        return Report(
            args.preset, args.seed, result.steps, wall_s, run_s, drain_s, result.retries, published,
            handled, watch.latencies, watch.step_seconds, watch.peak_lag, watch.usage, shown == expected,
            shown, expected, args.concurrency,
        )  # fmt: skip
    finally:
        stop.set()
        await system.stop(clean=not args.keep)


def render(r: Report) -> list[str]:
    p50, p99 = percentile(r.latencies, 0.5), percentile(r.latencies, 0.99)
    worst = max(r.latencies, default=0)
    rows = [
        ("region", f"preset {r.preset}, seed {r.seed}: {r.expected['schools']:,} schools, "
                   f"{r.expected['teachers']:,} teachers, {r.expected['pairs_formed']:,} pairs"),
        ("steps (commands)", f"{r.steps:,} in {r.run_s:.1f} s = {r.steps / r.run_s:.1f} steps/s "
                             f"({r.concurrency} schools at a time, {r.retries} retries)"),
        ("year done and drained", f"{r.wall_s:.1f} s ({r.wall_s / 60:.1f} min; drain after the last command "
                                  f"{r.drain_s:.1f} s)"),
        ("events appended (all streams)", f"{r.published:,} = {r.published / r.wall_s:.0f} events/s"),
        ("events handled (all consumers)", f"{r.handled:,} = {r.handled / r.wall_s:.0f} events/s"),
        ("command → figure latency", f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max "
                                     f"{worst * 1000:.0f} ms ({len(r.latencies)} samples)"),
        ("figures equal the plan's", "yes" if r.figures_match else f"NO: {r.shown} vs {r.expected}"),
    ]  # fmt: skip
    lines = ["| measure | value |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows), ""]
    lines += ["| consumer | peak lag (pending + unacked) |", "|---|---:|"]
    lines += [f"| {name} | {lag:,} |" for name, lag in sorted(r.peak_lag.items())]
    lines += [
        "",
        "| step | count | mean ms | p99 ms | share of the schools' time |",
        "|---|---:|---:|---:|---:|",
    ]
    total = sum(sum(v) for v in r.step_seconds.values()) or 1.0
    for act, values in sorted(r.step_seconds.items(), key=lambda kv: -sum(kv[1])):
        lines.append(
            f"| {act} | {len(values):,} | {1000 * sum(values) / len(values):.0f} | "
            f"{1000 * percentile(values, 0.99):.0f} | {100 * sum(values) / total:.0f} % |"
        )
    lines += ["", "| process | CPU s | CPU ms per step | peak RSS MiB |", "|---|---:|---:|---:|"]
    for name, u in r.usage.items():
        lines.append(
            f"| {name} | {u.cpu_s:.1f} | {1000 * u.cpu_s / max(1, r.steps):.2f} | "
            + ("—" if u.peak_rss_mb != u.peak_rss_mb else f"{u.peak_rss_mb:.0f}")
            + " |"
        )
    lines.append("")
    large = r.preset == "large"
    lines.append(
        "**Floor: a one-year large region in under 15 minutes — "
        + (("met" if r.wall_s < 900 else "not met") + f" ({r.wall_s / 60:.1f} min).**" if large
           else f"judged on the large preset only (this run: {r.preset}, {r.wall_s / 60:.1f} min).**")
    )  # fmt: skip
    met = "met" if p99 < 2 else "not met"
    lines.append(f"**Floor: p99 command → figure latency under 2 s — {met} ({p99:.2f} s).**")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description="The whole system under a simulated region's year.")
    parser.add_argument("--preset", choices=[p.value for p in Preset], default="large")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=16, help="schools acting at the same time")
    parser.add_argument("--sample-every", type=int, default=20, help="probe every n-th pair and meeting")
    parser.add_argument("--analyze-every", type=float, default=60.0, help="seconds between ANALYZE runs")
    parser.add_argument("--nats-url", default=os.environ.get("NATS_URL", DEFAULT_NATS))
    parser.add_argument("--postgres-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--output", type=Path, default=_HERE / "results" / "region.md")
    parser.add_argument("--keep", action="store_true", help="keep the schemas and streams")
    args = parser.parse_args()
    console = Console()
    report = asyncio.run(bench(args, console))
    lines = render(report)
    table = Table("measure", "value", title="MentorNet: a region's year")
    for line in lines:
        if line.startswith("| ") and not line.startswith("| measure") and "---" not in line:
            cells = [c.strip() for c in line.strip("|").split("|")]
            table.add_row(cells[0], " · ".join(cells[1:]))
    console.print(table)
    for line in lines:
        if line.startswith("**"):
            console.print(line.strip("*"))
    header = [
        "# Region bench",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; every service its own process on PostgreSQL "
        f"(a fresh schema each), the local NATS under a subject root of the run's own. "
        f"`.venv/bin/python bench/region.py --preset {args.preset} --seed {args.seed} "
        f"--concurrency {args.concurrency}`; see bench/README.md for what is measured.",
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    console.print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
