"""docker-compose.yml and deploy/ agree with the code: pinned images, no secrets, the cluster shape.

A new service needs, besides its ``ServiceSpec`` entry point: a block in docker-compose.yml built
from ``x-service`` (``command: [<name>]``, ``ports: ["<spec.port>:8000"]``, ``MENTORNET_SERVICE``;
if it uses the broker, ``NATS_USER: <name>`` and ``NATS_PASSWORD: ${<NAME>_NATS_PASSWORD:?…}``, the
same variable on the NATS nodes (``x-nats-env``) and in .env.example, then ``./mn nats-config
--write``; with ``broker=False`` in its spec, none of these), and ``deploy/k8s/services/<name>.yaml``
listed in ``deploy/kustomization.yaml`` (a Deployment with ``args: [<name>]``, probes on /health,
non-root, secrets only by reference). The tests below name whichever part is missing.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from mentornet_events import CATALOGUE, Subjects
from mentornet_spine import natsconfig
from mentornet_spine.cli import app as cli_app
from mentornet_spine.natsconfig import (
    NATS_DEPLOY_DIR,
    federal_subjects,
    password_variable,
    region_users,
    rendered_files,
    service_user,
)
from mentornet_spine.services import ServiceSpec, discover_services
from mentornet_spine.settings import SpineSettings

ROOT = Path(__file__).resolve().parents[2]
#: one-shot jobs built from the service image, not services
JOBS = {"nats-streams"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|KEY|KEK")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def specs() -> list[ServiceSpec]:
    return discover_services()


def k8s(path: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((ROOT / "deploy" / path).read_text()) if d]


def kustomization() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "deploy/kustomization.yaml").read_text())
    return loaded


def settings_aliases(service: str) -> set[str]:
    """Every environment variable the service's processes read: the spine's and its own settings."""
    classes: list[type[BaseSettings]] = [SpineSettings]
    try:
        module = importlib.import_module(f"{service}.settings")
    except ModuleNotFoundError:
        module = None
    if module is not None:
        classes += [c for c in vars(module).values() if isinstance(c, type) and issubclass(c, BaseSettings)]
    names: set[str] = set()
    for cls in classes:
        for field in cls.model_fields.values():
            alias = field.validation_alias
            if isinstance(alias, str):
                names.add(alias)
            elif isinstance(alias, AliasChoices):
                names |= {c for c in alias.choices if isinstance(c, str)}
    return names


def conf_variables(*files: Path) -> set[str]:
    """The ``$VARIABLE`` references of NATS configuration files (outside quotes and comments)."""
    found: set[str] = set()
    for path in files:
        for line in path.read_text().splitlines():
            code = re.sub(r'"[^"]*"', "", line.split("#", 1)[0])
            found |= set(re.findall(r"\$([A-Z][A-Z0-9_]*)", code))
    return found


def test_every_image_is_pinned() -> None:
    for name, service in compose()["services"].items():
        image = service.get("image", "")
        assert re.search(r":\d+(\.\d+)+", image), f"{name}: image {image!r} is not pinned to a version"


def test_no_secret_values_in_the_compose_file() -> None:
    for name, service in compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|KEY|KEK", key):
                assert str(value).startswith("${"), f"{name}: {key} must come from .env, not the file"
    example = (ROOT / ".env.example").read_text()
    for key in re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text()):
        assert f"{key}=" in example, f"{key} is required by docker-compose.yml but missing in .env.example"


def test_three_node_jetstream_cluster() -> None:
    nodes = {n: s for n, s in compose()["services"].items() if re.fullmatch(r"nats-\d+", n)}
    assert sorted(nodes) == ["nats-1", "nats-2", "nats-3"]
    config = (ROOT / "deploy/nats/cluster.conf").read_text()
    assert "jetstream" in config
    for node in nodes:
        assert f"nats-route://{node}:6222" in config


def test_services_in_compose_are_the_services_in_code() -> None:
    services = compose()["services"]
    declared = {
        name
        for name, s in services.items()
        if (s.get("build") or s.get("image", "").startswith("mentornet:")) and name not in JOBS
    }
    assert declared == {spec.name for spec in specs()}, (
        "a service block per ServiceSpec, built from x-service"
    )
    for name in declared:
        env = services[name]["environment"]
        assert env["MENTORNET_STREAM_REPLICAS"] == "3"
        assert services[name]["command"] == [name]
        if "DATABASE_URL" in env:
            assert f"@postgres:5432/{name}" in env["DATABASE_URL"]


@pytest.mark.parametrize("spec", specs(), ids=lambda s: s.name)
def test_compose_block_agrees_with_the_spec(spec: ServiceSpec) -> None:
    block = compose()["services"][spec.name]
    env = block["environment"]
    assert block["ports"] == [f"{spec.port}:8000"], "the embedded port outside, PORT (8000) inside"
    assert env["MENTORNET_SERVICE"] == spec.name
    assert env["NATS_URL"].split(",") == [f"nats://nats-{n}:4222" for n in (1, 2, 3)]
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    if spec.broker:
        assert env["NATS_USER"] == spec.name
        assert env["NATS_PASSWORD"].startswith(f"${{{password_variable(spec.name)}:?")
        assert env["MENTORNET_PROVISION_STREAMS"] == "false", "the nats-streams job owns the streams"
        assert block["depends_on"]["nats-streams"] == {"condition": "service_completed_successfully"}
    else:
        assert "NATS_USER" not in env


@pytest.mark.parametrize("spec", specs(), ids=lambda s: s.name)
def test_compose_environment_is_read_by_the_service(spec: ServiceSpec) -> None:
    known = settings_aliases(spec.name)
    unknown = set(compose()["services"][spec.name]["environment"]) - known
    assert not unknown, f"{spec.name}: {sorted(unknown)} are read by no settings class"


def test_postgres_has_a_database_and_role_per_service() -> None:
    init = (ROOT / "deploy/postgres/init.sql").read_text()
    roles = (ROOT / "deploy/postgres/init-roles.sh").read_text()
    services = compose()["services"]
    with_db = [s.name for s in specs() if "DATABASE_URL" in services[s.name]["environment"]]
    assert {"registry", "programs", "monitoring", "notifications"} <= set(with_db)
    for service in with_db:
        assert f"CREATE ROLE {service} LOGIN;" in init
        assert f"CREATE DATABASE {service} OWNER {service};" in init
        assert re.search(rf"\bfor service in [^;]*\b{service}\b", roles), f"init-roles.sh: {service}"
        assert f"{service.upper()}_DB_PASSWORD" in services["postgres"]["environment"]


def test_dockerfile_runs_as_non_root() -> None:
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    assert re.search(r"^USER\s+(?!root|0\b)\S+", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile


def test_nats_config_is_generated_from_the_catalogue_and_current() -> None:
    for name, text in rendered_files(specs()).items():
        assert (NATS_DEPLOY_DIR / name).read_text() == text, f"{name} is stale: ./mn nats-config --write"


def test_each_service_user_publishes_exactly_its_own_events() -> None:
    subjects = Subjects()
    events = {spec.subject(subjects): spec.service for spec in CATALOGUE}
    for spec in specs():
        user = service_user(spec, subjects)
        published_events = {s for s in user.publish if s in events}
        assert published_events == {s for s, owner in events.items() if owner == spec.name}
        assert not any(s.endswith(">") and s.startswith("mentornet.") for s in user.publish)
        assert user.subscribe == (f"_INBOX_{spec.name}.>",), "only its own replies"
        for consumer, sources in spec.consumers.items():
            for source in sources:
                assert f"$JS.API.CONSUMER.MSG.NEXT.{subjects.stream(source)}.{consumer}" in user.publish
            assert subjects.dead_letter(consumer) in user.publish


def test_only_federal_events_leave_the_region() -> None:
    federal = federal_subjects(Subjects())
    assert federal == ["mentornet.monitoring.federal.federal_aggregates_published"]
    accounts = (NATS_DEPLOY_DIR / "accounts.conf").read_text()
    exported = re.findall(r'\{ stream: "([^"]+)", accounts: \[FEDERAL\] \}', accounts)
    imported = re.findall(r'\{ stream: \{ account: MENTORNET, subject: "([^"]+)" \} \}', accounts)
    assert exported == federal and imported == federal
    link = (NATS_DEPLOY_DIR / "federal-link.conf").read_text()
    assert re.search(r"account:\s*FEDERAL", link), "the leaf link is bound to FEDERAL only"
    assert "MENTORNET" not in re.sub(r"#.*", "", link)


@pytest.mark.parametrize("spec", specs(), ids=lambda s: s.name)
def test_spec_declares_the_consumers_its_runtime_creates(
    spec: ServiceSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The permissions are generated from ``ServiceSpec.consumers``: it must match the handlers."""
    from mentornet_spine import runtime

    created: dict[str, tuple[str, ...]] = {}
    original = runtime.ServiceRuntime.__init__

    def capture(
        self: runtime.ServiceRuntime, settings: SpineSettings, handlers: Any = (), *a: Any, **k: Any
    ) -> None:
        created.update({h.name: tuple(h.sources) for h in handlers})
        original(self, settings, handlers, *a, **k)

    monkeypatch.setattr(runtime.ServiceRuntime, "__init__", capture)
    monkeypatch.setenv("MENTORNET_DATA_DIR", str(tmp_path))
    spec.create_app(SpineSettings(service=spec.name, database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db"))
    assert {n: tuple(sorted(s)) for n, s in created.items()} == {
        n: tuple(sorted(s)) for n, s in spec.consumers.items()
    }


def test_nats_servers_get_every_variable_their_config_reads() -> None:
    services = compose()["services"]
    region = conf_variables(
        *(NATS_DEPLOY_DIR / f for f in ("cluster.conf", "accounts.conf", "federal-link.conf"))
    )
    users = {u.password_variable for u in region_users(specs(), Subjects())}
    assert users <= region and "FEDERAL_HUB_URL" in region
    for node in ("nats-1", "nats-2", "nats-3"):
        assert region <= set(services[node]["environment"]), (
            f"{node} lacks {region - set(services[node]['environment'])}"
        )
        assert "./deploy/nats:/etc/nats:ro" in services[node]["volumes"]
    hub = conf_variables(NATS_DEPLOY_DIR / "hub.conf", NATS_DEPLOY_DIR / "hub-accounts.conf")
    assert hub == {"FEDERAL_LEAF_USER", "FEDERAL_LEAF_PASSWORD", password_variable(natsconfig.FEDERAL_READER)}
    assert hub <= set(services["nats-hub"]["environment"])
    cluster = (NATS_DEPLOY_DIR / "cluster.conf").read_text()
    assert "include ./accounts.conf" in cluster and "include ./federal-link.conf" in cluster
    example = (ROOT / ".env.example").read_text()
    for variable in sorted(users | {"FEDERAL_LEAF_PASSWORD", password_variable(natsconfig.FEDERAL_READER)}):
        value = re.search(rf"^{variable}=(.*)$", example, re.M)
        assert value, f"{variable} missing in .env.example"
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", value.group(1)), f"{variable}: letters and digits"


def test_streams_job_provisions_as_the_provisioner() -> None:
    job = compose()["services"]["nats-streams"]
    assert job["entrypoint"] == ["mentornet"] and job["command"] == ["streams"]
    assert job["environment"]["NATS_USER"] == natsconfig.PROVISIONER
    assert job["environment"]["NATS_PASSWORD"].startswith(f"${{{password_variable(natsconfig.PROVISIONER)}:?")
    assert job["environment"]["MENTORNET_STREAM_REPLICAS"] == "3"
    assert "streams" in {
        c.name or (c.callback.__name__ if c.callback else "") for c in cli_app.registered_commands
    }


def test_env_example_lists_what_compose_and_k8s_take_from_it() -> None:
    example = (ROOT / ".env.example").read_text()
    for line in (
        "NATS_URL=nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222",
        "MENTORNET_STREAM_REPLICAS=3",
    ):
        assert line in example
    assert "OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318" in example
    keys = set(re.findall(r"secretKeyRef: \{name: mentornet-secrets, key: (\w+)", _all_k8s_text()))
    missing = {k for k in keys if not re.search(rf"^{k}=", example, re.M)}
    assert not missing, f"the Secret is made from .env: {sorted(missing)} missing in .env.example"


def _all_k8s_text() -> str:
    return "\n".join(p.read_text() for p in sorted((ROOT / "deploy/k8s").rglob("*.yaml")))


def _containers(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            found += doc["spec"]["template"]["spec"]["containers"]
    return found


def test_kustomization_lists_existing_files() -> None:
    kust = kustomization()
    for resource in kust["resources"]:
        assert (ROOT / "deploy" / resource).is_file(), resource
    for generator in kust["configMapGenerator"]:
        for item in generator.get("files", []):
            assert (ROOT / "deploy" / item.split("=")[-1]).is_file(), item


@pytest.mark.parametrize("spec", specs(), ids=lambda s: s.name)
def test_k8s_deployment_agrees_with_the_spec(spec: ServiceSpec) -> None:
    path = f"k8s/services/{spec.name}.yaml"
    assert path in kustomization()["resources"], f"deploy/{path} is not in deploy/kustomization.yaml"
    docs = k8s(path)
    [deployment] = [d for d in docs if d["kind"] == "Deployment"]
    [service] = [d for d in docs if d["kind"] == "Service"]
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["args"] == [spec.name]
    assert container["image"].startswith("mentornet:")
    assert container["ports"] == [{"name": "http", "containerPort": 8000}]
    assert service["spec"]["ports"][0]["port"] == 8000
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert "livenessProbe" in container and "startupProbe" in container
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    env = {e["name"]: e for e in container["env"]}
    assert env["MENTORNET_SERVICE"]["value"] == spec.name
    if spec.broker:
        assert env["NATS_USER"]["value"] == spec.name
        assert env["NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == password_variable(spec.name)
    compose_env = compose()["services"][spec.name]["environment"]
    generated = {  # what every pod reads from the mentornet-env ConfigMap
        item.split("=", 1)[0]
        for gen in kustomization()["configMapGenerator"]
        if gen["name"] == "mentornet-env"
        for item in gen["literals"]
    }
    assert {"NATS_URL", "MENTORNET_LOG_JSON", "MENTORNET_TIMEZONE"} <= generated
    assert set(compose_env) - generated <= set(env), "the same settings as in docker-compose.yml"
    known = settings_aliases(spec.name)
    for name in env:
        if name.endswith("_DB_PASSWORD"):
            assert "$(" + name + ")" in env["DATABASE_URL"]["value"]
            continue
        assert name in known, f"{spec.name}: {name} is read by no settings class"


def test_k8s_secrets_are_references_and_images_are_pinned() -> None:
    for path in sorted((ROOT / "deploy/k8s").rglob("*.yaml")):
        for container in _containers(k8s(str(path.relative_to(ROOT / "deploy")))):
            assert re.search(r":\d+(\.\d+)+", container["image"]), f"{path.name}: {container['image']}"
            for variable in container.get("env", []):
                if SECRET_NAME.search(variable["name"]):
                    assert "valueFrom" in variable, f"{path.name}: {variable['name']} must be a secretKeyRef"


def test_k8s_nats_cluster_shape() -> None:
    docs = k8s("k8s/nats.yaml")
    [nats] = [d for d in docs if d["kind"] == "StatefulSet"]
    assert nats["spec"]["replicas"] == 3
    config = (ROOT / "deploy/k8s/nats.conf").read_text()
    for n in range(3):
        assert f"nats-route://nats-{n}.nats:6222" in config
    assert "include ./accounts.conf" in config and "include ./federal-link.conf" in config
    [container] = nats["spec"]["template"]["spec"]["containers"]
    variables = conf_variables(
        ROOT / "deploy/k8s/nats.conf",
        NATS_DEPLOY_DIR / "accounts.conf",
        NATS_DEPLOY_DIR / "federal-link.conf",
    )
    assert variables <= {e["name"] for e in container["env"]}
    literals = dict(
        item.split("=", 1)
        for gen in kustomization()["configMapGenerator"]
        if gen["name"] == "mentornet-env"
        for item in gen["literals"]
    )
    assert literals["NATS_URL"].split(",") == [f"nats://nats-{n}.nats:4222" for n in range(3)]
    assert literals["MENTORNET_STREAM_REPLICAS"] == "3"
    assert literals["MENTORNET_PROVISION_STREAMS"] == "false"
