"""NATS accounts and permissions generated from the event catalogue and the service specs.

Each service connects as its own user that may publish exactly the subjects of its own events,
drive exactly its own durable consumers (and dead-letter their poison messages) and receive
replies only under its own inbox prefix. Streams are created by the ``provisioner`` user, status
and replays are run by ``ops``. Events marked ``federal=True`` in the catalogue are exported to
the ``FEDERAL`` account, which alone is bridged to the federal hub over a leaf node connection,
so nothing else can leave the region. Passwords are environment variables of the NATS servers.

``mentornet nats-config --write`` renders ``deploy/nats/accounts.conf`` and
``deploy/nats/hub-accounts.conf``; ``--check`` (in CI) fails when they are stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mentornet_events import CATALOGUE, Catalogue, Subjects
from mentornet_spine.natsconnect import inbox_prefix
from mentornet_spine.services import ServiceSpec

NATS_DEPLOY_DIR = Path(__file__).resolve().parents[4] / "deploy" / "nats"
ACCOUNTS_FILE = "accounts.conf"
HUB_ACCOUNTS_FILE = "hub-accounts.conf"
#: the region's account (all services, the streams) and the one bridged to the federal hub
REGION_ACCOUNT = "MENTORNET"
FEDERAL_ACCOUNT = "FEDERAL"
PROVISIONER = "provisioner"
OPS = "ops"
#: the federal level's reader on the hub
FEDERAL_READER = "federal"


@dataclass(frozen=True)
class NatsUser:
    name: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]

    @property
    def password_variable(self) -> str:
        """The environment variable holding the password on the NATS servers (and the client)."""
        return f"{self.name.upper().replace('-', '_')}_NATS_PASSWORD"


def password_variable(user: str) -> str:
    return NatsUser(user, (), ()).password_variable


def federal_subjects(subjects: Subjects, catalogue: Catalogue = CATALOGUE) -> list[str]:
    """The only subjects that may cross to the federal hub: anonymous aggregates."""
    return sorted(spec.subject(subjects) for spec in catalogue if spec.federal)


def consumer_api(stream: str, consumer: str) -> list[str]:
    """What a durable pull consumer's client sends: look it up, create it, pull, acknowledge."""
    api = "$JS.API.CONSUMER"
    return [
        f"{api}.INFO.{stream}.{consumer}",
        f"{api}.CREATE.{stream}.{consumer}",
        f"{api}.CREATE.{stream}.{consumer}.>",  # the form with a filter subject
        f"{api}.DURABLE.CREATE.{stream}.{consumer}",  # the form older clients use
        f"{api}.MSG.NEXT.{stream}.{consumer}",
        f"$JS.ACK.{stream}.{consumer}.>",
    ]


def service_user(spec: ServiceSpec, subjects: Subjects, catalogue: Catalogue = CATALOGUE) -> NatsUser:
    """Publish: its own events, its consumers' JetStream API and dead letters (its relay's parked
    events too). Subscribe: its inbox."""
    publish = sorted(s.subject(subjects) for s in catalogue if s.service == spec.name)
    if publish:
        publish.append(subjects.dead_letter(f"{spec.name}-relay"))
    for consumer, sources in sorted(spec.consumers.items()):
        for source in sources:
            publish += consumer_api(subjects.stream(source), consumer)
        publish.append(subjects.dead_letter(consumer))
    return NatsUser(spec.name, tuple(publish), (f"{inbox_prefix(spec.name)}.>",))


def stream_names(subjects: Subjects, catalogue: Catalogue = CATALOGUE) -> list[str]:
    return [*(subjects.stream(service) for service in catalogue.services()), subjects.dead_letter_stream]


def provisioner_user(subjects: Subjects, catalogue: Catalogue = CATALOGUE) -> NatsUser:
    """Creates and updates the streams (``mentornet streams``), nothing else."""
    publish = ["$JS.API.INFO"]
    for stream in stream_names(subjects, catalogue):
        publish += [f"$JS.API.STREAM.{verb}.{stream}" for verb in ("INFO", "CREATE", "UPDATE")]
    return NatsUser(PROVISIONER, tuple(publish), (f"{inbox_prefix(PROVISIONER)}.>",))


def ops_user() -> NatsUser:
    """``mentornet status`` and ``replay``: the whole JetStream API, but no domain event publishing."""
    return NatsUser(OPS, ("$JS.API.>", "$JS.ACK.>", "$JS.FC.>"), (f"{inbox_prefix(OPS)}.>",))


def region_users(
    specs: Sequence[ServiceSpec], subjects: Subjects, catalogue: Catalogue = CATALOGUE
) -> list[NatsUser]:
    users = [service_user(spec, subjects, catalogue) for spec in specs if spec.broker]
    return [*users, provisioner_user(subjects, catalogue), ops_user()]


def _list(items: Sequence[str], indent: str) -> str:
    inner = "".join(f'{indent}  "{item}"\n' for item in items)
    return f"[\n{inner}{indent}]"


def _user(user: NatsUser, indent: str) -> str:
    i = indent
    return (
        f"{i}{{\n"
        f"{i}  user: {user.name}\n"
        f"{i}  password: ${user.password_variable}\n"
        f"{i}  permissions: {{\n"
        f"{i}    publish: {{ allow: {_list(user.publish, i + '    ')} }}\n"
        f"{i}    subscribe: {{ allow: {_list(user.subscribe, i + '    ')} }}\n"
        f"{i}  }}\n"
        f"{i}}}\n"
    )


HEADER = (
    "# Generated by `mentornet nats-config --write` from the event catalogue and the service specs;\n"
    "# do not edit (CI runs `mentornet nats-config --check`). Passwords are environment variables of\n"
    "# the NATS servers: letters and digits, starting with a letter (see .env.example).\n"
)


def render_accounts(
    specs: Sequence[ServiceSpec], subjects: Subjects | None = None, catalogue: Catalogue = CATALOGUE
) -> str:
    """The region's accounts: every service's user in one JetStream account, and the federal bridge."""
    subjects = subjects or Subjects()
    federal = federal_subjects(subjects, catalogue)
    users = "".join(_user(u, "      ") for u in region_users(specs, subjects, catalogue))
    exports = "".join(
        f'      {{ stream: "{subject}", accounts: [{FEDERAL_ACCOUNT}] }}\n' for subject in federal
    )
    imports = "".join(
        f'      {{ stream: {{ account: {REGION_ACCOUNT}, subject: "{subject}" }} }}\n' for subject in federal
    )
    return (
        HEADER
        + "# One account holds the streams and every service's user (JetStream streams and consumers\n"
        + "# belong to one account); each user's permissions are its exact subjects. FEDERAL receives\n"
        + "# only the anonymous aggregates and is the only account bridged to the federal hub\n"
        + "# (federal-link.conf).\n"
        + "accounts {\n"
        + f"  {REGION_ACCOUNT} {{\n"
        + "    jetstream: enabled\n"
        + f"    users: [\n{users}    ]\n"
        + f"    exports: [\n{exports}    ]\n"
        + "  }\n"
        + f"  {FEDERAL_ACCOUNT} {{\n"
        + f"    imports: [\n{imports}    ]\n"
        + "  }\n"
        + "}\n"
    )


def render_hub_accounts(subjects: Subjects | None = None, catalogue: Catalogue = CATALOGUE) -> str:
    """The federal hub's account: regions' leaf connections publish into it, the reader reads."""
    subjects = subjects or Subjects()
    reader = NatsUser(
        FEDERAL_READER,
        (),
        (*federal_subjects(subjects, catalogue), f"{inbox_prefix(FEDERAL_READER)}.>"),
    )
    i = "      "
    user = (
        f"{i}{{\n"
        f"{i}  user: {reader.name}\n"
        f"{i}  password: ${reader.password_variable}\n"
        f"{i}  permissions: {{\n"
        f'{i}    publish: {{ deny: [">"] }}\n'
        f"{i}    subscribe: {{ allow: {_list(reader.subscribe, i + '    ')} }}\n"
        f"{i}  }}\n"
        f"{i}}}\n"
    )
    return (
        HEADER
        + "# The federal hub: regions connect as leaf nodes bound to FEDERAL (hub.conf) and can only\n"
        + "# send what their own FEDERAL account imports; the federal reader subscribes to it.\n"
        + "accounts {\n"
        + f"  {FEDERAL_ACCOUNT} {{\n"
        + f"    users: [\n{user}    ]\n"
        + "  }\n"
        + "}\n"
    )


def rendered_files(specs: Sequence[ServiceSpec]) -> dict[str, str]:
    return {ACCOUNTS_FILE: render_accounts(specs), HUB_ACCOUNTS_FILE: render_hub_accounts()}
