"""Private nats-servers running the committed deploy/nats configuration (accounts, leaf links).

The configuration files are used as they are; only what a test on a shared machine must own
(ports, store directories) is set around them, and passwords are fresh per test.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

from mentornet_spine.natsconfig import NATS_DEPLOY_DIR, region_users
from mentornet_spine.natsserver import NatsServer
from mentornet_spine.services import ServiceSpec


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
