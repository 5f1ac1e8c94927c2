"""What the programs service's handlers and views work with, built once in bootstrap.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine

from mentornet_spine.db import statement_reads
from mentornet_spine.store import EventStore
from mentornet_spine.uow import UnitsOfWork
from programs.adapters import read_model


@dataclass
class Programs:
    #: commands: one unit of work each (aggregates through the stream cache, events appended last)
    units: UnitsOfWork
    #: queries: one statement each, outside any transaction
    reads: AsyncEngine
    #: the service's calendar (a test's clock replaces it)
    today: Callable[[], date]

    @classmethod
    def create(cls, engine: AsyncEngine, store: EventStore, today: Callable[[], date]) -> Programs:
        return cls(UnitsOfWork(engine, store, read_model.project), statement_reads(engine), today)
