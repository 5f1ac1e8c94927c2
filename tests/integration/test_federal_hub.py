"""The federal level: a region's cluster and the federal hub as two real nats-servers over a leaf node.

The region runs the committed accounts.conf and federal-link.conf, the hub its hub.conf and
hub-accounts.conf. Anonymous aggregates (events marked ``federal=True``) cross; participant
events, school-level risk flags and programme events do not, though an observer on the hub
listens to everything its account can see; and nothing published on the hub reaches the region.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import nats
from nats.aio.msg import Msg

from mentornet_events import CATALOGUE, Subjects
from mentornet_spine.natsconfig import PROVISIONER, federal_subjects, password_variable
from mentornet_spine.natsconnect import connect
from mentornet_spine.services import discover_services
from mentornet_spine.settings import SpineSettings
from mentornet_spine.streams import ensure_streams
from tests.integration.nats_deploy import hub_server, password, region_passwords, region_server
from tests.integration.support import eventually

SUBJECTS = Subjects()


async def test_aggregates_cross_to_the_hub_participant_events_do_not(tmp_path: Path) -> None:
    [aggregate] = federal_subjects(SUBJECTS)
    assert aggregate == "mentornet.monitoring.federal.federal_aggregates_published"
    observer_password = password()
    hub = hub_server(tmp_path / "hub", observer_password=observer_password)
    hub.server.start()
    region_env = region_passwords(discover_services())
    region_env["FEDERAL_HUB_URL"] = hub.region_link
    region = region_server(tmp_path / "region", region_env, federal_link=True).start()
    try:

        async def leaf_connected() -> bool:
            async with httpx.AsyncClient() as client:
                answer = await client.get(f"http://127.0.0.1:{hub.monitor_port}/leafz")
            leafs = answer.json().get("leafs") or []
            return any(leaf.get("account") == "FEDERAL" for leaf in leafs)

        await eventually(leaf_connected)

        def as_region(user: str) -> SpineSettings:
            return SpineSettings(
                nats_url=region.url, nats_user=user, nats_password=region_env[password_variable(user)]
            )

        provisioner = await connect(as_region(PROVISIONER))
        await ensure_streams(provisioner.jetstream(), SUBJECTS)
        await provisioner.close()

        # the hub: the generated federal reader, and an observer of everything in FEDERAL
        reader = await hub.federal_reader()
        observer = await nats.connect(hub.server.url, user="observer", password=observer_password)
        read: list[Msg] = []
        seen: list[Msg] = []

        async def on_read(msg: Msg) -> None:
            read.append(msg)

        async def on_seen(msg: Msg) -> None:
            seen.append(msg)

        await reader.subscribe(aggregate, cb=on_read)
        await observer.subscribe(">", cb=on_seen)
        await reader.flush()
        await observer.flush()

        monitoring = await connect(as_region("monitoring"))
        registry = await connect(as_region("registry"))
        programs = await connect(as_region("programs"))

        # interest travels to the region over the leaf connection: publish until the first arrives
        async def first_aggregate_arrived() -> bool:
            await monitoring.jetstream().publish(aggregate, b'{"period": "2026/2027", "n": 0}')
            await asyncio.sleep(0.1)
            return bool(read)

        await eventually(first_aggregate_arrived)
        read.clear()
        seen.clear()

        private = [e.subject(SUBJECTS) for e in CATALOGUE if not e.federal]
        for subject in private:
            service = subject.split(".")[1]
            client = {"registry": registry, "programs": programs, "monitoring": monitoring}[service]
            ack = await client.jetstream().publish(subject, b'{"participant_id": "p-1"}')
            assert ack.stream == SUBJECTS.stream(service)  # published and stored in the region
        await monitoring.jetstream().publish(aggregate, b'{"period": "2026/2027", "n": 1}')

        # the last aggregate crossed after every private event (one ordered leaf connection)
        await eventually(lambda: _has(seen, b'"n": 1'), within=10)
        await eventually(lambda: _has(read, b'"n": 1'), within=10)
        assert [m.subject for m in seen] == [aggregate], "only the aggregate may reach the hub"
        assert [m.subject for m in read] == [aggregate]

        # the other way: whatever the hub publishes does not reach the region's streams
        ops = await connect(as_region("ops"))

        async def stored() -> dict[str, int]:
            return {
                service: (await ops.jetstream().stream_info(SUBJECTS.stream(service))).state.messages
                for service in CATALOGUE.services()
            }

        before = await stored()
        for subject in (*private, aggregate):
            await observer.publish(subject, b"{}")
        await observer.flush()
        await asyncio.sleep(0.5)
        assert await stored() == before

        for client in (monitoring, registry, programs, ops, reader, observer):
            await client.close()
    finally:
        region.stop()
        hub.server.stop()


async def _has(messages: list[Msg], fragment: bytes) -> bool:
    return any(fragment in m.data for m in messages)
