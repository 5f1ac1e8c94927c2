"""Use cases of the programs service: each checks role and tenant, decides in the domain, commits.

Commands append to the aggregate's stream and update the read tables in one transaction; texts
that may describe a person go to the texts table in the same transaction, never into events.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import bindparam, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mentornet_auth import AccessDenied, Principal, Role
from mentornet_events import DomainEvent, Tenant
from mentornet_events.catalogue.programs import PlannedItem
from mentornet_events.vocabulary import (
    DeficitArea,
    ExperienceBand,
    MentoringForm,
    ParticipantRole,
    QualificationCategory,
)
from mentornet_spine.db import statement_reads
from mentornet_spine.errors import DomainError
from mentornet_spine.http import NotFound
from mentornet_spine.store import ConcurrencyConflict, EventStore, StreamAppend
from mentornet_spine.streamcache import RecentStreams
from programs.adapters import read_model
from programs.adapters.tables import (
    eligible,
    feedback,
    meetings,
    pair_members,
    pairs,
    programmes,
    roadmap_items,
    texts,
)
from programs.application.schemas import (
    CompletionIn,
    DissolveIn,
    DocumentIn,
    FeedbackIn,
    MeetingIn,
    PairIn,
    ProgrammeCompletionIn,
    ProgrammeIn,
    ReflectionIn,
    RoadmapIn,
    RoadmapItemIn,
    StageIn,
)
from programs.domain import matching
from programs.domain import pair as pair_domain
from programs.domain import programme as programme_domain
from programs.domain import roadmap as roadmap_domain
from programs.domain.templates import template

E = TypeVar("E", bound=StrEnum)
WRITERS = (Role.SCHOOL, Role.SCHOOL_CURATOR)
PEOPLE = (Role.MENTOR, Role.MENTEE)


def _stale(expected: int | None, actual: int) -> None:
    if expected is not None and expected != actual:
        raise ConcurrencyConflict("(If-Match)", expected, actual)


@dataclass
class _Write:
    """A command's transaction and the appends it makes when it ends (known to the stream cache
    once committed)."""

    conn: AsyncConnection
    changes: list[StreamAppend] = field(default_factory=list)


class Programs:
    def __init__(self, engine: AsyncEngine, store: EventStore, today: Callable[[], date]) -> None:
        self.engine = engine
        self.reads = statement_reads(engine)
        self.store = store
        self.streams = RecentStreams(store)
        self.today = today

    # -- plumbing -------------------------------------------------------------------------

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[_Write]:
        """One transaction for a command's reads and writes; its events are appended last, just
        before the commit, so the store's append lock is held for the shortest time."""
        write: _Write | None = None
        try:
            async with self.engine.begin() as conn:
                write = _Write(conn)
                yield write
                await self.store.append_many(write.changes, conn=conn)
        except IntegrityError:
            # a read model row or text a concurrent command wrote first: that command changed the
            # stream this one decided on, which is a conflict (409), not a fault
            for change in write.changes if write else ():
                actual = await self.store.stream_version(change.stream_id)
                if actual != change.expected_version:
                    raise ConcurrencyConflict(
                        change.stream_id, change.expected_version or 0, actual
                    ) from None
            raise
        for change in write.changes:
            assert change.expected_version is not None
            self.streams.appended(change.stream_id, change.expected_version, change.events)

    @asynccontextmanager
    async def _reading(self, conn: AsyncConnection | None) -> AsyncIterator[AsyncConnection]:
        """The command's own transaction when there is one, else a one-statement read."""
        if conn is not None:
            yield conn
            return
        async with self.reads.connect() as own:
            yield own

    async def _commit(
        self,
        write: _Write,
        stream_id: str,
        expected_version: int,
        events: Sequence[DomainEvent],
        tenant: Tenant,
        extra: dict[str, Any] | None = None,
    ) -> int:
        """Project the events now and append them when the transaction ends; the new version."""
        if not events:
            return expected_version
        version = expected_version + len(events)
        write.changes.append(StreamAppend(stream_id, expected_version, list(events), tenant))
        await read_model.project(write.conn, tenant, list(events), version, extra or {})
        return version

    async def _replay_pair(
        self, conn: AsyncConnection, pair_id: UUID, version: int | None
    ) -> pair_domain.Pair:
        events = await self.streams.events(conn, pair_domain.stream_id(pair_id), version)
        pair = pair_domain.Pair.replay(events)
        if pair is None:
            raise NotFound(f"Пара {pair_id} не найдена")
        return pair

    async def _replay_programme(
        self, conn: AsyncConnection, programme_id: UUID, version: int | None
    ) -> programme_domain.Programme:
        events = await self.streams.events(conn, programme_domain.stream_id(programme_id), version)
        programme = programme_domain.Programme.replay(events)
        if programme is None:
            raise NotFound(f"Программа {programme_id} не найдена")
        return programme

    async def _replay_roadmap(
        self, conn: AsyncConnection, pair_id: UUID, version: int | None
    ) -> roadmap_domain.Roadmap:
        events = await self.streams.events(conn, roadmap_domain.stream_id(pair_id), version)
        return roadmap_domain.Roadmap.replay(pair_id, events)

    async def _text(
        self, conn: AsyncConnection, owner: UUID, kind: str, body: dict[str, Any], revision: int = 0
    ) -> None:
        if any(body.values()):
            await conn.execute(
                _INSERT_TEXT, {"owner_id": owner, "kind": kind, "revision": revision, "body": body}
            )

    async def _texts(self, owner_ids: Sequence[UUID], kind: str) -> dict[UUID, dict[str, Any]]:
        if not owner_ids:
            return {}
        async with self.reads.connect() as conn:
            rows = await conn.execute(
                select(texts.c.owner_id, texts.c.revision, texts.c.body)
                .where(texts.c.owner_id.in_(owner_ids), texts.c.kind == kind)
                .order_by(texts.c.revision)
            )
            return {r.owner_id: dict(r.body) for r in rows}  # the latest revision wins

    @staticmethod
    def _tenant(row: Any) -> Tenant:
        return Tenant(region=row.region, municipality=row.municipality or None, school=row.school)

    async def _programme_row(
        self,
        principal: Principal,
        programme_id: UUID,
        write: bool = False,
        conn: AsyncConnection | None = None,
        lock: bool = False,
    ) -> Any:
        query = select(programmes).where(programmes.c.id == programme_id)
        if lock:  # serialises the commands that decide on the programme's pairs (PostgreSQL)
            query = query.with_for_update()
        async with self._reading(conn) as reading:
            row = (await reading.execute(query)).one_or_none()
        if row is None or not principal.can_access(self._tenant(row)):
            raise NotFound(f"Программа {programme_id} не найдена")
        if write:
            principal.require_role(*WRITERS)
        elif principal.role in PEOPLE:
            raise AccessDenied("Наставнику и наставляемому доступны только их пары")
        return row

    async def _pair_row(
        self, principal: Principal, pair_id: UUID, conn: AsyncConnection | None = None
    ) -> tuple[Any, Tenant]:
        """The pair if the caller may see it: its school's staff and operators, or one of its members."""
        params = {"pair_id": pair_id}
        async with self._reading(conn) as reading:
            row = (await reading.execute(_PAIR_ROW, params)).one_or_none()
        if row is None:
            raise NotFound(f"Пара {pair_id} не найдена")
        tenant = self._tenant(row)
        allowed = principal.can_access(tenant)
        if principal.role in PEOPLE:
            member = str(principal.participant_id) in (*row.mentor_ids, *row.mentee_ids)
            allowed = allowed and member
        if not allowed:
            raise NotFound(f"Пара {pair_id} не найдена")
        return row, tenant

    def _side(self, principal: Principal, row: Any) -> str | None:
        """mentor / mentee when the caller is that member of the pair."""
        if principal.participant_id is None:
            return None
        pid = str(principal.participant_id)
        if pid in row.mentor_ids:
            return "mentor"
        return "mentee" if pid in row.mentee_ids else None

    # -- programmes -----------------------------------------------------------------------

    async def launch(self, principal: Principal, data: ProgrammeIn) -> tuple[UUID, int]:
        principal.require_role(*WRITERS)
        if principal.school is None:
            raise AccessDenied("Программу запускает организация")
        tenant = Tenant(region=principal.region, municipality=principal.municipality, school=principal.school)
        programme_id = uuid.uuid4()
        ends_on = data.ends_on or data.starts_on + timedelta(days=364)  # one academic year by default
        events = programme_domain.Programme.launch(
            programme_id, data.form, data.duration, data.mode, data.starts_on, ends_on
        )
        extra = {
            "title": data.title,
            "variant": data.variant.value if data.variant else None,
            "curator": data.curator,
            "partner_schools": data.partner_schools,
        }
        async with self._write() as write:
            version = await self._commit(
                write, programme_domain.stream_id(programme_id), 0, events, tenant, extra
            )
        return programme_id, version

    async def programme(self, principal: Principal, programme_id: UUID) -> dict[str, Any]:
        return dict((await self._programme_row(principal, programme_id))._mapping)

    async def programmes(self, principal: Principal, school: str | None = None) -> list[dict[str, Any]]:
        if principal.role in PEOPLE or principal.role is Role.FEDERAL_CONSUMER:
            raise AccessDenied("Список программ доступен организации и операторам")
        query = select(programmes).where(programmes.c.region == principal.region)
        if principal.role is Role.MUNICIPAL_OPERATOR:
            query = query.where(programmes.c.municipality == principal.municipality)
        elif principal.role in WRITERS:
            query = query.where(programmes.c.school == principal.school)
        elif principal.role is not Role.REGIONAL_OPERATOR:  # a service reads only what is made for it
            raise AccessDenied("Список программ доступен организации и операторам")
        if school:
            query = query.where(programmes.c.school == school)
        async with self.reads.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(query.order_by(programmes.c.starts_on))]

    async def _programme_command(
        self,
        principal: Principal,
        programme_id: UUID,
        decide: Callable[[programme_domain.Programme], list[DomainEvent]],
        expected: int | None,
        extra: dict[str, Any] | None = None,
    ) -> int:
        async with self._write() as write:
            row = await self._programme_row(principal, programme_id, write=True, conn=write.conn)
            programme = await self._replay_programme(write.conn, programme_id, row.version)
            _stale(expected, programme.version)
            return await self._commit(
                write,
                programme_domain.stream_id(programme_id),
                programme.version,
                decide(programme),
                self._tenant(row),
                extra,
            )

    async def change_stage(
        self, principal: Principal, programme_id: UUID, data: StageIn, expected: int | None
    ) -> int:
        on = data.on or self.today()
        return await self._programme_command(
            principal, programme_id, lambda p: p.change_stage(data.stage, on), expected
        )

    async def record_document(
        self, principal: Principal, programme_id: UUID, data: DocumentIn, expected: int | None
    ) -> int:
        return await self._programme_command(
            principal,
            programme_id,
            lambda p: p.record_document(data.kind, data.number, data.dated),
            expected,
            {"document_title": data.title},
        )

    async def complete_programme(
        self, principal: Principal, programme_id: UUID, data: ProgrammeCompletionIn, expected: int | None
    ) -> int:
        """Stage 7: every active pair completes, the reflection is kept, the best mentors nominated."""
        on = data.completed_on or self.today()
        async with self._write() as write:
            conn = write.conn
            row = await self._programme_row(principal, programme_id, write=True, conn=conn)
            programme = await self._replay_programme(conn, programme_id, row.version)
            _stale(expected, programme.version)
            tenant = self._tenant(row)
            members = list(
                await conn.execute(
                    select(pairs.c.id, pairs.c.version, pairs.c.status, pairs.c.mentor_ids).where(
                        pairs.c.programme_id == programme_id
                    )
                )
            )
            active = [(p.id, p.version) for p in members if p.status == "active"]
            mentors = {m for p in members for m in p.mentor_ids}
            unknown = [m for m in data.nominated_mentor_ids if str(m) not in mentors]
            if unknown:
                raise DomainError(
                    "Номинировать можно только наставников этой программы: " + ", ".join(map(str, unknown))
                )
            events = programme.complete(on, len(active), list(data.nominated_mentor_ids))
            for pair_id, pair_version in active:
                pair = await self._replay_pair(conn, pair_id, pair_version)
                await self._commit(
                    write, pair_domain.stream_id(pair_id), pair.version, pair.complete(on), tenant
                )
            version = await self._commit(
                write, programme_domain.stream_id(programme_id), programme.version, events, tenant
            )
            await self._text(
                conn, programme_id, "completion", {"reflection": data.reflection, "results": data.results}
            )
        return version

    # -- eligibility and matching ---------------------------------------------------------

    async def _eligible(
        self, conn: AsyncConnection, ids: Sequence[UUID]
    ) -> dict[UUID, pair_domain.Eligibility]:
        mentee_counts = await _mentor_loads(conn, ids)
        rows = await conn.execute(select(eligible).where(eligible.c.id.in_(ids)))
        return {
            r.id: pair_domain.Eligibility(
                id=r.id,
                school=r.school,
                municipality=r.municipality,
                in_mentor_base=r.mentor is not None,
                in_mentee_base=r.mentee is not None,
                mentor_consent=r.mentor_consent,
                mentee_consent=r.mentee_consent,
                max_mentees=int((r.mentor or {}).get("max_mentees", 0)),
                active_mentees=mentee_counts.get(r.id, 0),
                erased=r.erased,
            )
            for r in rows
        }

    async def _profiles(
        self, programme: Any
    ) -> tuple[list[matching.MentorProfile], list[matching.MenteeProfile]]:
        """Mentors of the programme's municipality (network partners) and mentees of its school."""
        async with self.reads.connect() as conn:
            rows = list(
                await conn.execute(
                    select(eligible).where(
                        eligible.c.municipality == programme.municipality,
                        eligible.c.region == programme.region,
                        eligible.c.erased.is_(False),
                    )
                )
            )
            loads = await _mentor_loads(conn)
            paired = set(
                await conn.scalars(
                    select(pair_members.c.participant_id).where(
                        pair_members.c.side == "mentee", pair_members.c.active
                    )
                )
            )
        mentors = [
            matching.MentorProfile(
                id=r.id,
                school=r.school,
                role=ParticipantRole(r.role),
                subjects=frozenset(r.mentor.get("subjects") or ()),
                competencies=frozenset(DeficitArea(a) for a in r.mentor.get("competencies") or ()),
                experience_band=_maybe(ExperienceBand, r.mentor.get("experience_band")),
                qualification=_maybe(QualificationCategory, r.mentor.get("qualification")),
                hours_per_month=int(r.mentor.get("hours_per_month", 0)),
                max_mentees=int(r.mentor.get("max_mentees", 1)),
                current_mentees=min(loads.get(r.id, 0), int(r.mentor.get("max_mentees", 1))),
            )
            for r in rows
            if r.mentor is not None and r.mentor_consent
        ]
        mentees = [
            matching.MenteeProfile(
                id=r.id,
                school=r.school,
                role=ParticipantRole(r.role),
                subjects=frozenset(r.mentee.get("subjects") or ()),
                deficits=frozenset(DeficitArea(a) for a in r.mentee.get("deficits") or ()),
                experience_band=_maybe(ExperienceBand, r.mentee.get("experience_band")),
                young_specialist=bool(r.mentee.get("young_specialist")),
                grade=r.mentee.get("grade"),
            )
            for r in rows
            if r.mentee is not None
            and r.mentee_consent
            and r.school == programme.school
            and r.id not in paired
        ]
        return mentors, mentees

    async def candidates(
        self, principal: Principal, programme_id: UUID, mentee_id: UUID, limit: int = 10
    ) -> list[dict[str, Any]]:
        row = await self._programme_row(principal, programme_id, write=True)
        mentors, mentees = await self._profiles(row)
        mentee = next((m for m in mentees if m.id == mentee_id), None)
        if mentee is None:
            raise NotFound(f"Наставляемый {mentee_id} не найден среди свободных наставляемых организации")
        partners = frozenset(row.partner_schools)
        ranked = matching.rank(mentee, mentors, MentoringForm(row.form), partners=partners, limit=limit)
        return [_candidate_view(c) for c in ranked]

    async def proposal(self, principal: Principal, programme_id: UUID) -> dict[str, Any]:
        """The optimal assignment for the whole programme; the curator confirms pairs one by one."""
        row = await self._programme_row(principal, programme_id, write=True)
        mentors, mentees = await self._profiles(row)
        result = matching.assign(
            mentees, mentors, MentoringForm(row.form), partners=frozenset(row.partner_schools)
        )
        return {
            "pairs": [{"mentee_id": mentee_id, **_candidate_view(c)} for mentee_id, c in result.pairs],
            "unmatched": [
                {"mentee_id": u.mentee_id, "reason": u.reason, "explanation": u.explanation}
                for u in result.unmatched
            ],
            "total_score": result.total_score,
        }

    # -- pairs ----------------------------------------------------------------------------

    async def form_pair(self, principal: Principal, programme_id: UUID, data: PairIn) -> tuple[UUID, int]:
        ids = [*data.mentor_ids, *data.mentee_ids]
        pair_id = uuid.uuid4()
        async with self._write() as write:
            conn = write.conn
            row = await self._programme_row(principal, programme_id, write=True, conn=conn, lock=True)
            programme = await self._replay_programme(conn, programme_id, row.version)
            programme.require_pairing()
            known = await self._eligible(conn, ids)
            missing = [str(i) for i in ids if i not in known]
            if missing:
                raise DomainError(
                    "Пару нельзя закрепить: участники не найдены в базах (или сведения из реестра ещё не "
                    "поступили): " + ", ".join(missing)
                )
            events = pair_domain.Pair.start(
                pair_id,
                programme_id,
                MentoringForm(row.form),
                row.school,
                row.municipality,
                [known[i] for i in data.mentor_ids],
                [known[i] for i in data.mentee_ids],
                data.formed_on or self.today(),
                await _active_links(conn, programme_id, data.mentor_ids, data.mentee_ids),
            )
            version = await self._commit(write, pair_domain.stream_id(pair_id), 0, events, self._tenant(row))
        return pair_id, version

    async def pair(self, principal: Principal, pair_id: UUID) -> dict[str, Any]:
        row, _ = await self._pair_row(principal, pair_id)
        view = dict(row._mapping)
        async with self.reads.connect() as conn:
            view["meetings"] = [
                dict(m._mapping)
                for m in await conn.execute(
                    select(meetings).where(meetings.c.pair_id == pair_id).order_by(meetings.c.held_on)
                )
            ]
            given = {
                (f.meeting_id, f.respondent_role)
                for f in await conn.execute(
                    select(feedback.c.meeting_id, feedback.c.respondent_role).where(
                        feedback.c.pair_id == pair_id
                    )
                )
            }
        for m in view["meetings"]:
            m["feedback_missing"] = [r for r in ("mentor", "mentee") if (m["id"], r) not in given]
        return view

    async def pairs(self, principal: Principal, programme_id: UUID | None = None) -> list[dict[str, Any]]:
        """A programme's pairs for its school and operators; a mentor's or mentee's own pairs."""
        if principal.role in PEOPLE:
            if principal.participant_id is None:
                return []
            query = (
                select(pairs)
                .join(pair_members, pair_members.c.pair_id == pairs.c.id)
                .where(pair_members.c.participant_id == principal.participant_id)
            )
            if programme_id:
                query = query.where(pairs.c.programme_id == programme_id)
        else:
            if programme_id is None:
                raise DomainError("Укажите программу")
            await self._programme_row(principal, programme_id)
            query = select(pairs).where(pairs.c.programme_id == programme_id)
        async with self.reads.connect() as conn:
            return [
                dict(r._mapping) for r in await conn.execute(query.order_by(pairs.c.formed_on, pairs.c.id))
            ]

    async def _pair_command(
        self,
        principal: Principal,
        pair_id: UUID,
        decide: Callable[[pair_domain.Pair], list[DomainEvent]],
        write_side: str | None = None,
        texts_for: Callable[[AsyncConnection], Any] | None = None,
    ) -> int:
        async with self._write() as write:
            row, tenant = await self._pair_row(principal, pair_id, write.conn)
            if principal.role in PEOPLE:
                if write_side is None or self._side(principal, row) != write_side:
                    raise AccessDenied("Это действие выполняет куратор организации")
            elif principal.role not in WRITERS:
                raise AccessDenied("Это действие выполняет организация")
            pair = await self._replay_pair(write.conn, pair_id, row.version)
            version = await self._commit(
                write, pair_domain.stream_id(pair_id), pair.version, decide(pair), tenant
            )
            if texts_for is not None:
                await texts_for(write.conn)
        return version

    async def dissolve(self, principal: Principal, pair_id: UUID, data: DissolveIn) -> int:
        on = data.on or self.today()

        async def note(conn: AsyncConnection) -> None:
            await self._text(conn, pair_id, "dissolution", {"note": data.note})

        return await self._pair_command(
            principal, pair_id, lambda p: p.dissolve(data.reason, on), texts_for=note
        )

    async def reflect(self, principal: Principal, pair_id: UUID, data: ReflectionIn) -> None:
        """The pair's reflection at completion: by its mentor, its mentee or the curator, each their own."""
        row, _ = await self._pair_row(principal, pair_id)
        side = self._side(principal, row) if principal.role in PEOPLE else "curator"
        if side is None or (side == "curator" and principal.role not in WRITERS):
            raise AccessDenied("Рефлексию пишут участники пары и куратор")
        async with self.engine.begin() as conn:
            revision = await conn.scalar(
                select(func.count()).where(texts.c.owner_id == pair_id, texts.c.kind == f"reflection_{side}")
            )
            await self._text(conn, pair_id, f"reflection_{side}", {"text": data.text}, int(revision or 0))

    async def hold_meeting(self, principal: Principal, pair_id: UUID, data: MeetingIn) -> tuple[UUID, int]:
        meeting_id = uuid.uuid4()

        async def note(conn: AsyncConnection) -> None:
            await self._text(conn, meeting_id, "meeting", {"notes": data.notes})

        version = await self._pair_command(
            principal,
            pair_id,
            lambda p: p.hold_meeting(meeting_id, data.kind, data.mode, data.held_on, self.today()),
            write_side="mentor",
            texts_for=note,
        )
        return meeting_id, version

    async def submit_feedback(
        self, principal: Principal, pair_id: UUID, meeting_id: UUID, data: FeedbackIn
    ) -> int:
        async def note(conn: AsyncConnection) -> None:
            await self._text(conn, meeting_id, f"feedback_{data.respondent_role}", {"comment": data.comment})

        return await self._pair_command(
            principal,
            pair_id,
            lambda p: p.submit_feedback(
                meeting_id, data.respondent_role, dict(data.scores), data.wants_to_become_mentor
            ),
            write_side=data.respondent_role,
            texts_for=note,
        )

    # -- roadmap --------------------------------------------------------------------------

    async def roadmap(self, principal: Principal, pair_id: UUID) -> dict[str, Any]:
        row, _ = await self._pair_row(principal, pair_id)
        async with self.reads.connect() as conn:
            items = [
                dict(r._mapping)
                for r in await conn.execute(
                    select(roadmap_items)
                    .where(roadmap_items.c.pair_id == pair_id)
                    .order_by(roadmap_items.c.position)
                )
            ]
        item_texts = await self._texts([i["item_id"] for i in items], "roadmap_item")
        done_texts = await self._texts([i["item_id"] for i in items], "completion")
        for item in items:
            item.update(item_texts.get(item["item_id"], {}))
            item["completion"] = done_texts.get(item["item_id"])
        return {"pair_id": pair_id, "version": row.roadmap_version, "items": items}

    async def _roadmap_writer(
        self, principal: Principal, pair_id: UUID, conn: AsyncConnection, sides: tuple[str, ...] = ("mentor",)
    ) -> tuple[Any, Tenant]:
        """The curator draws up and corrects the roadmap with the mentor; the mentee marks items done."""
        row, tenant = await self._pair_row(principal, pair_id, conn)
        if principal.role in PEOPLE:
            if self._side(principal, row) not in sides:
                raise AccessDenied("Дорожную карту ведут куратор и наставник")
        elif principal.role not in WRITERS:
            raise AccessDenied("Дорожную карту ведёт организация")
        if row.status != "active":
            raise DomainError("Пара не работает: дорожная карта не меняется")
        return row, tenant

    async def set_roadmap(
        self, principal: Principal, pair_id: UUID, data: RoadmapIn, expected: int | None
    ) -> int:
        items = [(item.item_id or uuid.uuid4(), item) for item in data.items]
        planned = [
            PlannedItem(item_id=item_id, direction=item.direction, due_on=item.due_on, rhythm=item.rhythm)
            for item_id, item in items
        ]
        async with self._write() as write:
            conn = write.conn
            row, tenant = await self._roadmap_writer(principal, pair_id, conn)
            roadmap = await self._replay_roadmap(conn, pair_id, row.roadmap_version)
            # an edit based on an older version loses; without If-Match the version read here is expected
            _stale(expected, roadmap.version)
            events = roadmap.set_items(planned, data.reason)
            version = await self._commit(
                write, roadmap_domain.stream_id(pair_id), roadmap.version, events, tenant
            )
            revision = roadmap.revision + 1
            for item_id, item in items:
                await self._text(conn, item_id, "roadmap_item", _item_texts(item), revision)
            if data.reason:
                await self._text(conn, pair_id, "roadmap_correction", {"reason": data.reason}, revision)
        return version

    async def roadmap_from_template(
        self, principal: Principal, pair_id: UUID, key: str, expected: int | None
    ) -> int:
        row, _ = await self._pair_row(principal, pair_id)
        try:
            chosen = template(key)
        except LookupError as error:
            raise NotFound(str(error)) from None
        items = [
            RoadmapItemIn(
                activity=t.activity,
                kind=t.kind,
                direction=t.direction,
                risks=t.risks,
                prevention=t.prevention,
                expected_results=t.expected_results,
                criteria=t.criteria,
                due_on=row.formed_on + timedelta(days=t.due_offset_days)
                if t.due_offset_days is not None
                else None,
                rhythm=t.rhythm,
            )
            for t in chosen.items
        ]
        return await self.set_roadmap(principal, pair_id, RoadmapIn(items=items, reason=None), expected)

    async def complete_item(
        self, principal: Principal, pair_id: UUID, item_id: UUID, data: CompletionIn
    ) -> int:
        async with self._write() as write:
            conn = write.conn
            row, tenant = await self._roadmap_writer(principal, pair_id, conn, sides=("mentor", "mentee"))
            roadmap = await self._replay_roadmap(conn, pair_id, row.roadmap_version)
            today = self.today()
            events = roadmap.complete_item(item_id, data.completed_on or today, data.product_kind, today)
            version = await self._commit(
                write, roadmap_domain.stream_id(pair_id), roadmap.version, events, tenant
            )
            if events:
                await self._text(
                    conn, item_id, "completion", {"product": data.product, "attitude": data.attitude}
                )
        return version

    async def report_data(self, principal: Principal, programme_id: UUID) -> dict[str, Any]:
        """What the yearly report shows: the programme, its pairs, roadmaps, meetings, feedback."""
        row = await self._programme_row(principal, programme_id)
        async with self.reads.connect() as conn:
            pair_rows = [
                dict(r._mapping)
                for r in await conn.execute(
                    select(pairs).where(pairs.c.programme_id == programme_id).order_by(pairs.c.formed_on)
                )
            ]
            ids = [p["id"] for p in pair_rows]
            items = [
                dict(r._mapping)
                for r in await conn.execute(select(roadmap_items).where(roadmap_items.c.pair_id.in_(ids)))
            ]
            held = [
                dict(r._mapping)
                for r in await conn.execute(select(meetings).where(meetings.c.pair_id.in_(ids)))
            ]
            forms = [
                dict(r._mapping)
                for r in await conn.execute(select(feedback).where(feedback.c.pair_id.in_(ids)))
            ]
        completion = (await self._texts([programme_id], "completion")).get(programme_id)
        for side in ("mentor", "mentee", "curator"):
            reflections = await self._texts(ids, f"reflection_{side}")
            for pair_row in pair_rows:
                pair_row[f"reflection_{side}"] = reflections.get(pair_row["id"], {}).get("text", "")
        return {
            "programme": dict(row._mapping),
            "pairs": pair_rows,
            "items": items,
            "meetings": held,
            "feedback": forms,
            "completion": completion,
            "today": self.today(),
        }

    async def check_overdue(self, today: date | None = None) -> int:
        """The scheduled check: each item past due raises ``RoadmapItemOverdue`` once."""
        today = today or self.today()
        async with self.reads.connect() as conn:
            candidates = list(
                await conn.execute(
                    select(
                        roadmap_items.c.pair_id,
                        pairs.c.roadmap_version,
                        programmes.c.region,
                        programmes.c.municipality,
                        pairs.c.school,
                    )
                    .join(pairs, pairs.c.id == roadmap_items.c.pair_id)
                    .join(programmes, programmes.c.id == pairs.c.programme_id)
                    .where(
                        roadmap_items.c.due_on < today,
                        roadmap_items.c.completed_on.is_(None),
                        pairs.c.status == "active",
                        or_(
                            roadmap_items.c.overdue_for.is_(None),
                            roadmap_items.c.overdue_for != roadmap_items.c.due_on,
                        ),
                    )
                    .distinct()
                )
            )
        raised = 0
        for candidate in candidates:
            try:
                async with self._write() as write:
                    roadmap = await self._replay_roadmap(
                        write.conn, candidate.pair_id, candidate.roadmap_version
                    )
                    events = roadmap.overdue(today)
                    await self._commit(
                        write,
                        roadmap_domain.stream_id(candidate.pair_id),
                        roadmap.version,
                        events,
                        self._tenant(candidate),
                    )
                raised += len(events)
            except ConcurrencyConflict:
                continue  # someone changed the roadmap meanwhile; the next check sees it anew
        return raised


_INSERT_TEXT = insert(texts)
_PAIR_ROW = (
    select(pairs, programmes.c.region, programmes.c.municipality)
    .join(programmes, programmes.c.id == pairs.c.programme_id)
    .where(pairs.c.id == bindparam("pair_id"))
)


async def _active_links(
    conn: AsyncConnection, programme_id: UUID, mentor_ids: Sequence[UUID], mentee_ids: Sequence[UUID]
) -> set[tuple[UUID, UUID]]:
    """The (mentor, mentee) links among these people already in an active pair of the programme."""
    rows = await conn.execute(
        select(pair_members.c.pair_id, pair_members.c.participant_id, pair_members.c.side)
        .join(pairs, pairs.c.id == pair_members.c.pair_id)
        .where(
            pairs.c.programme_id == programme_id,
            pairs.c.status == pair_domain.PairStatus.ACTIVE.value,
            pair_members.c.participant_id.in_([*mentor_ids, *mentee_ids]),
        )
    )
    sides: dict[UUID, dict[str, list[UUID]]] = {}
    for row in rows:
        sides.setdefault(row.pair_id, {"mentor": [], "mentee": []})[row.side].append(row.participant_id)
    return {(r, e) for pair in sides.values() for r in pair["mentor"] for e in pair["mentee"]}


async def _mentor_loads(conn: AsyncConnection, mentor_ids: Sequence[UUID] | None = None) -> dict[UUID, int]:
    """A mentor's load: the mentees of their active pairs (of the given mentors, or of all)."""
    query = (
        select(pair_members.c.participant_id, pairs.c.mentee_ids)
        .join(pairs, pairs.c.id == pair_members.c.pair_id)
        .where(pair_members.c.side == "mentor", pair_members.c.active)
    )
    if mentor_ids is not None:
        query = query.where(pair_members.c.participant_id.in_(mentor_ids))
    loads: dict[UUID, int] = {}
    for r in await conn.execute(query):
        loads[r.participant_id] = loads.get(r.participant_id, 0) + len(r.mentee_ids)
    return loads


def _maybe(enum: type[E], value: str | None) -> E | None:
    return None if value is None else enum(value)


def _candidate_view(c: matching.Candidate) -> dict[str, Any]:
    return {
        "mentor_id": c.mentor_id,
        "score": round(c.score, 3),
        "remaining_capacity": c.remaining_capacity,
        "explanation": [{"key": t.key, "points": round(t.points, 3), "text": t.explanation} for t in c.terms],
    }


def _item_texts(item: RoadmapItemIn) -> dict[str, Any]:
    return {
        "activity": item.activity,
        "kind": item.kind,
        "risks": item.risks,
        "prevention": item.prevention,
        "expected_results": item.expected_results,
        "criteria": item.criteria,
    }
