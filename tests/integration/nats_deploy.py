"""Private nats-servers running the committed deploy/nats configuration (accounts, leaf links).

The configuration files are used as they are; only what a test on a shared machine must own
(ports, store directories) is set around them, and passwords are fresh per test.
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from nats.aio.client import Client

from mentornet_spine.natsconfig import FEDERAL_READER, NATS_DEPLOY_DIR, password_variable, region_users
from mentornet_spine.natsconnect import connect
from mentornet_spine.natsserver import NatsServer, free_port
from mentornet_spine.services import ServiceSpec
from mentornet_spine.settings import SpineSettings

#: the region's leaf node user at the hub
LEAF_USER = "region38"


def password() -> str:
    """Like production's: letters and digits, starting with a letter (the config parses it)."""
    return "p" + secrets.token_hex(12)


def region_passwords(specs: list[ServiceSpec]) -> dict[str, str]:
    """The environment the region's servers need: one password per user of accounts.conf."""
    from mentornet_events import Subjects

    return {user.password_variable: password() for user in region_users(specs, Subjects())}


def region_server(
    directory: Path, env: dict[str, str], accounts: str | None = None, federal_link: bool = False
) -> NatsServer:
    """One region node: JetStream, accounts.conf (or the given text), optionally the hub link."""
    directory.mkdir(parents=True, exist_ok=True)
    if accounts is None:
        shutil.copy(NATS_DEPLOY_DIR / "accounts.conf", directory / "accounts.conf")
    else:
        (directory / "accounts.conf").write_text(accounts)
    includes = ["include ./accounts.conf"]
    if federal_link:
        shutil.copy(NATS_DEPLOY_DIR / "federal-link.conf", directory / "federal-link.conf")
        includes.append("include ./federal-link.conf")
    config = directory / "region.conf"
    config.write_text("\n".join(includes) + "\n")  # JetStream and its store: NatsServer's flags
    return NatsServer(store_dir=directory / "js", config=config, env=env)


@dataclass
class Hub:
    server: NatsServer
    leaf_port: int
    monitor_port: int
    #: what the hub's configuration reads: the region's leaf credentials, the reader's password
    env: dict[str, str]

    @property
    def region_link(self) -> str:
        """``FEDERAL_HUB_URL`` for the region: its leaf user's credentials and this hub's leaf port."""
        return f"nats-leaf://{LEAF_USER}:{self.env['FEDERAL_LEAF_PASSWORD']}@127.0.0.1:{self.leaf_port}"

    async def federal_reader(self) -> Client:
        """A connection as the generated federal reader (it may read only the aggregates)."""
        reader_password = self.env[password_variable(FEDERAL_READER)]
        return await connect(
            SpineSettings(nats_url=self.server.url, nats_user=FEDERAL_READER, nats_password=reader_password)
        )


def hub_server(directory: Path, observer_password: str | None = None) -> Hub:
    """The federal hub from hub.conf and hub-accounts.conf, on this test's ports, fresh passwords.

    ``observer_password`` adds a test-only user to FEDERAL that may read everything there, so a
    test can show what did not arrive (the generated reader may read only the aggregates).
    """
    directory.mkdir(parents=True, exist_ok=True)
    env = {
        "FEDERAL_LEAF_USER": LEAF_USER,
        "FEDERAL_LEAF_PASSWORD": password(),
        password_variable(FEDERAL_READER): password(),
    }
    server = NatsServer(store_dir=directory / "js", env=env, config=directory / "hub.conf")
    hub = Hub(server, leaf_port=free_port(), monitor_port=free_port(), env=env)
    text = (NATS_DEPLOY_DIR / "hub.conf").read_text()
    for production, here in (
        ("listen: 0.0.0.0:4222", f"listen: 127.0.0.1:{hub.server.port}"),
        ("http: 0.0.0.0:8222", f"http: 127.0.0.1:{hub.monitor_port}"),
        ("port: 7422", f"listen: 127.0.0.1:{hub.leaf_port}"),
    ):
        assert production in text, f"hub.conf no longer has {production!r}; update the test"
        text = text.replace(production, here)
    (directory / "hub.conf").write_text(text)
    accounts = (NATS_DEPLOY_DIR / "hub-accounts.conf").read_text()
    if observer_password:
        observer = f"      {{ user: observer, password: {observer_password} }}\n"
        accounts = accounts.replace("    users: [\n", "    users: [\n" + observer, 1)
    (directory / "hub-accounts.conf").write_text(accounts)
    return hub


def region_cluster(directory: Path, env: dict[str, str], nodes: int = 3) -> list[NatsServer]:
    """The region's cluster from cluster.conf as it is, its addresses moved to this test's ports."""
    names = [f"nats-{n}" for n in range(1, nodes + 1)]
    route_ports = {name: free_port() for name in names}
    cluster = (NATS_DEPLOY_DIR / "cluster.conf").read_text()
    servers = []
    for name in names:
        node_dir = directory / name
        node_dir.mkdir(parents=True, exist_ok=True)
        for include in ("accounts.conf", "federal-link.conf"):
            shutil.copy(NATS_DEPLOY_DIR / include, node_dir / include)
        server = NatsServer(
            store_dir=node_dir / "js", config=node_dir / "cluster.conf", env=env | {"NODE_NAME": name}
        )
        text = cluster
        for production, here in (
            ("listen: 0.0.0.0:4222", f"listen: 127.0.0.1:{server.port}"),
            ("http: 0.0.0.0:8222", f"http: 127.0.0.1:{free_port()}"),
            ("store_dir: /data/jetstream", "# store_dir: NatsServer's -sd flag"),
            ("listen: 0.0.0.0:6222", f"listen: 127.0.0.1:{route_ports[name]}"),
            *(
                (f"nats-route://{other}:6222", f"nats-route://127.0.0.1:{route_ports[other]}")
                for other in names
            ),
        ):
            assert production in text, f"cluster.conf no longer has {production!r}; update the test"
            text = text.replace(production, here)
        (node_dir / "cluster.conf").write_text(text)
        servers.append(server)
    return servers
