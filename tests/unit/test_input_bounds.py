"""Every string, list and map a command carries has a bound declared in OpenAPI (issue 19).

An unbounded field once let one school's 1.1 MB subject jam the registry's stream for the region;
the walk makes a new unbounded field fail here instead of in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from mentornet_spine.settings import SpineSettings

UNBOUNDED_FORMATS = {"uuid", "date", "date-time", "email"}  # fixed-size by their format


def _apps(data_dir: Path) -> dict[str, FastAPI]:
    from monitoring.bootstrap import create_app as monitoring
    from notifications.bootstrap import create_app as notifications
    from programs.bootstrap import create_app as programs
    from registry.bootstrap import create_app as registry
    from registry.settings import RegistrySettings

    def spine(service: str) -> SpineSettings:
        return SpineSettings(service=service, database_url="sqlite+aiosqlite:///:memory:")

    return {
        "registry": registry(spine("registry"), RegistrySettings(MENTORNET_DATA_DIR=data_dir)),
        "programs": programs(spine("programs")),
        "monitoring": monitoring(spine("monitoring")),
        "notifications": notifications(spine("notifications")),
    }


def unbounded(schema: dict[str, Any], where: str, components: dict[str, Any]) -> Iterator[str]:
    """The places under ``schema`` where a client may send as much as it likes."""
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from unbounded(option, where, components)
    kind = schema.get("type")
    bounds = {"maxLength", "enum", "const", "contentMediaType"} & schema.keys()
    if kind == "string" and not bounds and schema.get("format") not in UNBOUNDED_FORMATS:
        yield f"{where}: строка без maxLength"
    if kind == "array":
        if "maxItems" not in schema:
            yield f"{where}: список без maxItems"
        yield from unbounded(schema.get("items", {}), f"{where}[]", components)
    for name, field in schema.get("properties", {}).items():
        yield from unbounded(field, f"{where}.{name}", components)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        if "maxProperties" not in schema:
            yield f"{where}: словарь без maxProperties"
        yield from unbounded(extra, f"{where}{{}}", components)


@pytest.mark.parametrize("service", ["registry", "programs", "monitoring", "notifications"])
def test_every_request_body_field_is_bounded(service: str, tmp_path: Path) -> None:
    document = _apps(tmp_path)[service].openapi()
    components = document.get("components", {}).get("schemas", {})
    bodies = [
        (f"{method.upper()} {path}", media["schema"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for media in operation.get("requestBody", {}).get("content", {}).values()
    ]
    if service != "monitoring":  # monitoring takes no commands over HTTP
        assert bodies, "the walk found no request body at all"
    found = [place for where, schema in bodies for place in unbounded(schema, where, components)]
    assert found == []


def test_the_walk_finds_an_unbounded_field() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}},
            "code": {"type": "string", "maxLength": 8},
            "id": {"type": "string", "format": "uuid"},
        },
    }
    assert list(unbounded(schema, "POST /x", {})) == [
        "POST /x.name: строка без maxLength",
        "POST /x.tags: список без maxItems",
    ]
