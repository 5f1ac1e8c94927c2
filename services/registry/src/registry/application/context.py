"""What the registry's handlers and views work with, built once in bootstrap.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine

from mentornet_events import Tenant
from mentornet_spine.db import statement_reads
from mentornet_spine.store import EventStore
from mentornet_spine.uow import UnitsOfWork
from registry.adapters import read_model
from registry.adapters.vault import Vault


@dataclass
class Registry:
    #: commands: one unit of work each (aggregates through the stream cache, events appended last)
    units: UnitsOfWork
    #: queries: one statement each, outside any transaction
    reads: AsyncEngine
    vault: Vault
    region: str
    today: Callable[[], date]
    #: a school's place (region, municipality) never changes once registered: looked up once
    places: dict[str, Tenant] = field(default_factory=dict)

    @classmethod
    def create(
        cls, engine: AsyncEngine, store: EventStore, vault: Vault, region: str, today: Callable[[], date]
    ) -> Registry:
        return cls(
            UnitsOfWork(engine, store, read_model.project), statement_reads(engine), vault, region, today
        )
