"""The ``mentornet`` command line: run the embedded system, inspect it, rebuild projections."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from nats.js import JetStreamContext
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select

from mentornet_events import Subjects
from mentornet_simulator.cli import register as _register_simulator
from mentornet_simulator.demo import DemoLogin
from mentornet_spine.db import make_engine
from mentornet_spine.natsconnect import connect
from mentornet_spine.natsserver import NatsServer, die_with_parent
from mentornet_spine.projection import Projection, rebuild
from mentornet_spine.relay import OutboxRelay
from mentornet_spine.services import ServiceSpec, discover_services
from mentornet_spine.settings import SpineSettings
from mentornet_spine.streams import ensure_streams
from mentornet_spine.tables import consumer_tracking, events

app = typer.Typer(help="MentorNet: the regional mentoring network.", no_args_is_help=True)
console = Console()

EMBEDDED_NATS_PORT = 14222
DataDir = Annotated[Path, typer.Option(help="Where the embedded NATS and the SQLite files live")]
NatsUrl = Annotated[str | None, typer.Option(help="NATS URL (default: NATS_URL or the embedded broker)")]
Root = Annotated[str, typer.Option(envvar="MENTORNET_SUBJECT_ROOT", help="Subject root")]


def _nats_url(url: str | None) -> str:
    return url or os.environ.get("NATS_URL") or f"nats://127.0.0.1:{EMBEDDED_NATS_PORT}"


def _log_tail(log: Path, lines: int = 15) -> str:
    """The end of a service's log, for the moment it fails: the reason is usually in its last lines."""
    try:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n".join(["", f"the last lines of {log}:", *tail])


def _wait_healthy(
    spec: ServiceSpec, port: int, process: subprocess.Popen[bytes], timeout: float, log: Path
) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"service {spec.name} exited with code {process.returncode}{_log_tail(log)}")
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            if answer.status_code == 200:
                return
            last = answer.text
        except httpx.HTTPError as error:
            last = str(error)
        time.sleep(0.2)
    raise RuntimeError(f"service {spec.name} not healthy after {timeout}s: {last}{_log_tail(log)}")


def _stop_all(processes: list[subprocess.Popen[bytes]], nats_server: NatsServer) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
    nats_server.stop()


@app.command()
def up(
    data_dir: DataDir = Path(".data"),
    nats_port: Annotated[int, typer.Option(help="Port of the embedded NATS")] = EMBEDDED_NATS_PORT,
    port_offset: Annotated[int, typer.Option(help="Added to every service's port")] = 0,
    root: Root = "mentornet",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for health")] = 60.0,
    demo: Annotated[
        bool, typer.Option("--demo", help="Fill the system with a small simulated region and print logins")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also show the services' log lines here")
    ] = False,
) -> None:
    """Start the embedded NATS with JetStream and every service on SQLite; Ctrl-C stops all.

    The services' own log lines go to files under ``<data-dir>/logs/`` (``--verbose`` shows them here
    too): the terminal says what is starting and, once all is up, where to open and how to sign in.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    logs = data_dir / "logs"
    logs.mkdir(exist_ok=True)
    specs = discover_services()
    console.print(
        f"MentorNet: starting NATS with JetStream and {len(specs)} services "
        f"({', '.join(s.name for s in specs)}) on SQLite in {data_dir}; their logs: {logs}/",
        highlight=False,
    )
    server = NatsServer(store_dir=data_dir / "nats", port=nats_port, monitor_port=nats_port + 4000)
    server.start()
    subjects = Subjects(root)
    asyncio.run(_provision(server.url, subjects))
    processes: list[subprocess.Popen[bytes]] = []
    stopping = False

    def request_stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        table = Table("service", "address", "database", title="MentorNet is running")
        table.add_row("nats", server.url, str(data_dir / "nats"))
        # each service learns where the others answer (the programs service fetches the registry's keys)
        addresses = {
            f"MENTORNET_{spec.name.upper()}_URL": f"http://127.0.0.1:{spec.port + port_offset}"
            for spec in specs
        }
        for spec in specs:
            port = spec.port + port_offset
            env = (
                spec.extra_env  # the embedded system's defaults, which the environment overrides
                | os.environ
                | addresses
                | {
                    "MENTORNET_SERVICE": spec.name,
                    "NATS_URL": server.url,
                    "DATABASE_URL": spec.embedded_database_url(data_dir),
                    "MENTORNET_SUBJECT_ROOT": root,
                    "MENTORNET_DATA_DIR": str(data_dir.resolve()),
                    "PORT": str(port),
                }
            )
            env.pop("DATABASE_SCHEMA", None)
            if not spec.database:
                env.pop("DATABASE_URL", None)
            output = None if verbose else (logs / f"{spec.name}.log").open("ab")
            processes.append(
                subprocess.Popen(  # own session: Ctrl-C reaches only `up`, which stops all in order
                    [sys.executable, "-m", "mentornet_spine.serve", spec.name],
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT if output else None,
                    start_new_session=True,
                    preexec_fn=die_with_parent,
                )
            )
            if output:
                output.close()  # the child holds its own descriptor
        # all start at once (their imports and migrations overlap), then each must answer
        for spec, process in zip(specs, processes, strict=True):
            port = spec.port + port_offset
            _wait_healthy(spec, port, process, timeout, logs / f"{spec.name}.log")
            database = spec.embedded_database_url(data_dir) if spec.database else "—"
            table.add_row(spec.name, f"http://127.0.0.1:{port}", database)
        console.print(table)
        pages = [f"http://127.0.0.1:{spec.port + port_offset}/" for spec in specs if spec.pages]
        for address in pages:
            console.print(f"pages for people (web): {address}", highlight=False)
        logins = _demo(data_dir, port_offset) if demo else []
        _print_sign_in(pages, logins, data_dir)
        console.print("[bold green]all services healthy[/] — press Ctrl-C to stop", highlight=False)
        while not stopping:
            for spec, process in zip(specs, processes, strict=True):
                if process.poll() is not None:
                    console.print(
                        f"[red]service {spec.name} exited with code {process.returncode}[/]"
                        f"{_log_tail(logs / f'{spec.name}.log')}",
                        highlight=False,
                    )
                    stopping = True
            time.sleep(0.2)
    except RuntimeError as error:
        console.print(f"[red]{error}[/]")
        _stop_all(processes, server)
        raise typer.Exit(1) from None
    console.print("stopping…")
    _stop_all(processes, server)
    console.print("stopped")


def _demo(data_dir: Path, port_offset: int) -> list[DemoLogin]:
    from mentornet_simulator.demo import run_demo
    from mentornet_simulator.executor import Endpoints

    ports = {spec.name: spec.port + port_offset for spec in discover_services()}
    endpoints = Endpoints(*(f"http://127.0.0.1:{ports[n]}" for n in ("registry", "programs", "monitoring")))
    return run_demo(endpoints, data_dir, console)


def _print_sign_in(pages: list[str], logins: list[DemoLogin], data_dir: Path) -> None:
    """The last lines before the ready message: where to click and how to sign in."""
    if not pages:
        return
    if not logins:
        console.print(
            f"open {pages[0]} and sign in as [bold]operator[/] (the regional institute) with the password "
            f"in {data_dir / 'registry-operator-password.txt'}",
            highlight=False,
        )
        return
    console.print(f"open {pages[0]} and sign in as any of these (fresh passwords):", highlight=False)
    width = max(len(login.role) for login in logins)
    for login in logins:
        console.print(
            f"  {login.role:<{width}}  {login.username} / {login.password}  — {login.sees}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    console.print(f"the dashboard: {pages[0]}dashboard", highlight=False)


async def _provision(url: str, subjects: Subjects, replicas: int = 1) -> list[str]:
    nc = await connect(SpineSettings(), url, connect_timeout=5)
    try:
        return await ensure_streams(nc.jetstream(), subjects, replicas)
    finally:
        await nc.close()


def _databases(data_dir: Path, given: list[str]) -> dict[str, str]:
    found = {
        s.name: s.embedded_database_url(data_dir)
        for s in discover_services()
        if (data_dir / f"{s.name}.db").exists()
    }
    for item in given:
        name, _, url = item.partition("=")
        if not url:
            raise typer.BadParameter(f"--database expects name=url, got {item!r}")
        found[name] = url
    return found


@app.command()
def status(
    nats_url: NatsUrl = None,
    data_dir: DataDir = Path(".data"),
    database: Annotated[list[str] | None, typer.Option(help="service=database-url, repeatable")] = None,
    root: Root = "mentornet",
) -> None:
    """Streams, consumers with their lag and redeliveries, dead letters, and outbox backlogs."""
    asyncio.run(_status(_nats_url(nats_url), Subjects(root), _databases(data_dir, database or [])))


async def _status(url: str, subjects: Subjects, databases: dict[str, str]) -> None:
    nc = await connect(SpineSettings(), url, connect_timeout=5, max_reconnect_attempts=1)
    js = nc.jetstream()
    streams = Table(
        "stream", "subjects", "messages", "bytes", "first seq", "last seq", "replicas", title="Streams"
    )
    consumers = Table(
        "stream", "consumer", "lag", "ack pending", "redelivered", "last active", title="Consumers"
    )
    prefix = subjects.root.upper() + "_"
    for info in await js.streams_info():
        name = info.config.name or ""
        if not name.startswith(prefix):
            continue
        state = info.state
        streams.add_row(
            name,
            ", ".join(info.config.subjects or []),
            str(state.messages),
            str(state.bytes),
            str(state.first_seq),
            str(state.last_seq),
            str(info.config.num_replicas),
        )
        for c in await js.consumers_info(name):
            active = c.delivered.last_active if c.delivered else None
            consumers.add_row(
                name,
                c.name or "",
                str(c.num_pending),
                str(c.num_ack_pending),
                str(c.num_redelivered),
                str(active or "-"),
            )
    console.print(streams)
    console.print(consumers)
    try:
        await _outboxes(js, subjects, databases)
    finally:
        await nc.close()


async def _outboxes(js: JetStreamContext, subjects: Subjects, databases: dict[str, str]) -> None:
    """Per service: committed, relayed, what its stream holds intact, and what each of its
    consumers applied — the store is the truth the stream and the projections are checked against."""
    backlog = Table(
        "service", "committed", "relayed to", "in stream up to", "outbox backlog", "parked", title="Outbox"
    )
    applied = Table("service", "consumer", "stream", "applied up to position", title="Applied downstream")
    parked = Table("service", "position", "event", "type", "parked at", "reason", title="Parked by the relay")
    for service, db_url in sorted(databases.items()):
        engine = make_engine(db_url)
        try:
            relay = OutboxRelay(engine, js, subjects, service=service)
            held = await relay.parked()
            async with engine.connect() as conn:
                committed = await conn.scalar(select(func.max(events.c.position))) or 0
                relayed = await relay.checkpoint(conn)
                reads = await conn.execute(
                    select(consumer_tracking).order_by(
                        consumer_tracking.c.consumer, consumer_tracking.c.stream
                    )
                )
                for consumer, stream, position in reads:
                    applied.add_row(service, consumer, stream, str(position))
            intact = await relay.intact_up_to()
            shown = "—" if intact is None else str(intact[1])
            if intact is not None and intact[1] < relayed:
                shown = f"[red]{intact[1]} (lost after it: reconciled by the relay)[/]"
            backlog.add_row(
                service,
                str(committed),
                str(relayed),
                shown,
                str(await relay.backlog()),
                f"[red]{len(held)}[/]" if held else "0",
            )
            for row in held:
                parked.add_row(
                    service,
                    str(row["position"]),
                    str(row["event_id"]),
                    row["type"],
                    row["parked_at"].isoformat(timespec="seconds"),
                    row["reason"],
                )
        except Exception as error:
            backlog.add_row(service, f"[red]{type(error).__name__}: {error}[/]", "-", "-", "-", "-")
        finally:
            await engine.dispose()
    console.print(backlog)
    if applied.row_count:
        console.print(applied)
    if parked.row_count:
        console.print(parked)


@app.command("relay")
def relay_from(
    service: Annotated[str, typer.Argument(help="The service whose events to publish again")],
    position: Annotated[
        int, typer.Option("--from", min=0, help="Publish again every event after this position")
    ],
    data_dir: DataDir = Path(".data"),
    database: Annotated[
        str | None, typer.Option(help="The service's database URL (default: its .data file)")
    ] = None,
    nats_url: NatsUrl = None,
    root: Root = "mentornet",
) -> None:
    """An operator's repair: the service's relay publishes again everything after POSITION (the
    stream's duplicate window drops what it still holds). The service picks it up at once."""
    db_url = database or _databases(data_dir, []).get(service)
    if not db_url:
        raise typer.BadParameter(f"no database for {service}: pass --database")
    asyncio.run(_relay_from(_nats_url(nats_url), Subjects(root), service, db_url, position))


async def _relay_from(url: str, subjects: Subjects, service: str, db_url: str, position: int) -> None:
    nc = await connect(SpineSettings(), url, connect_timeout=5, max_reconnect_attempts=1)
    engine = make_engine(db_url)
    try:
        relay = OutboxRelay(engine, nc.jetstream(), subjects, service=service)
        await relay.rewind(position)
        waiting = await relay.backlog()
        console.print(f"{service}: the relay publishes again from position {position + 1} ({waiting} events)")
    finally:
        await engine.dispose()
        await nc.close()


def _find_projections(name: str) -> list[tuple[ServiceSpec, Projection]]:
    found = []
    for spec in discover_services():
        for projection in spec.load_projections():
            if name in (spec.name, projection.name):
                found.append((spec, projection))
    return found


@app.command()
def replay(
    projection: Annotated[
        str, typer.Argument(help="A projection's name, or a service's name for all of its")
    ],
    nats_url: NatsUrl = None,
    data_dir: DataDir = Path(".data"),
    database_url: Annotated[
        str | None, typer.Option(envvar="DATABASE_URL", help="The service's database")
    ] = None,
    database_schema: Annotated[str | None, typer.Option(envvar="DATABASE_SCHEMA")] = None,
    root: Root = "mentornet",
) -> None:
    """Rebuild a projection from the start of the streams into fresh tables, then swap them in."""
    targets = _find_projections(projection)
    if not targets:
        known = [p.name for s in discover_services() for p in s.load_projections()]
        console.print(
            f"[red]no projection or service named {projection!r}[/]; known: {', '.join(known) or 'none'}"
        )
        raise typer.Exit(2)
    asyncio.run(
        _replay(targets, _nats_url(nats_url), data_dir, database_url, database_schema, Subjects(root))
    )


async def _replay(
    targets: list[tuple[ServiceSpec, Projection]],
    url: str,
    data_dir: Path,
    database_url: str | None,
    schema: str | None,
    subjects: Subjects,
) -> None:
    nc = await connect(SpineSettings(), url, connect_timeout=5)
    js = nc.jetstream()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as bar:
            for spec, projection in targets:
                engine = make_engine(database_url or spec.embedded_database_url(data_dir), schema=schema)
                task = bar.add_task(projection.name, total=None)

                def advance(done: int, total: int, task: TaskID = task) -> None:
                    if total:
                        bar.update(task, total=total)
                    bar.advance(task, done)

                try:
                    result = await rebuild(engine, js, projection, subjects, progress=advance)
                finally:
                    await engine.dispose()
                bar.update(task, description=f"{projection.name} → generation {result.generation}")
                console.print(
                    f"{projection.name}: {result.events} events replayed, generation {result.generation}"
                )
                for sequence, reason in result.refused:
                    console.print(f"[yellow]  refused stream sequence {sequence}: {reason}[/]")
    finally:
        await nc.close()


@app.command()
def streams(
    nats_url: NatsUrl = None,
    root: Root = "mentornet",
    replicas: Annotated[
        int, typer.Option(envvar="MENTORNET_STREAM_REPLICAS", help="Replicas of each stream")
    ] = 1,
) -> None:
    """Create the streams or update them to the declared config (the provisioner job; idempotent)."""
    for name in asyncio.run(_provision(_nats_url(nats_url), Subjects(root), replicas)):
        console.print(f"stream {name}: R{replicas}")


@app.command("nats-config")
def nats_config(
    check: Annotated[bool, typer.Option("--check", help="Fail if the committed files are stale")] = False,
    write: Annotated[bool, typer.Option("--write", help="Rewrite the committed files")] = False,
) -> None:
    """Print, check or rewrite deploy/nats/accounts.conf and hub-accounts.conf (users, permissions)."""
    from mentornet_spine.natsconfig import NATS_DEPLOY_DIR, rendered_files

    files = rendered_files(discover_services())
    if check:
        stale = [
            name
            for name, text in files.items()
            if not (NATS_DEPLOY_DIR / name).exists()
            or (NATS_DEPLOY_DIR / name).read_text(encoding="utf-8") != text
        ]
        if stale:
            names = ", ".join(stale)
            console.print(f"[red]stale in {NATS_DEPLOY_DIR}: {names}[/]: run ./mn nats-config --write")
            raise typer.Exit(1)
        console.print(f"{', '.join(files)} in {NATS_DEPLOY_DIR} are current")
    elif write:
        for name, text in files.items():
            (NATS_DEPLOY_DIR / name).write_text(text, encoding="utf-8")
            console.print(f"wrote {NATS_DEPLOY_DIR / name}")
    else:
        for name, text in files.items():
            sys.stdout.write(f"# --- {name}\n{text}")


@app.command()
def asyncapi(
    check: Annotated[bool, typer.Option("--check", help="Fail if the committed document is stale")] = False,
    write: Annotated[bool, typer.Option("--write", help="Rewrite the committed document")] = False,
) -> None:
    """Print, check or rewrite the AsyncAPI 3 document generated from the event catalogue."""
    from mentornet_events.asyncapi import ASYNCAPI_PATH, render_asyncapi

    document = render_asyncapi()
    if check:
        if not ASYNCAPI_PATH.exists() or ASYNCAPI_PATH.read_text(encoding="utf-8") != document:
            console.print(f"[red]{ASYNCAPI_PATH} is stale[/]: run ./mn asyncapi --write and commit it")
            raise typer.Exit(1)
        console.print(f"{ASYNCAPI_PATH} is current")
    elif write:
        ASYNCAPI_PATH.write_text(document, encoding="utf-8")
        console.print(f"wrote {ASYNCAPI_PATH}")
    else:
        sys.stdout.write(document)


_register_simulator(app)

if __name__ == "__main__":
    app()
