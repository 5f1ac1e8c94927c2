"""A regional broadcast to every school, delivered to the schools' own systems by webhook.

The notifications service runs as its own process (``python -m mentornet_spine.serve
notifications``) on PostgreSQL (a fresh schema) and the local NATS (a fresh subject root), as
deployed; it fetches the JWKS of a bench-owned signing key from a tiny HTTP endpoint in the bench
(``MENTORNET_REGISTRY_URL``). The bench

1. announces ``--schools`` schools in ~35 municipalities as ``SchoolConnected`` envelopes on
   JetStream (what the registry's outbox relay publishes) and waits until the service's fan-out
   consumer knows them all;
2. registers each school's webhook (``PUT /schools/{code}/webhook`` with the school system's own
   token) at a receiver process on loopback: one uvicorn server, one path per school, of which
   ``--slow-share`` answer after ``--slow-delay`` s, ``--failing-share`` always answer 500 and the
   rest at once; every receiver checks the HMAC signature with the secret the PUT returned and
   counts duplicates (a message id it had already accepted);
3. sends one ``POST /broadcasts`` as the regional operator and times it: until every healthy
   school (all but the failing ones, slow ones included) has accepted the message, until the fast
   ones have, deliveries per second, the per-school status from ``GET /broadcasts/{id}``, the
   failing schools' attempts so far and the service's peak RSS.
   Floor: every healthy school has it within 30 s.

    .venv/bin/python bench/notifications.py                    # 1,100 schools, writes the report
    .venv/bin/python bench/notifications.py --schools 200 --concurrency 20 --output /tmp/n.md

With ``--profile DIR`` the service is sampled by py-spy while it delivers (raw folded stacks are
left in DIR) and the report says where its CPU goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import random
import re
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import nats
from rich.console import Console
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from mentornet_auth import Principal, Role, SigningKey, TokenIssuer
from mentornet_events import CATALOGUE, Envelope, Subjects, Tenant, envelope_to_json, new_event_id
from mentornet_events.catalogue.registry import SchoolConnected
from mentornet_events.vocabulary import SchoolKind
from mentornet_spine.db import create_schema, drop_schema
from mentornet_spine.natsserver import free_port
from mentornet_spine.relay import message_headers
from mentornet_spine.streams import delete_streams, ensure_streams

from harness.cli import add_server_arguments, command_line, run_bench
from harness.client import bearer, bounded, call
from harness.console import MEASURES, print_profile, print_table
from harness.environment import environment, git_state, load_average
from harness.jwks import JwksServer
from harness.latency import Summary, percentiles
from harness.markdown import environment_line, markdown_profile, markdown_table
from harness.processes import ServiceProcess, service_env
from harness.profiling import PySpy
from harness.sampling import ProcessStats, RssPoller, Usage

REGION = "38"
MUNICIPALITIES = 35
TOKEN_LIFETIME_S = 3600
SETUP_IN_FLIGHT = 16
PROGRESS_POLL_S = 0.1
RSS_POLL_S = 0.1
FLOOR_S = 30.0
FAST, SLOW, FAILING = "fast", "slow", "failing"

# --- the region ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class School:
    code: str
    municipality: str
    kind: str  # how its receiver behaves: fast | slow | failing


def make_region(schools: int, slow_share: float, failing_share: float, rng: random.Random) -> list[School]:
    """Schools in municipalities of uneven size (the capital the largest); slow and failing at random."""
    munis = [f"mo-{i + 1:02d}" for i in range(min(MUNICIPALITIES, schools))]
    weights = [rng.lognormvariate(0, 0.8) for _ in munis]
    weights[0] *= 4
    codes = [f"sch-{i + 1:04d}" for i in range(schools)]
    failing = round(schools * failing_share)
    slow = round(schools * slow_share)
    if failing + slow > schools:
        raise ValueError("--slow-share + --failing-share exceed 1")
    picked = rng.sample(codes, failing + slow)
    kinds = dict.fromkeys(picked[:failing], FAILING) | dict.fromkeys(picked[failing:], SLOW)
    placed = munis + rng.choices(munis, weights, k=schools - len(munis))  # each municipality has one
    rng.shuffle(placed)
    return [School(code, muni, kinds.get(code, FAST)) for code, muni in zip(codes, placed, strict=True)]


def connected_envelope(school: School) -> Envelope:
    """What the registry's relay publishes when a school is connected."""
    event = SchoolConnected(
        code=school.code,
        name=f"МБОУ «СОШ № {school.code[-4:]}»",
        kind=SchoolKind.SCHOOL,
        teachers=40,
        students=500,
    )
    spec = CATALOGUE.spec_of(event)
    return Envelope(
        event_id=new_event_id(),
        type=spec.name,
        schema_version=spec.version,
        occurred_at=datetime.combine(date(2026, 8, 25), datetime.min.time(), UTC),
        stream_id=f"school-{school.code}",
        stream_version=1,
        tenant=Tenant(region=REGION, municipality=school.municipality, school=school.code),
        correlation_id=uuid.uuid4(),
        payload=event.model_dump(mode="json"),
    )


# --- the receivers: the schools' own systems, in their own process ------------------------------


@dataclass
class ReceiverPlan:
    """What the receiver process needs (picklable; passed over the spawn pipe, never on a command line)."""

    listener: socket.socket  # bound and listening in the bench, so that no other process takes the port
    kinds: dict[str, str]  # school -> fast | slow | failing
    secrets: dict[str, str]  # school -> the signing secret PUT /schools/{code}/webhook returned
    slow_delay_s: float


@dataclass
class Box:
    kind: str
    secret: str
    requests: int = 0
    accepted: set[str] = field(default_factory=set)  # message ids answered 2xx
    first_arrival: float | None = None  # time.monotonic() when the first accepted request arrived
    first_answer: float | None = None  # … and when it was answered (slow receivers: + delay)
    duplicates: int = 0  # requests for a message id already accepted
    bad_signatures: int = 0
    bad_keys: int = 0  # Idempotency-Key not the message id


def _webhook_verify() -> Callable[[str, int, bytes, str], bool]:
    """``notifications.domain.webhooks.verify``; this file's directory must not shadow the package."""
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    from notifications.domain.webhooks import verify

    checked: Callable[[str, int, bytes, str], bool] = verify
    return checked


def run_receivers(plan: ReceiverPlan) -> None:
    """The receiver process's entry point: one server on loopback, ``POST /<school>`` per school."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    verify = _webhook_verify()
    boxes = {code: Box(kind, plan.secrets[code]) for code, kind in plan.kinds.items()}
    healthy = sum(1 for b in boxes.values() if b.kind != FAILING)
    done = 0
    in_flight = max_in_flight = 0
    peers: set[tuple[str, int]] = set()  # the service's TCP connections (client address and port)

    async def receive(request: Request) -> Response:
        nonlocal done, in_flight, max_in_flight
        arrived = time.monotonic()
        box = boxes.get(request.path_params["school"])
        if box is None:
            return Response(status_code=404)
        in_flight += 1
        max_in_flight = max(max_in_flight, in_flight)
        if request.client is not None:
            peers.add((request.client.host, request.client.port))
        try:
            body = await request.body()
            box.requests += 1
            try:
                stamp = int(request.headers["x-mentornet-timestamp"])
                signed = verify(box.secret, stamp, body, request.headers["x-mentornet-signature"])
                payload = json.loads(body)
            except (KeyError, ValueError):
                signed, payload = False, {}
            if not signed or payload.get("school") != request.path_params["school"]:
                box.bad_signatures += 1
                return Response(status_code=401)
            if box.kind == FAILING:
                return Response(status_code=500)
            if box.kind == SLOW:
                await asyncio.sleep(plan.slow_delay_s)
            message_id = str(payload.get("message_id"))
            if request.headers.get("idempotency-key") != message_id:
                box.bad_keys += 1
            if message_id in box.accepted:
                box.duplicates += 1
            else:
                box.accepted.add(message_id)
                if box.first_arrival is None:
                    box.first_arrival, box.first_answer = arrived, time.monotonic()
                    done += 1
            return Response(status_code=200)
        finally:
            in_flight -= 1

    async def progress(_request: Request) -> Response:
        return JSONResponse(
            {"healthy": healthy, "done": done, "requests": sum(b.requests for b in boxes.values())}
        )

    async def stats(_request: Request) -> Response:
        return JSONResponse(
            {
                "boxes": {
                    code: {k: v for k, v in vars(b).items() if k not in ("accepted", "secret")}
                    | {"accepted": len(b.accepted)}
                    for code, b in boxes.items()
                },
                "max_in_flight": max_in_flight,
                "connections": len(peers),
                "cpu_s": time.process_time(),
            }
        )

    app = Starlette(
        routes=[
            Route("/_progress", progress),
            Route("/_stats", stats),
            Route("/{school}", receive, methods=["POST"]),
        ]
    )
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, loop="uvloop", http="httptools", backlog=4096
    )
    uvicorn.Server(config).run(sockets=[plan.listener])


# --- the service's connections and the host's CPUs, from /proc ----------------------------------


class ConnectionSampler:
    """The service's TCP connections to PostgreSQL and to the receivers, sampled from /proc, and
    what its PostgreSQL sessions were doing (``pg_stat_activity``, matched by client port)."""

    def __init__(self, pid: int, postgres_url: str, db_port: int, receiver_port: int) -> None:
        self.pid = pid
        self.db_port = db_port
        self.receiver_port = receiver_port
        self.engine = create_async_engine(postgres_url, pool_size=1, max_overflow=0)
        self.db_ports: set[int] = set()  # local ports seen: distinct connections over the window
        self.hook_ports: set[int] = set()
        self.db_most = self.hook_most = 0
        self.states: Counter[str] = Counter()  # session state (and wait event) -> samples

    def established(self) -> list[tuple[int, int]]:
        """(local port, remote port) of the process's established TCP sockets."""
        inodes = set()
        for fd in Path(f"/proc/{self.pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                link = os.readlink(fd)
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        found = []
        for table in ("tcp", "tcp6"):
            for line in Path(f"/proc/{self.pid}/net/{table}").read_text().splitlines()[1:]:
                f = line.split()
                if f[3] == "01" and f[9] in inodes:  # ESTABLISHED
                    found.append((int(f[1].rsplit(":", 1)[1], 16), int(f[2].rsplit(":", 1)[1], 16)))
        return found

    async def sample(self) -> None:
        sockets = self.established()
        db = [local for local, remote in sockets if remote == self.db_port]
        hooks = [local for local, remote in sockets if remote == self.receiver_port]
        self.db_ports.update(db)
        self.hook_ports.update(hooks)
        self.db_most = max(self.db_most, len(db))
        self.hook_most = max(self.hook_most, len(hooks))
        if not db:
            return
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE client_port = ANY(:ports) AND client_addr IS NOT NULL"
                ),
                {"ports": db},
            )
            for state, wait_type, wait_event in rows:
                waiting = f" ({wait_type}: {wait_event})" if wait_type and state != "idle" else ""
                self.states[f"{state}{waiting}"] += 1

    def busy_share(self) -> float:
        total = sum(self.states.values())
        return 1 - self.states.get("idle", 0) / total if total else math.nan

    async def close(self) -> None:
        await self.engine.dispose()


def host_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


# --- profiling (optional) -----------------------------------------------------------------------

IDLE_FRAMES = ("EpollSelector.select", "select (selectors.py)", "run_once", "Event.wait", "sleep (")
PROJECT = ("notifications/", "mentornet_spine/", "mentornet_auth/")
#: packages that only carry control: a sample is charged to the nearest frame outside them
GENERIC = {"asyncio", "selectors", "contextlib", "functools", "threading", "typing", "runpy", "greenlet"}
STDLIB = re.compile(r"^.*/lib/python3\.\d+/")


@dataclass
class ProfileSummary:
    samples: int
    busy: int
    by_package: list[tuple[str, float]]  # share of busy samples by the package of the leaf frame
    by_function: list[tuple[str, float]]  # project functions, inclusive share of busy samples


def _short(frame: str) -> tuple[str, str]:
    """``func (/path/to/pkg/module.py)`` → (package, ``func (pkg/module.py)``)."""
    function, _, path = frame.rpartition(" (")
    path = path.rstrip(")")
    if path.startswith("<frozen "):  # <frozen importlib._bootstrap>
        return path.removeprefix("<frozen ").split(".", 1)[0], f"{function} ({path})"
    for marker in ("site-packages/", "/src/"):
        if marker in path:
            path = path.rsplit(marker, 1)[1]
            break
    else:
        path = STDLIB.sub("", path)
    return path.split("/", 1)[0].removesuffix(".py"), f"{function} ({path})"


def summarise_profile(path: Path, top: int = 16) -> ProfileSummary:
    total = busy = 0
    packages: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        if any(idle in frames[-1] for idle in IDLE_FRAMES):
            continue
        busy += count
        leaf = next(
            (pkg for pkg, _ in map(_short, reversed(frames)) if pkg not in GENERIC), _short(frames[-1])[0]
        )
        packages[leaf] += count
        seen = set()
        for frame in frames:
            if any(p in frame for p in PROJECT) and "mentornet_spine/serve.py" not in frame:
                name = _short(frame)[1]
                if name not in seen:
                    seen.add(name)
                    functions[name] += count
    share = busy or 1
    return ProfileSummary(
        samples=total,
        busy=busy,
        by_package=[(k, v / share) for k, v in packages.most_common(8)],
        by_function=[(k, v / share) for k, v in functions.most_common(top)],
    )


# --- measurements -------------------------------------------------------------------------------


@dataclass
class Setup:
    schools: int
    municipalities: int
    kinds: dict[str, int]
    announce_s: float  # publishing the SchoolConnected envelopes
    known_s: float  # from the first publish until the service knew every school
    webhooks_s: float  # PUT /schools/{code}/webhook for all
    webhook_404s: int  # PUTs answered 404 (school not known yet) and retried


@dataclass
class Delivery:
    post_s: float  # POST /broadcasts round trip
    queued: int  # webhooks the POST answered it queued
    healthy: int
    healthy_done: int
    all_healthy_s: float  # from just before the POST until the last healthy school had confirmed it
    all_healthy_arrived_s: float  # … until the last healthy school's accepted request had arrived
    fast_s: float  # … until the last fast school had it
    arrival: dict[str, Summary]  # kind -> seconds from the POST to the first accepted request's arrival
    answered: dict[str, Summary]  # kind -> … to its answer (arrival + the slow receivers' delay)
    accepted: int  # distinct (school, message) accepted by the receivers
    duplicates: int
    bad_signatures: int
    bad_keys: int
    requests: int  # every POST the receivers got, failures included
    window_s: float  # how long the bench watched (until all healthy had it, or --wait ran out)
    failing_requests: list[int]  # per failing school, requests its receiver got by the end
    status_counts: dict[str, int]  # GET /broadcasts/{id}: webhook status -> schools
    failing_attempts: list[int]  # per failing school, attempts GET /broadcasts/{id} reports
    failing_circuit: dict[str, Any]  # GET /schools/{code}/webhook of one failing school
    status_after_s: float  # when the status was read, seconds after the POST
    rss_before_mb: float
    rss_peak_mb: float  # over the broadcast (VmHWM reset before it, and a 0.1 s poll)
    rss_peak_life_mb: float  # VmHWM of the whole run
    usage: Usage  # of the service while delivering
    receiver_cpu_s: float
    receiver_max_in_flight: int
    receiver_connections: int  # TCP connections the service opened to the receivers
    host_busy: float  # share of all the host's CPUs busy while delivering (everything running)
    sampled: ConnectionSampler
    service_errors: list[str]  # its log lines at ERROR or above

    @property
    def per_second(self) -> float:
        return self.accepted / self.all_healthy_s if self.all_healthy_s > 0 else math.nan

    @property
    def fast_per_second(self) -> float:
        return self.arrival[FAST].count / self.fast_s if self.fast_s > 0 else math.nan


@dataclass
class Results:
    args: dict[str, Any]
    setup: Setup
    delivery: Delivery
    profile: ProfileSummary | None = None
    environment: dict[str, str] = field(default_factory=dict)


def school_token(issuer: TokenIssuer, s: School) -> str:
    """What the registry issues a school's own system (client credentials), signed by the bench."""
    principal = Principal(
        subject=f"school-system-{s.code}",
        role=Role.SCHOOL,
        region=REGION,
        municipality=s.municipality,
        school=s.code,
    )
    return str(issuer.issue(principal))


# --- one run ------------------------------------------------------------------------------------


async def announce(nats_url: str, subjects: Subjects, region: list[School]) -> float:
    """Streams as the service declares them, then one SchoolConnected per school."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await ensure_streams(js, subjects)
        envelopes = [connected_envelope(s) for s in region]
        subject = CATALOGUE.spec("SchoolConnected").subject(subjects)
        start = time.perf_counter()
        for envelope in envelopes:
            await js.publish(subject, envelope_to_json(envelope), headers=message_headers(envelope))
        return time.perf_counter() - start
    finally:
        await nc.close()


async def wait_known(postgres_url: str, schema: str, count: int, within_s: float = 300.0) -> None:
    """Until the fan-out consumer has stored every school (the service's own table, read-only)."""
    engine = create_async_engine(postgres_url, connect_args={"server_settings": {"search_path": schema}})
    deadline = time.monotonic() + within_s
    try:
        while True:
            with contextlib.suppress(Exception):  # the table appears with the service's migration
                async with engine.connect() as conn:
                    known = int(await conn.scalar(text("SELECT count(*) FROM notifications_schools")) or 0)
                if known >= count:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the service knows only some of the {count} schools after {within_s} s")
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()


async def register_webhooks(
    client: httpx.AsyncClient, region: list[School], issuer: TokenIssuer, receiver_url: str
) -> tuple[dict[str, str], int]:
    """Each school's own system registers its endpoint; a 404 (not known yet) is retried."""
    secrets: dict[str, str] = {}
    retried = 0

    async def register(s: School) -> None:
        nonlocal retried
        token = school_token(issuer, s)
        for _ in range(600):
            answer = await client.put(
                f"/schools/{s.code}/webhook", headers=bearer(token), json={"url": f"{receiver_url}/{s.code}"}
            )
            if answer.status_code != 404:
                break
            retried += 1
            await asyncio.sleep(0.2)
        if answer.status_code >= 300:
            raise RuntimeError(f"PUT /schools/{s.code}/webhook: {answer.status_code} {answer.text[:300]}")
        secrets[s.code] = answer.json()["secret"]

    await bounded(SETUP_IN_FLIGHT, [partial(register, s) for s in region])
    return secrets, retried


def listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    return sock


async def start_receivers(plan: ReceiverPlan) -> Any:
    proc = mp.get_context("spawn").Process(target=run_receivers, args=(plan,), name="bench-receivers")
    proc.start()  # the listening socket goes to the child as a duplicate descriptor
    port = plan.listener.getsockname()[1]
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if not proc.is_alive():
                raise RuntimeError(f"the receiver process exited with {proc.exitcode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{port}/_progress")).status_code == 200:
                    return proc
            if time.monotonic() > deadline:
                proc.terminate()
                raise TimeoutError("the receiver process did not start")
            await asyncio.sleep(0.2)


async def broadcast(
    client: httpx.AsyncClient,
    receiver_url: str,
    region: list[School],
    operator: dict[str, str],
    token_of: Callable[[School], str],
    stats: ProcessStats,
    service: ServiceProcess,
    args: argparse.Namespace,
    profiler: PySpy,
    receiver_port: int,
) -> tuple[Delivery, ProfileSummary | None]:
    rss_before = stats.rss_mb()
    stats.reset_peak()
    await profiler.start(service.pid, "notifications-broadcast.folded", settle_s=1.0)  # before the broadcast
    sampler = ConnectionSampler(
        service.pid, args.postgres_url, make_url(args.postgres_url).port or 5432, receiver_port
    )
    host_before = host_busy()
    mark = stats.mark()
    with RssPoller(stats, RSS_POLL_S) as rss:
        t0 = time.monotonic()
        sent = await call(
            client,
            "POST",
            "/broadcasts",
            operator,
            json={"title": "Региональное совещание кураторов", "text": "Совещание 1 сентября в 10:00."},
        )
        post_s = time.monotonic() - t0
        async with httpx.AsyncClient(base_url=receiver_url, timeout=10) as receivers:
            while True:
                progress = (await receivers.get("/_progress")).json()
                if progress["done"] >= progress["healthy"] or time.monotonic() - t0 > args.wait:
                    break
                began = time.monotonic()
                await sampler.sample()
                await asyncio.sleep(max(0.0, PROGRESS_POLL_S - (time.monotonic() - began)))
            window_s = time.monotonic() - t0
            usage = stats.usage_since(mark)
            host_after = host_busy()
            await sampler.close()
            folded = await profiler.stop()
            profile = None if folded is None else summarise_profile(folded)
            await asyncio.sleep(max(0.0, args.linger - (time.monotonic() - t0 - window_s)))
            report = (await receivers.get("/_stats")).json()
        status = await call(client, "GET", f"/broadcasts/{sent['id']}", operator)
        status_after_s = time.monotonic() - t0
    boxes = report["boxes"]
    kinds = {s.code: s.kind for s in region}
    arrivals: dict[str, list[float]] = {FAST: [], SLOW: []}
    answers: dict[str, list[float]] = {FAST: [], SLOW: []}
    for code, box in boxes.items():
        if box["first_arrival"] is not None and kinds[code] in arrivals:
            arrivals[kinds[code]].append(box["first_arrival"] - t0)
            answers[kinds[code]].append(box["first_answer"] - t0)
    healthy = [c for c, k in kinds.items() if k != FAILING]
    healthy_done = sum(1 for c in healthy if boxes[c]["first_arrival"] is not None)
    all_in = healthy_done == len(healthy) > 0
    fast_total = sum(1 for k in kinds.values() if k == FAST)
    failing = [s for s in region if s.kind == FAILING]
    by_school = {d["school"]: d for d in status["deliveries"]}
    circuit: dict[str, Any] = {}
    if failing:
        circuit = await call(
            client, "GET", f"/schools/{failing[0].code}/webhook", bearer(token_of(failing[0]))
        )
        circuit["school"] = failing[0].code
    delivery = Delivery(
        post_s=post_s,
        queued=int(sent["webhooks"]),
        healthy=len(healthy),
        healthy_done=healthy_done,
        all_healthy_s=max(x for xs in answers.values() for x in xs) if all_in else math.nan,
        all_healthy_arrived_s=max(x for xs in arrivals.values() for x in xs) if all_in else math.nan,
        fast_s=max(answers[FAST]) if len(answers[FAST]) == fast_total > 0 else math.nan,
        arrival={k: Summary.of(v) for k, v in arrivals.items()},
        answered={k: Summary.of(v) for k, v in answers.items()},
        accepted=sum(b["accepted"] for b in boxes.values()),
        duplicates=sum(b["duplicates"] for b in boxes.values()),
        bad_signatures=sum(b["bad_signatures"] for b in boxes.values()),
        bad_keys=sum(b["bad_keys"] for b in boxes.values()),
        requests=sum(b["requests"] for b in boxes.values()),
        window_s=window_s,
        failing_requests=sorted(boxes[s.code]["requests"] for s in failing),
        status_counts=dict(Counter(str(d["webhook"]) for d in status["deliveries"])),
        failing_attempts=sorted(int(by_school[s.code]["attempts"] or 0) for s in failing),
        failing_circuit=circuit,
        status_after_s=status_after_s,
        rss_before_mb=rss_before,
        rss_peak_mb=max(rss.peak, stats.peak_mb()),
        rss_peak_life_mb=math.nan,  # filled in when the run ends
        usage=usage,
        receiver_cpu_s=float(report["cpu_s"]),
        receiver_max_in_flight=int(report["max_in_flight"]),
        receiver_connections=int(report["connections"]),
        host_busy=(host_after[0] - host_before[0]) / max(1, host_after[1] - host_before[1]),
        sampled=sampler,
        service_errors=service.errors(),
    )
    return delivery, profile


async def bench(args: argparse.Namespace, console: Console) -> Results:
    rng = random.Random(args.seed)
    region = make_region(args.schools, args.slow_share, args.failing_share, rng)
    commit = await git_state(("libs", "services/notifications"), "libs or the service")
    env_info = await environment(args.nats_url, args.postgres_url, commit=commit, all_loads=True)
    root = f"bench_notifications_{uuid.uuid4().hex[:8]}"
    subjects = Subjects(root=root)
    schema = await create_schema(args.postgres_url, "bench_notifications")
    workdir = Path(tempfile.mkdtemp(prefix="notifications-bench-"))
    issuer = TokenIssuer([SigningKey.generate("bench")], lifetime_s=TOKEN_LIFETIME_S)
    jwks = JwksServer(issuer.jwks()).start()
    listener = listening_socket()
    receiver_port = listener.getsockname()[1]
    receiver_url = f"http://127.0.0.1:{receiver_port}"
    extra = {"MENTORNET_REGISTRY_URL": jwks.url, "NOTIFICATIONS_WEBHOOK_CONCURRENCY": str(args.concurrency)}
    env = service_env("notifications", args.nats_url, args.postgres_url, schema, root, extra)

    def notifications_process() -> ServiceProcess:
        return ServiceProcess(
            "notifications", workdir, env, free_port(), label="the service", stop_wait_s=40.0
        )

    service = notifications_process()
    receivers: Any = None

    def token_of(s: School) -> str:
        return school_token(issuer, s)

    operator = bearer(
        issuer.issue(Principal(subject="operator-38", role=Role.REGIONAL_OPERATOR, region=REGION))
    )
    try:
        with console.status("starting the notifications service…"):
            for attempt in range(3):  # the free port may be taken by another process meanwhile
                try:
                    await service.start()
                    break
                except RuntimeError as failure:
                    if "address already in use" not in str(failure) or attempt == 2:
                        raise
                    service = notifications_process()
        stats = ProcessStats(service.pid)
        with console.status(f"announcing {len(region):,} schools on JetStream…"):
            start = time.perf_counter()
            announce_s = await announce(args.nats_url, subjects, region)
            await wait_known(args.postgres_url, schema, len(region))
            known_s = time.perf_counter() - start
        async with httpx.AsyncClient(base_url=service.base_url, timeout=60) as client:
            with console.status("registering the schools' webhooks…"):
                start = time.perf_counter()
                secrets, retried = await register_webhooks(client, region, issuer, receiver_url)
                webhooks_s = time.perf_counter() - start
            setup = Setup(
                schools=len(region),
                municipalities=len({s.municipality for s in region}),
                kinds=dict(Counter(s.kind for s in region)),
                announce_s=announce_s,
                known_s=known_s,
                webhooks_s=webhooks_s,
                webhook_404s=retried,
            )
            with console.status("starting the receivers…"):
                plan = ReceiverPlan(listener, {s.code: s.kind for s in region}, secrets, args.slow_delay)
                receivers = await start_receivers(plan)
                listener.close()  # the receiver process has its own descriptor
            await asyncio.sleep(1.0)  # the service idle again after the setup
            with console.status(f"broadcasting to {len(region):,} schools…"):
                delivery, profile = await broadcast(
                    client,
                    receiver_url,
                    region,
                    operator,
                    token_of,
                    stats,
                    service,
                    args,
                    PySpy(args.profile),
                    receiver_port,
                )
            delivery.rss_peak_life_mb = stats.peak_mb()
    except BaseException:
        console.print(f"[red]service log (tail):[/red]\n{service.log_tail()}")
        raise
    finally:
        if receivers is not None:
            receivers.terminate()
            await asyncio.to_thread(receivers.join, 10)
        service.stop()
        jwks.close()
        listener.close()
        await drop_schema(args.postgres_url, schema)
        nc = await nats.connect(args.nats_url)
        await delete_streams(nc.jetstream(), subjects)
        await nc.close()
        if args.keep_log is not None and service.log_path.exists():
            shutil.copy(service.log_path, args.keep_log)
        shutil.rmtree(workdir, ignore_errors=True)
    env_info["load average at end"] = load_average(all_three=True)
    shown = {
        "command": args.command,
        "concurrency": args.concurrency,
        "slow_delay": args.slow_delay,
        "slow_share": args.slow_share,
        "failing_share": args.failing_share,
        "wait": args.wait,
        "linger": args.linger,
    }
    return Results(shown, setup, delivery, profile, env_info)


# --- reporting ----------------------------------------------------------------------------------


def secs(x: float) -> str:
    return "—" if math.isnan(x) else f"{x:,.2f} s"


def _arrivals(s: Summary) -> str:
    return percentiles(s, secs) if s.count else "none"


def _spread(values: list[int]) -> str:
    if not values:
        return "—"
    counts = Counter(values)
    return ", ".join(f"{v} × {n} schools" if n > 1 else f"{v} × 1 school" for v, n in sorted(counts.items()))


def _errors(lines: list[str]) -> str:
    if not lines:
        return "none"
    kinds = Counter(line.split(":", 2)[-1][:80].replace("|", "/") for line in lines)
    return f"{len(lines)}: " + "; ".join(f"{k} × {n}" for k, n in kinds.most_common(3))


Row = tuple[str, str, str]


def rows(r: Results) -> list[Row]:
    s, d, a = r.setup, r.delivery, r.args
    kinds = s.kinds
    failing = kinds.get(FAILING, 0)
    circuit = d.failing_circuit
    table: list[Row] = [
        ("setup", "schools / municipalities", f"{s.schools:,} / {s.municipalities}"),
        (
            "setup",
            "receivers: fast / slow / failing",
            f"{kinds.get(FAST, 0):,} / {kinds.get(SLOW, 0):,} (answer after {a['slow_delay']:g} s) / "
            f"{failing:,} (always HTTP 500)",
        ),
        ("setup", "SchoolConnected published to JetStream", secs(s.announce_s)),
        ("setup", "until the service knew every school", secs(s.known_s)),
        (
            "setup",
            "webhooks registered (PUT /schools/{code}/webhook)",
            f"{secs(s.webhooks_s)} ({s.webhook_404s} retried after 404)",
        ),
        ("broadcast", "webhook concurrency (NOTIFICATIONS_WEBHOOK_CONCURRENCY)", str(a["concurrency"])),
        ("broadcast", "POST /broadcasts answered after", secs(d.post_s)),
        ("broadcast", "webhooks queued", f"{d.queued:,}"),
        (
            "broadcast",
            f"every healthy school ({d.healthy:,}) has it, answered 200, after",
            secs(d.all_healthy_s)
            if not math.isnan(d.all_healthy_s)
            else f"not within {d.window_s:.0f} s: {d.healthy_done:,} of {d.healthy:,}",
        ),
        (
            "broadcast",
            "… its request arrived at the last healthy school after",
            secs(d.all_healthy_arrived_s),
        ),
        ("broadcast", f"every fast school ({kinds.get(FAST, 0):,}) has it after", secs(d.fast_s)),
        ("broadcast", "fast: arrival p50 / p90 / p99 / max", _arrivals(d.arrival[FAST])),
        ("broadcast", "slow: arrival p50 / p90 / p99 / max", _arrivals(d.arrival[SLOW])),
        ("broadcast", "slow: answered p50 / p90 / p99 / max", _arrivals(d.answered[SLOW])),
        (
            "broadcast",
            "deliveries per second (accepted / time until every healthy school has it)",
            "—" if math.isnan(d.per_second) else f"{d.per_second:,.0f}/s",
        ),
        (
            "broadcast",
            "deliveries per second to the fast schools (fast / time until the last fast one)",
            "—" if math.isnan(d.fast_per_second) else f"{d.fast_per_second:,.0f}/s",
        ),
        ("broadcast", "requests the receivers got (failures included)", f"{d.requests:,}"),
        ("broadcast", "most requests in flight at the receivers", str(d.receiver_max_in_flight)),
        ("broadcast", "TCP connections the service opened to the receivers", f"{d.receiver_connections:,}"),
        ("broadcast", "duplicates (a message id accepted twice)", str(d.duplicates)),
        ("broadcast", "signature failures", str(d.bad_signatures)),
        ("broadcast", "Idempotency-Key ≠ message id", str(d.bad_keys)),
        (
            "status",
            f"GET /broadcasts/{{id}}, {d.status_after_s:.1f} s after the POST",
            ", ".join(f"{k} {v:,}" for k, v in sorted(d.status_counts.items())),
        ),
        ("status", f"failing schools ({failing}): attempts recorded", _spread(d.failing_attempts)),
        ("status", "failing schools: requests their receivers got", _spread(d.failing_requests)),
    ]
    if circuit:
        table.append(
            (
                "status",
                f"circuit of {circuit['school']} (GET /schools/{{code}}/webhook)",
                f"{circuit['circuit']}, {circuit['failures']} consecutive failures, open until "
                f"{circuit['open_until'] or '—'}",
            )
        )
    table += [
        ("service", "RSS before the broadcast", f"{d.rss_before_mb:,.0f} MB"),
        ("service", "peak RSS during the broadcast (VmHWM reset before it)", f"{d.rss_peak_mb:,.0f} MB"),
        ("service", "peak RSS of the whole run (VmHWM)", f"{d.rss_peak_life_mb:,.0f} MB"),
        (
            "service",
            "on a CPU / waiting for one, while delivering",
            f"{d.usage.on_cpu:.0%} / {d.usage.waiting:.0%} of the time",
        ),
        (
            "service",
            "CPU per request sent (CPU while delivering / requests)",
            f"{d.usage.cpu_s / max(1, d.requests) * 1000:.2f} ms",
        ),
        (
            "service",
            "its PostgreSQL connections: most at once / distinct ones seen (0.1 s samples)",
            f"{d.sampled.db_most} / {len(d.sampled.db_ports)}",
        ),
        (
            "service",
            "its PostgreSQL sessions not idle (share of samples)",
            "—" if math.isnan(d.sampled.busy_share()) else f"{d.sampled.busy_share():.0%}",
        ),
        (
            "service",
            "its PostgreSQL sessions by state (samples)",
            ", ".join(f"{k} {v}" for k, v in d.sampled.states.most_common(5)).replace("|", "/"),
        ),
        (
            "service",
            "its connections to the receivers: most at once / distinct ones seen",
            f"{d.sampled.hook_most} / {len(d.sampled.hook_ports)}",
        ),
        ("service", "lines logged at ERROR", _errors(d.service_errors)),
        ("receivers", "CPU of the receiver process (whole run)", secs(d.receiver_cpu_s)),
        ("host", "all CPUs busy while delivering (every process on the host)", f"{d.host_busy:.0%}"),
    ]
    return table


def floors(r: Results) -> list[tuple[bool, str]]:
    d = r.delivery
    met = not math.isnan(d.all_healthy_s) and d.all_healthy_s <= FLOOR_S
    if math.isnan(d.all_healthy_s):
        judged = f"only {d.healthy_done:,} of {d.healthy:,} healthy schools had it after {d.window_s:.0f} s"
    else:
        judged = f"all {d.healthy:,} healthy schools had it (answered 200) after {d.all_healthy_s:.2f} s"
    clean = d.duplicates == 0 and d.bad_signatures == 0
    return [
        (met, f"Floor (every healthy school within 30 s): {'met' if met else 'NOT met'}, {judged}"),
        (
            clean,
            f"Duplicates {d.duplicates}, signature failures {d.bad_signatures}: "
            + ("as required (0 and 0)" if clean else "NOT 0 as required"),
        ),
    ]


def print_results(r: Results, console: Console) -> None:
    title = f"Notifications: a broadcast to {r.setup.schools:,} schools by webhook"
    print_table(console, title, MEASURES, rows(r), floors(r))
    if p := r.profile:
        heading = f"\n[bold]py-spy while delivering[/bold] ({p.busy:,} busy of {p.samples:,} samples)"
        print_profile(console, heading, p.by_package, p.by_function)


def markdown(r: Results) -> str:
    a, s = r.args, r.setup
    lines = [
        "# Notifications: a broadcast to every school by webhook",
        "",
        f"`.venv/bin/python {a['command']}`. The notifications service runs as its own process "
        "(`python -m mentornet_spine.serve notifications`, one uvicorn worker) on PostgreSQL (a fresh "
        "schema) and NATS JetStream (a fresh subject root), with "
        f"`NOTIFICATIONS_WEBHOOK_CONCURRENCY={a['concurrency']}` and the default 5 s webhook timeout; it "
        "reads the JWKS of the bench's signing key from a small HTTP endpoint in the bench "
        "(`MENTORNET_REGISTRY_URL`).",
        "",
        f"- **Setup**: {s.schools:,} schools in {s.municipalities} municipalities of uneven size are "
        "announced as `SchoolConnected` envelopes on JetStream (as the registry's relay publishes them); "
        "the service's fan-out consumer stores them. Each school's own system (a `school` token signed by "
        "the bench) then registers its webhook with `PUT /schools/{code}/webhook`.",
        "- **Receivers**: a separate process, one uvicorn server on loopback with one path per school. "
        f"{a['slow_share']:.0%} answer 200 after {a['slow_delay']:g} s, {a['failing_share']:.0%} always "
        "answer 500, the rest answer 200 at once. Each checks the `X-MentorNet-Signature` HMAC "
        "(`notifications.domain.webhooks.verify`, with the secret its PUT returned), that the body is its "
        "own and that `Idempotency-Key` is the message id, and counts a message id it had already "
        "accepted as a duplicate.",
        "- **Broadcast**: one `POST /broadcasts` by the regional operator. Times run from just before "
        "the POST to each school's first accepted delivery, stamped by the receivers with the host's "
        "monotonic clock both when the request arrived and when it was answered 200 (for a slow school, "
        "after its delay). A school *has it* when its receiver answered 200 (the service then records "
        "it as sent); the floor is judged on that. Deliveries per second = accepted deliveries / the "
        "time until every healthy school had it (bounded below by the slow receivers' delay), and for "
        "the fast schools alone. The status is `GET /broadcasts/{id}` about "
        f"{a['linger']:g} s after the last healthy school had it; failing schools keep being retried "
        "with backoff, their circuit opening after 3 consecutive failures.",
        "- **Peak RSS**: the service process's VmHWM (reset before the broadcast) and a 0.1 s poll of "
        "VmRSS. **On a CPU / waiting for one**: CPU seconds per second of the service and seconds per "
        "second its threads were runnable but not running (`/proc/<pid>/schedstat`).",
        "",
        *markdown_table(MEASURES, rows(r)),
        "",
        *(f"**{line}**  " for _, line in floors(r)),
        "",
    ]
    d = r.delivery
    slow = s.kinds.get(SLOW, 0)
    lines += [
        "### Reading the figures",
        "",
        "- All receivers share one host and port on loopback, without TLS. In production each school is "
        "its own host behind HTTPS, so every delivery needs its own connection and TLS handshake; here "
        "the service could reuse connections, but its httpx client keeps at most 20 idle ones (the httpx "
        f"default) for {a['concurrency']} sends in flight, and {d.receiver_connections:,} of the "
        f"{d.requests:,} requests opened a new connection anyway.",
        f"- The host's CPUs were {d.host_busy:.0%} busy while the service delivered (PostgreSQL, the "
        "receivers, the bench, NATS and anything else running), and the service waited for a CPU "
        f"{d.usage.waiting:.0%} of the time: on a shared 2-core host the wall-clock figures are "
        "pessimistic, and the CPU per request is the figure to compare between runs.",
        f"- A slow receiver holds a sending slot for its whole delay: {slow} slow schools × "
        f"{a['slow_delay']:g} s over {a['concurrency']} slots need at least "
        f"{slow * a['slow_delay'] / a['concurrency']:.1f} s of the slots' time, which bounds a small "
        "concurrency.",
        "- The failing schools' deliveries stay `pending` while their circuit is open and become `dead` "
        "only when the delivery policy's attempts run out, minutes after this run ended.",
        "",
    ]
    if p := r.profile:
        heading = (
            f"### Where the service's CPU goes while delivering (py-spy, {p.busy:,} busy samples "
            f"of {p.samples:,})"
        )
        intro = "By package of the innermost non-asyncio frame: "
        lines += markdown_profile(heading, intro, p.by_package, p.by_function)
    lines += [environment_line(r.environment), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="A broadcast to every school by webhook.")
    parser.add_argument("--schools", type=int, default=1100)
    parser.add_argument("--slow-share", type=float, default=0.10, help="receivers that answer late")
    parser.add_argument("--failing-share", type=float, default=0.02, help="receivers that always answer 500")
    parser.add_argument("--slow-delay", type=float, default=2.0, help="seconds a slow receiver takes")
    parser.add_argument(
        "--concurrency", type=int, default=100, help="NOTIFICATIONS_WEBHOOK_CONCURRENCY (default 100)"
    )
    parser.add_argument("--wait", type=float, default=120.0, help="give up on the healthy schools after (s)")
    parser.add_argument(
        "--linger", type=float, default=5.0, help="seconds after the last healthy school before the status"
    )
    add_server_arguments(parser, "notifications.md", profile_help="py-spy the service; folded stacks here")
    parser.add_argument("--keep-log", type=Path, default=None, help="copy the service's log here")
    parser.add_argument("--seed", type=int, default=38)
    args = parser.parse_args()
    if not 0 <= args.slow_share + args.failing_share <= 1:
        parser.error("--slow-share + --failing-share must be between 0 and 1")
    args.command = command_line("bench/notifications.py", sys.argv[1:])
    console = Console()
    run_bench(console, args.output, bench(args, console), print_results, markdown)


if __name__ == "__main__":
    main()
