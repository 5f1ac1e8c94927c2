"""The generated accounts (deploy/nats/accounts.conf) on a real nats-server: each user does its part only.

A service publishes exactly its own events and is refused another service's (a permission
violation from the server, not a client-side check); it cannot read other subjects or other
users' inboxes, nor create streams; the provisioner creates streams and publishes no event; and the
spine's real runtime (relay, durable consumer, dead letters) works under its user as generated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client
from nats.js.api import StreamConfig

from mentornet_events import CATALOGUE, Subjects
from mentornet_spine.consumer import ConsumerSettings
from mentornet_spine.natsconfig import OPS, PROVISIONER, password_variable, render_accounts
from mentornet_spine.natsconnect import connect
from mentornet_spine.natsserver import NatsServer
from mentornet_spine.runtime import ServiceRuntime
from mentornet_spine.services import ServiceSpec, discover_services
from mentornet_spine.settings import SpineSettings
from mentornet_spine.store import EventStore
from mentornet_spine.streams import ensure_streams
from mentornet_spine.testing import EventCounts, item_completed, pair_formed, tenant
from tests.integration.nats_deploy import region_passwords, region_server
from tests.integration.support import eventually

SUBJECTS = Subjects()  # the deployment's root: the generated permissions name it


class User:
    """A connection as one of the generated users, keeping the errors the server sends it."""

    def __init__(self, nc: Client, errors: list[str]) -> None:
        self.nc = nc
        self.errors = errors

    async def violation(self, text: str) -> str:
        await self.nc.flush()
        return str(await eventually(lambda: _found(self.errors, text), within=5))


async def _found(errors: list[str], text: str) -> str | None:
    """The server's ``-ERR`` as nats-py reports it (lower-cased, subject included)."""
    return next((e for e in errors if text.lower() in e.lower()), None)


async def login(server: NatsServer, env: dict[str, str], user: str) -> User:
    errors: list[str] = []

    async def on_error(error: Exception) -> None:
        errors.append(str(error))

    settings = SpineSettings(nats_url=server.url, nats_user=user, nats_password=env[password_variable(user)])
    nc = await connect(settings, error_cb=on_error, connect_timeout=5, max_reconnect_attempts=0)
    return User(nc, errors)


@pytest.fixture
async def region(tmp_path: Path) -> AsyncIterator[tuple[NatsServer, dict[str, str]]]:
    env = region_passwords(discover_services())
    server = region_server(tmp_path / "nats", env).start()
    yield server, env
    server.stop()


async def test_each_service_publishes_its_own_events_and_is_refused_the_rest(
    region: tuple[NatsServer, dict[str, str]],
) -> None:
    server, env = region
    provisioner = await login(server, env, PROVISIONER)
    await ensure_streams(provisioner.nc.jetstream(), SUBJECTS)
    specs = [s for s in discover_services() if s.broker]
    assert {s.name for s in specs} >= {"registry", "programs", "monitoring", "notifications"}
    for spec in specs:
        user = await login(server, env, spec.name)
        js = user.nc.jetstream()
        own = [e.subject(SUBJECTS) for e in CATALOGUE if e.service == spec.name]
        for subject in own:
            ack = await js.publish(subject, b"{}")
            assert ack.stream == SUBJECTS.stream(spec.name)
        others = [e.subject(SUBJECTS) for e in CATALOGUE if e.service != spec.name]
        assert others
        for subject in others[:3]:
            await user.nc.publish(subject, b"{}")
            await user.violation(f'Permissions Violation for Publish to "{subject}"')
        # reading another service's events directly, or another user's replies, is refused too
        await user.nc.subscribe(SUBJECTS.service_wildcard("registry"))
        await user.violation("Permissions Violation for Subscription to")
        await user.nc.subscribe("_INBOX_ops.>")
        await user.violation('Permissions Violation for Subscription to "_INBOX_ops.>"')
        # and stream configuration is the provisioner's
        with pytest.raises(TimeoutError):  # the request is dropped: nobody answers it
            await user.nc.jetstream(timeout=1).add_stream(
                StreamConfig(name=f"X_{spec.name.upper()}", subjects=["x.>"])
            )
        create = f"$JS.API.STREAM.CREATE.X_{spec.name.upper()}"
        await user.violation(f'Permissions Violation for Publish to "{create}"')
        await user.nc.close()
    # the refused publishes stored nothing: each stream holds exactly its service's own events
    ops = await login(server, env, OPS)
    for service in CATALOGUE.services():
        info = await ops.nc.jetstream().stream_info(SUBJECTS.stream(service))
        assert info.state.messages == len([e for e in CATALOGUE if e.service == service])
    await ops.nc.close()
    # the provisioner publishes no event
    event = next(e.subject(SUBJECTS) for e in CATALOGUE)
    await provisioner.nc.publish(event, b"{}")
    await provisioner.violation(f'Permissions Violation for Publish to "{event}"')
    await provisioner.nc.close()


async def test_the_runtime_works_under_its_generated_user(tmp_path: Path) -> None:
    """Relay publishes, a durable consumer is created, pulls, acks and dead-letters as ``programs``."""
    spec = ServiceSpec(
        name="programs", app_factory="unused:unused", port=0, consumers={"sample-event-counts": ("programs",)}
    )
    env = region_passwords([spec])
    server = region_server(tmp_path / "nats", env, accounts=render_accounts([spec])).start()
    try:
        provisioner = await login(server, env, PROVISIONER)
        await ensure_streams(provisioner.nc.jetstream(), SUBJECTS)
        await provisioner.nc.close()
        settings = SpineSettings(
            service="programs",
            nats_url=server.url,
            nats_user="programs",
            nats_password=env[password_variable("programs")],
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'programs.db'}",
            provision_streams=False,
        )
        counts = EventCounts("sample-event-counts")
        runtime = ServiceRuntime(settings, [counts], ConsumerSettings(max_deliver=2, backoff_s=(0.1,)))
        await runtime.start()
        try:
            store: EventStore = runtime.store
            for _ in range(3):
                event = pair_formed()
                await store.append(f"pair-{event.pair_id}", 0, [event], tenant=tenant("s1"))
            await store.append("item-poison", 0, [item_completed("POISON")], tenant=tenant("s1"))

            async def applied() -> bool:
                content, _ids = await counts.content(runtime.engine)
                return content.get(("s1", "PairFormed")) == 3

            await eventually(applied)
            ops = await login(server, env, OPS)
            js = ops.nc.jetstream()

            async def dead_lettered() -> bool:
                return (await js.stream_info(SUBJECTS.dead_letter_stream)).state.messages == 1

            await eventually(dead_lettered)
            consumer = await js.consumer_info(SUBJECTS.stream("programs"), "sample-event-counts")
            assert consumer.num_ack_pending == 0
            await ops.nc.close()
        finally:
            await runtime.stop()
    finally:
        server.stop()


def test_streams_and_status_commands_run_as_provisioner_and_ops(tmp_path: Path) -> None:
    """What the compose job and an operator run: ``mentornet streams`` and ``mentornet status``."""
    from typer.testing import CliRunner

    from mentornet_spine.cli import app

    env = region_passwords(discover_services())
    server = region_server(tmp_path / "nats", env).start()
    try:
        runner = CliRunner()
        as_provisioner = {
            "NATS_URL": server.url,
            "NATS_USER": PROVISIONER,
            "NATS_PASSWORD": env[password_variable(PROVISIONER)],
            "MENTORNET_STREAM_REPLICAS": "1",
            "COLUMNS": "250",  # rich would shorten the stream names in a narrow table
        }
        result = runner.invoke(app, ["streams"], env=as_provisioner)
        assert result.exit_code == 0, result.output
        for service in CATALOGUE.services():
            assert f"stream {SUBJECTS.stream(service)}: R1" in result.output
        as_ops = as_provisioner | {"NATS_USER": OPS, "NATS_PASSWORD": env[password_variable(OPS)]}
        status = runner.invoke(app, ["status", "--data-dir", str(tmp_path / "none")], env=as_ops)
        assert status.exit_code == 0, status.output
        assert SUBJECTS.stream("registry") in status.output
        # the provisioner's password does not open ops' door, nor a service's
        wrong = as_provisioner | {"NATS_USER": OPS}
        refused = runner.invoke(app, ["status", "--data-dir", str(tmp_path / "none")], env=wrong)
        assert refused.exit_code != 0
    finally:
        server.stop()
