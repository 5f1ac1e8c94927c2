"""docker-compose.yml and deploy/ agree with the code: pinned images, no secrets, the cluster shape."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from mentornet_spine.services import discover_services

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


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
    nodes = {n: s for n, s in compose()["services"].items() if n.startswith("nats-")}
    assert sorted(nodes) == ["nats-1", "nats-2", "nats-3"]
    config = (ROOT / "deploy/nats/cluster.conf").read_text()
    assert "jetstream" in config
    for node in nodes:
        assert f"nats-route://{node}:6222" in config


def test_services_in_compose_are_the_services_in_code() -> None:
    services = compose()["services"]
    declared = {
        name for name, s in services.items() if s.get("build") or s.get("image", "").startswith("mentornet:")
    }
    specs = {spec.name: spec for spec in discover_services()}
    assert declared == set(specs)
    for name in declared:
        env = services[name]["environment"]
        assert env["MENTORNET_STREAM_REPLICAS"] == "3"
        assert services[name]["command"] == [name]
        if specs[name].database:  # the pages keep no data
            assert name in env["DATABASE_URL"]


def test_postgres_has_a_database_and_role_per_service() -> None:
    init = (ROOT / "deploy/postgres/init.sql").read_text()
    for service in ("registry", "programs", "monitoring", "notifications"):
        assert f"CREATE DATABASE {service} OWNER {service};" in init


def test_dockerfile_runs_as_non_root() -> None:
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    assert re.search(r"^USER\s+(?!root|0\b)\S+", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile
