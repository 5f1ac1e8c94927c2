"""The region's three-node cluster from deploy/nats/cluster.conf, as real nats-server processes.

Streams at three replicas form over the generated accounts; a client given the comma-separated
NATS_URL of the compose file reaches them; with one node down publishing goes on (R3 quorum);
and although every node keeps its own leaf link to the federal hub, an aggregate arrives there
once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from nats.aio.msg import Msg

from mentornet_events import Subjects
from mentornet_spine.natsconfig import PROVISIONER, federal_subjects, password_variable
from mentornet_spine.natsconnect import connect
from mentornet_spine.services import discover_services
from mentornet_spine.settings import SpineSettings
from mentornet_spine.streams import ensure_streams
from tests.integration.nats_deploy import hub_server, region_cluster, region_passwords
from tests.integration.support import eventually

SUBJECTS = Subjects()


async def test_three_nodes_r3_streams_and_one_copy_at_the_hub(tmp_path: Path) -> None:
    hub = hub_server(tmp_path / "hub")
    hub.server.start()
    env = region_passwords(discover_services())
    env["FEDERAL_HUB_URL"] = hub.region_link
    nodes = region_cluster(tmp_path / "region", env)
    for node in nodes:
        node.start()
    url = ",".join(node.url for node in nodes)
    try:

        def as_user(user: str) -> SpineSettings:
            return SpineSettings(nats_url=url, nats_user=user, nats_password=env[password_variable(user)])

        provisioner = await connect(as_user(PROVISIONER))

        async def provisioned() -> bool:
            try:
                await ensure_streams(provisioner.jetstream(timeout=2), SUBJECTS, replicas=3)
            except Exception:  # no JetStream meta leader yet
                return False
            return True

        await eventually(provisioned, within=60, interval=0.5)
        info = await provisioner.jetstream().stream_info(SUBJECTS.stream("registry"))
        assert info.config.num_replicas == 3
        assert info.cluster is not None and len(info.cluster.replicas or []) == 2
        await provisioner.close()

        reader = await hub.federal_reader()
        received: list[Msg] = []

        async def on_aggregate(msg: Msg) -> None:
            received.append(msg)

        [aggregate] = federal_subjects(SUBJECTS)
        await reader.subscribe(aggregate, cb=on_aggregate)
        await reader.flush()
        monitoring = await connect(as_user("monitoring"))

        async def interest_arrived() -> bool:
            await monitoring.jetstream().publish(aggregate, b'{"probe": true}')
            await asyncio.sleep(0.2)
            return bool(received)

        await eventually(interest_arrived, within=30)
        await asyncio.sleep(1)  # every node's leaf link has the hub's interest by now
        received.clear()
        for n in range(5):
            await monitoring.jetstream().publish(aggregate, f'{{"n": {n}}}'.encode())
        await eventually(lambda: _count(received, 5), within=10)
        await asyncio.sleep(1)
        assert len(received) == 5, "each aggregate once, not once per node"

        # one node down: R3 keeps a quorum, publishing and the federal feed go on
        nodes[2].stop()
        registry = await connect(as_user("registry"))
        ack = await registry.jetstream(timeout=10).publish(
            "mentornet.registry.school.school_connected", b"{}"
        )
        assert ack.stream == SUBJECTS.stream("registry")
        for client in (monitoring, registry, reader):
            await client.close()
    finally:
        for node in nodes:
            node.stop()
        hub.server.stop()


async def _count(messages: list[Msg], n: int) -> bool:
    return len(messages) >= n
