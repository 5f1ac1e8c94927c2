"""Raises ``RiskFlagRaised`` when a school's indicators newly break a risk rule (a daily check).

Each school and period has a stream of the flags raised; a flag already in it is not raised again,
and two checkers racing lose on the stream version instead of raising twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from mentornet_events import Tenant
from mentornet_events.catalogue.monitoring import RiskFlagRaised
from mentornet_spine.db import reader
from mentornet_spine.projection import Projection
from mentornet_spine.store import ConcurrencyConflict, EventStore
from monitoring.application.indicators import Area, indicators
from monitoring.domain.periods import parse_period


class RiskWatch:
    def __init__(
        self,
        engine: AsyncEngine,
        store: EventStore,
        facts: Projection,  # the facts (monitoring.consumers.facts): its live tables
        region: str,
        today: Callable[[], date],
    ) -> None:
        self.engine = engine
        self.store = store
        self.facts = facts
        self.region = region
        self.today = today

    async def run_once(self) -> int:
        period = parse_period(None, self.today())
        async with reader(self.engine).connect() as conn:
            scope = await self.facts.scope(conn)
            figures = await indicators(conn, scope.state, Area(self.region), period, "school")
            schools = scope.state["schools"]
            places: dict[str, str] = {r.code: r.municipality for r in await conn.execute(select(schools))}
        raised = 0
        for school, f in sorted(figures.items()):
            if not f["risks"]:
                continue
            stream = f"risks-{school}-{period.key.replace('/', '-')}"
            known = await self.store.read_stream(stream)
            seen = {e.payload["code"] for e in known}
            new = [
                RiskFlagRaised(school=school, period=period.key, code=r["code"], rule=r["rule"])
                for r in f["risks"]
                if r["code"] not in seen
            ]
            if not new:
                continue
            tenant = Tenant(region=self.region, municipality=places.get(school) or None, school=school)
            try:
                await self.store.append(stream, len(known), new, tenant=tenant)
            except ConcurrencyConflict:
                continue  # another checker got there first; the next run sees its flags
            raised += len(new)
        return raised
