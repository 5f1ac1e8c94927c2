"""Service discovery: each service declares a ``ServiceSpec`` under the ``mentornet.services`` entry points.

``mentornet up``, ``status`` and ``replay`` find services here, so a new service plugs in by
declaring its entry point, without changes to the CLI. ``MENTORNET_EXTRA_SERVICES`` (comma-separated
``module:attribute``) adds specs from outside the installed distribution, e.g. a plugin or a test.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from mentornet_spine.projection import Projection
    from mentornet_spine.settings import SpineSettings


def load_object(reference: str) -> Any:
    module, _, attribute = reference.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    #: ``module:function`` taking ``SpineSettings`` and returning the service's FastAPI app
    app_factory: str
    #: port in the embedded system (``mentornet up``)
    port: int
    #: ``module:function`` returning the service's projections (for ``mentornet replay``)
    projections: str | None = None
    description: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    #: durable consumers (the handler's name) and the services whose streams each reads; the
    #: broker permissions of the service's NATS user are generated from this (``nats-config``)
    consumers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: whether the service talks to NATS at all (a service without events gets no NATS user)
    broker: bool = True
    #: whether the service keeps a database of its own (the web pages hold no data)
    database: bool = True
    #: whether the service serves pages for people (``mentornet up`` prints their address)
    pages: bool = False

    def create_app(self, settings: SpineSettings) -> FastAPI:
        factory: Callable[[SpineSettings], FastAPI] = load_object(self.app_factory)
        return factory(settings)

    def load_projections(self) -> list[Projection]:
        if not self.projections:
            return []
        factory: Callable[[], list[Projection]] = load_object(self.projections)
        return factory()

    def embedded_database_url(self, data_dir: Path) -> str:
        return f"sqlite+aiosqlite:///{(data_dir / f'{self.name}.db').resolve()}"


def discover_services() -> list[ServiceSpec]:
    specs: dict[str, ServiceSpec] = {}
    for ep in entry_points(group="mentornet.services"):
        spec = ep.load()
        specs[spec.name] = spec
    for reference in filter(None, os.environ.get("MENTORNET_EXTRA_SERVICES", "").split(",")):
        spec = load_object(reference.strip())
        specs[spec.name] = spec
    return [specs[name] for name in sorted(specs)]


def find_service(name: str) -> ServiceSpec | None:
    """One service's spec, importing only that service (each service's imports take seconds)."""
    for reference in filter(None, os.environ.get("MENTORNET_EXTRA_SERVICES", "").split(",")):
        spec = load_object(reference.strip())
        if spec.name == name:
            return spec  # type: ignore[no-any-return]
    for ep in entry_points(group="mentornet.services", name=name):
        loaded: ServiceSpec = ep.load()
        return loaded
    return next((s for s in discover_services() if s.name == name), None)
