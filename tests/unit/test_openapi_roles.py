"""Every operation of every service says in OpenAPI who may call it; every command of a service
that keeps idempotency keys declares the ``Idempotency-Key`` header (issue 19)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mentornet_auth import Role
from tests.unit.test_input_bounds import _apps

IDEMPOTENT = {"registry", "programs", "notifications"}


@pytest.mark.parametrize("service", ["registry", "programs", "monitoring", "notifications"])
def test_every_operation_names_its_roles_and_commands_their_key(service: str, tmp_path: Path) -> None:
    document = _apps(tmp_path)[service].openapi()
    silent, keyless = [], []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "ops" in operation.get("tags", []):
                continue  # /health, for the orchestrator
            roles = operation.get("x-roles")
            if not roles or not (roles == ["*"] or all(r in set(Role) for r in roles)):
                silent.append(f"{method.upper()} {path}")
            elif "Кто может вызвать" not in operation.get("description", ""):
                silent.append(f"{method.upper()} {path}: not in the description")
            names = {p["name"] for p in operation.get("parameters", [])}
            command = service in IDEMPOTENT and method in ("post", "put", "patch", "delete")
            if command and "Idempotency-Key" not in names:
                keyless.append(f"{method.upper()} {path}")
    assert silent == [] and keyless == []
