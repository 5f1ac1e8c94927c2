"""Use cases of the monitoring service: indicators per level with scope checks, the federal feed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mentornet_auth import AccessDenied, Principal, Role
from mentornet_events import Tenant
from mentornet_events.catalogue.monitoring import FederalAggregatesPublished, FederalRow
from mentornet_spine.db import reader, snapshot_reads
from mentornet_spine.errors import InvalidCommand
from mentornet_spine.http import NotFound
from mentornet_spine.projection import Projection
from mentornet_spine.store import EventStore
from monitoring.adapters.tables import CHANGES
from monitoring.application.answers import Answer, Answers, Positions
from monitoring.application.indicators import ALL, Area, blank, indicators
from monitoring.domain.periods import Period, parse_period
from monitoring.domain.report import Level, YearlyReport
from monitoring.domain.suppression import DEFAULT_THRESHOLD, share, suppress, suppressed_keys

SCHOOL_STAFF = (Role.SCHOOL, Role.SCHOOL_CURATOR)
LEVELS = (None, "municipality", "school")
#: a report's figures and breakdown are read again when the streams moved between the reads
REPORT_ATTEMPTS = 3
#: what the indicators answer: an area, a period, a level of breakdown (None: the area's own)
Question = tuple[Area, Period, str | None]


class Monitoring:
    def __init__(
        self,
        engine: AsyncEngine,
        store: EventStore,
        facts: Projection,  # the facts (monitoring.consumers.facts): its live tables
        region: str,
        today: Callable[[], date],
        threshold: int = DEFAULT_THRESHOLD,
        fresh_budget_s: float = 0.05,
        max_staleness_s: float = 60.0,
        region_name: str = "",
    ) -> None:
        self.engine = engine
        self.region_name = region_name
        self.reads = reader(engine)
        self.snapshots = snapshot_reads(engine)
        self.store = store
        self.facts = facts
        self.home = region
        self.today = today
        self.threshold = threshold
        self.answers: Answers[Question] = Answers(
            self._compute, budget_s=fresh_budget_s, max_age_s=max_staleness_s
        )
        self.answers.ask((Area(region), self._period(None), None))  # the institute's dashboard
        #: the positions last read and when: readers within one budget share a read
        self._seen: tuple[float, Positions] | None = None
        self._reading: asyncio.Task[Positions] | None = None

    async def _figures(self, area: Area, period: Period, level: str | None, fresh: bool = False) -> Answer:
        """Indicators with the stream positions they reflect ("as of"), see ``Answers``."""
        positions = await self._read_positions() if fresh else await self._recent_positions()
        return await self.answers.get((area, period, level), positions, fresh)

    async def refresh(self) -> int:
        """Recompute the answers asked for recently that new events made old (a periodic job)."""
        return await self.answers.refresh(await self._read_positions())

    async def _recent_positions(self) -> Positions:
        """Positions read within the budget, shared: a dashboard's readers need no query each."""
        if self._seen is not None and time.monotonic() - self._seen[0] < self.answers.budget_s:
            return self._seen[1]
        if self._reading is None:
            self._reading = asyncio.create_task(self._read_positions())
            self._reading.add_done_callback(lambda _: setattr(self, "_reading", None))
        return await asyncio.shield(self._reading)

    async def _read_positions(self) -> Positions:
        began = time.monotonic()
        async with self.reads.connect() as conn:
            positions = await self._positions(conn)
        if self._seen is None or self._seen[0] < began:
            self._seen = (began, positions)
        return positions

    async def _positions(self, conn: AsyncConnection) -> dict[str, int]:
        scope = await self.facts.scope(conn)
        return {r.stream: r.sequence for r in await conn.execute(select(scope.state["positions"]))}

    async def _compute(self, question: Question) -> tuple[dict[str, int], dict[str, Any]]:
        area, period, level = question
        async with self.snapshots.connect() as conn:  # the positions are those of the facts read
            scope = await self.facts.scope(conn)
            positions = {r.stream: r.sequence for r in await conn.execute(select(scope.state["positions"]))}
            groups = await indicators(conn, scope.state, area, period, level)
        answer = {
            "period": {"key": period.key, "start": period.start, "end": period.end, "day": period.day},
            "as_of": {stream: n for stream, n in positions.items() if stream != CHANGES},
            "computed_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "figures": groups if level else groups.get(ALL) or blank(),
        }
        return positions, answer

    async def _school_place(self, code: str) -> Tenant:
        async with self.reads.connect() as conn:
            schools = (await self.facts.scope(conn)).state["schools"]
            row = (await conn.execute(select(schools).where(schools.c.code == code))).one_or_none()
        if row is None:
            raise NotFound(f"Организация {code} не найдена")
        return Tenant(region=row.region, municipality=row.municipality or None, school=code)

    async def school(
        self, principal: Principal, code: str, period: str | None, fresh: bool = False
    ) -> Answer:
        place = await self._school_place(code)
        if principal.role in (Role.MENTOR, Role.MENTEE) or not principal.can_access(place):
            raise NotFound(f"Организация {code} не найдена")
        area = Area(place.region, place.municipality, code)
        return await self._figures(area, self._period(period), None, fresh)

    async def municipality(
        self,
        principal: Principal,
        code: str,
        period: str | None,
        by_school: bool = False,
        fresh: bool = False,
    ) -> Answer:
        allowed = principal.role is Role.REGIONAL_OPERATOR or (
            principal.role is Role.MUNICIPAL_OPERATOR and principal.municipality == code
        )
        if not allowed or principal.region != self.home:
            raise AccessDenied("Показатели муниципалитета доступны его оператору и региону")
        level = "school" if by_school else None
        return await self._figures(Area(self.home, code), self._period(period), level, fresh)

    async def region(
        self, principal: Principal, period: str | None, by: str | None = None, fresh: bool = False
    ) -> Answer:
        if principal.role is not Role.REGIONAL_OPERATOR or principal.region != self.home:
            raise AccessDenied("Показатели региона доступны региональному оператору")
        if by not in LEVELS:
            raise NotFound(f"Нет разбивки «{by}»: municipality или school")
        return await self._figures(Area(self.home), self._period(period), by, fresh)

    def _period(self, text: str | None) -> Period:
        return parse_period(text, self.today())

    # -- the federal feed -----------------------------------------------------------------

    async def federal(self, principal: Principal, period: str | None) -> FederalAggregatesPublished:
        if principal.role not in (Role.FEDERAL_CONSUMER, Role.REGIONAL_OPERATOR):
            raise AccessDenied("Федеральная выгрузка доступна федеральному уровню и региону")
        chosen = self._period(period)
        region = (await self._figures(Area(self.home), chosen, None, fresh=True)).body["figures"]
        municipalities = (await self._figures(Area(self.home), chosen, "municipality", fresh=True)).body[
            "figures"
        ]
        rows = [self._federal_row(None, region)]
        rows += [self._federal_row(code, figures) for code, figures in sorted(municipalities.items())]
        return FederalAggregatesPublished(period=chosen.key, threshold=self.threshold, rows=rows)

    def _federal_row(self, municipality: str | None, f: dict[str, Any]) -> FederalRow:
        counts = suppress(
            {
                "schools": f["schools"],
                "teachers": f["headcounts"]["teachers"],
                "students": f["headcounts"]["students"],
                "teachers_in_mentoring": f["coverage"]["teachers"],
                "students_in_mentoring": f["coverage"]["students"],
                "mentors": f["bases"]["mentors"],
                "mentees": f["bases"]["mentees"],
                "pairs_formed": f["pairs"]["formed"],
                "pairs_active": f["pairs"]["active"],
                "pairs_completed": f["pairs"]["completed"],
            },
            self.threshold,
        )
        in_mentoring = (
            None
            if counts["teachers_in_mentoring"] is None or counts["students_in_mentoring"] is None
            else counts["teachers_in_mentoring"] + counts["students_in_mentoring"]
        )
        headcount = (counts["teachers"] or 0) + (counts["students"] or 0)
        return FederalRow(
            region=self.home,
            municipality=municipality,
            coverage_share=share(in_mentoring, headcount),
            suppressed=suppressed_keys(counts),
            **counts,
        )

    async def publish_federal(self, principal: Principal, period: str | None) -> FederalAggregatesPublished:
        """Send the period's aggregates to the federal subject (through the outbox, like every event)."""
        if principal.role is not Role.REGIONAL_OPERATOR:
            raise AccessDenied("Отправляет выгрузку региональный оператор")
        event = await self.federal(principal, period)
        stream = f"federal-{self.home}-{event.period.replace('/', '-')}"
        version = await self.store.stream_version(stream)
        await self.store.append(stream, version, [event], tenant=Tenant(region=self.home))
        return event

    # -- the yearly analytic report -------------------------------------------------------

    async def yearly_report(
        self, principal: Principal, level: Level, code: str | None, period: str | None
    ) -> YearlyReport:
        """The figures of a school, a municipality or the region with its breakdown, for the report.

        The same scope checks as the indicators: a school's curator their school, a municipal
        operator their municipality, the regional operator anything in the region. The federal
        level gets the suppressed aggregates only, never a report. The level's figures and its
        breakdown are read until they reflect the same stream positions (a few tries).
        """
        if principal.role is Role.FEDERAL_CONSUMER:
            raise AccessDenied("Аналитический отчёт федеральному уровню не выдаётся: ему — агрегаты")
        if level in ("school", "municipality") and not code:
            raise InvalidCommand("Укажите код организации или муниципалитета", "code")
        if level == "region" and code and code != self.home:
            raise NotFound(f"Регион {code} не обслуживается")
        answers: list[dict[str, Any]] = []
        for _ in range(REPORT_ATTEMPTS):
            if level == "school":
                assert code
                own = (await self.school(principal, code, period, fresh=True)).body
                answers = [own, {**own, "figures": {code: own["figures"]}}]
            elif level == "municipality":
                assert code
                answers = [
                    (await self.municipality(principal, code, period, fresh=True)).body,
                    (await self.municipality(principal, code, period, by_school=True, fresh=True)).body,
                ]
            elif level == "region":
                answers = [
                    (await self.region(principal, period, fresh=True)).body,
                    (await self.region(principal, period, "municipality", fresh=True)).body,
                    (await self.region(principal, period, "school", fresh=True)).body,
                ]
            else:
                raise InvalidCommand("Уровень отчёта: school, municipality или region", "level")
            if all(a["as_of"] == answers[0]["as_of"] for a in answers):
                break
        own, below = answers[0], answers[1]
        schools = answers[2]["figures"] if level == "region" else {}
        chosen = self._period(period)  # the answers hold it as JSON text
        return YearlyReport(
            level=level,
            code=code if level != "region" and code else self.home,
            period_key=chosen.key,
            period_start=chosen.start,
            period_end=chosen.end,
            as_of=dict(own["as_of"]),
            figures=own["figures"],
            breakdown=below["figures"],
            schools=schools,
            municipality_of=await self._municipalities() if level == "region" else {},
            generated_on=self.today(),
            region_name=self.region_name,
            names=await self._names(),
        )

    async def _names(self) -> dict[str, dict[str, str]]:
        """The region's municipalities and schools by their public names (a report shows names)."""
        names: dict[str, dict[str, str]] = {"municipality": {}, "school": {}}
        async with self.reads.connect() as conn:
            table = (await self.facts.scope(conn)).state["names"]
            for r in await conn.execute(select(table).where(table.c.region == self.home)):
                names.setdefault(r.kind, {})[r.code] = r.name
        return names

    async def _municipalities(self) -> dict[str, str]:
        """School code -> municipality code, for the region's schools."""
        async with self.reads.connect() as conn:
            schools = (await self.facts.scope(conn)).state["schools"]
            rows = await conn.execute(
                select(schools.c.code, schools.c.municipality).where(schools.c.region == self.home)
            )
            return {r.code: r.municipality for r in rows}
