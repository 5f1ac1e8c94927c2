"""A scripted academic year (2026/2027) of three schools in two municipalities, as upstream events.

The expected figures in the tests are computed by hand from this script; see the comments.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from mentornet_events import CATALOGUE, DomainEvent, Envelope, Tenant, new_event_id
from mentornet_events.catalogue.programs import (
    FeedbackSubmitted,
    MeetingHeld,
    PairCompleted,
    PairDissolved,
    PairFormed,
    PlannedItem,
    RoadmapItemCompleted,
    RoadmapItemOverdue,
    RoadmapSet,
)
from mentornet_events.catalogue.registry import MenteeRegistered, MentorRegistered, SchoolConnected
from mentornet_events.vocabulary import (
    DeficitArea,
    DissolutionReason,
    MeetingKind,
    MeetingMode,
    MentoringForm,
    ParticipantRole,
    SchoolKind,
)

REGION = "38"
PLACES = {"s1": "m1", "s2": "m1", "s3": "m2"}
A = DeficitArea


@dataclass
class Script:
    envelopes: list[tuple[str, Envelope]] = field(default_factory=list)  # (source service, envelope)
    versions: dict[str, int] = field(default_factory=dict)
    ids: dict[str, uuid.UUID] = field(default_factory=dict)

    def id(self, name: str) -> uuid.UUID:
        return self.ids.setdefault(name, uuid.uuid4())

    def emit(self, stream: str, school: str, on: date, event: DomainEvent) -> None:
        version = self.versions[stream] = self.versions.get(stream, 0) + 1
        spec = CATALOGUE.spec_of(event)
        envelope = Envelope(
            event_id=new_event_id(),
            type=spec.name,
            schema_version=spec.version,
            occurred_at=datetime.combine(on, time(10), UTC),
            stream_id=stream,
            stream_version=version,
            tenant=Tenant(region=REGION, municipality=PLACES.get(school, "m1"), school=school),
            correlation_id=uuid.uuid4(),
            payload=event.model_dump(mode="json"),
        )
        self.envelopes.append((spec.service, envelope))

    def school(self, code: str, teachers: int, students: int) -> None:
        self.emit(
            f"school-{code}",
            code,
            date(2026, 8, 25),
            SchoolConnected(
                code=code,
                name=f"МБОУ «Школа {code}»",
                kind=SchoolKind.SCHOOL,
                teachers=teachers,
                students=students,
            ),
        )

    def mentor(
        self, name: str, school: str, on: date, competencies: list[DeficitArea], max_mentees: int
    ) -> None:
        self.emit(
            f"participant-{self.id(name)}",
            school,
            on,
            MentorRegistered(
                participant_id=self.id(name),
                role=ParticipantRole.TEACHER,
                competencies=competencies,
                hours_per_month=8,
                max_mentees=max_mentees,
            ),
        )

    def mentee(
        self,
        name: str,
        school: str,
        on: date,
        deficits: list[DeficitArea],
        role: ParticipantRole = ParticipantRole.TEACHER,
        young: bool = False,
    ) -> None:
        self.emit(
            f"participant-{self.id(name)}",
            school,
            on,
            MenteeRegistered(
                participant_id=self.id(name), role=role, deficits=deficits, young_specialist=young
            ),
        )

    def pair(self, name: str, school: str, on: date, mentor: str, mentee: str, form: MentoringForm) -> None:
        self.emit(
            f"pair-{self.id(name)}",
            school,
            on,
            PairFormed(
                pair_id=self.id(name),
                programme_id=self.id(f"programme-{school}"),
                form=form,
                mentor_ids=[self.id(mentor)],
                mentee_ids=[self.id(mentee)],
                formed_on=on,
            ),
        )

    def roadmap(self, pair: str, school: str, on: date, revision: int, items: dict[str, date | None]) -> None:
        self.emit(
            f"roadmap-{self.id(pair)}",
            school,
            on,
            RoadmapSet(
                pair_id=self.id(pair),
                revision=revision,
                items=[
                    PlannedItem(item_id=self.id(n), direction=A.METHODOLOGICAL, due_on=due)
                    for n, due in items.items()
                ],
            ),
        )

    def meeting(self, name: str, pair: str, school: str, on: date) -> None:
        self.emit(
            f"pair-{self.id(pair)}",
            school,
            on,
            MeetingHeld(
                pair_id=self.id(pair),
                meeting_id=self.id(name),
                kind=MeetingKind.ACQUAINTANCE,
                mode=MeetingMode.IN_PERSON,
                held_on=on,
            ),
        )

    def feedback(
        self,
        meeting: str,
        pair: str,
        school: str,
        on: date,
        role: str,
        scores: tuple[int, int, int, int],
        wants: bool = False,
    ) -> None:
        levels = ("reaction", "knowledge", "behaviour", "results")
        self.emit(
            f"pair-{self.id(pair)}",
            school,
            on,
            FeedbackSubmitted(
                pair_id=self.id(pair),
                meeting_id=self.id(meeting),
                respondent_role=role,
                scores=dict(zip(levels, scores, strict=True)),  # type: ignore[arg-type]
                wants_to_become_mentor=wants,
            ),
        )


def academic_year() -> Script:
    s = Script()
    s.school("s1", teachers=10, students=100)
    s.school("s2", teachers=5, students=50)
    s.school("s3", teachers=8, students=0)
    d = date
    s.mentor("T1", "s1", d(2026, 9, 2), [A.METHODOLOGICAL, A.ICT], max_mentees=2)
    s.mentee("T2", "s1", d(2025, 8, 20), [A.METHODOLOGICAL, A.LEGAL_NORMATIVE], young=True)
    s.mentee("T3", "s1", d(2026, 9, 3), [A.ICT])
    s.mentee("S1", "s1", d(2026, 9, 4), [A.PSYCHOLOGICAL_PEDAGOGICAL], role=ParticipantRole.STUDENT)
    s.mentor("T4", "s1", d(2026, 9, 4), [A.PSYCHOLOGICAL_PEDAGOGICAL], max_mentees=1)
    s.mentor("T5", "s2", d(2026, 9, 5), [A.SUBJECT_PROFESSIONAL], max_mentees=1)
    s.mentee("T6", "s2", d(2026, 9, 5), [A.SUBJECT_PROFESSIONAL])
    s.mentee("T8", "s2", d(2026, 9, 6), [A.ICT])
    s.mentee("T7", "s3", d(2026, 9, 6), [A.ICT])
    tt, ts = MentoringForm.TEACHER_TEACHER, MentoringForm.TEACHER_STUDENT
    s.pair("P1", "s1", d(2026, 9, 10), "T1", "T2", tt)
    s.pair("P2", "s1", d(2026, 9, 12), "T1", "T3", tt)
    s.pair("P3", "s1", d(2026, 9, 15), "T4", "S1", ts)
    s.pair("P4", "s2", d(2026, 10, 1), "T5", "T6", tt)
    s.pair("P5", "s2", d(2026, 10, 5), "T5", "T8", tt)
    s.emit(
        f"pair-{s.id('P4')}",
        "s2",
        d(2026, 11, 20),
        PairDissolved(
            pair_id=s.id("P4"),
            programme_id=s.id("programme-s2"),
            reason=DissolutionReason.INCOMPATIBLE,
            dissolved_on=d(2026, 11, 20),
        ),
    )
    s.emit(
        f"pair-{s.id('P3')}",
        "s1",
        d(2027, 5, 30),
        PairCompleted(pair_id=s.id("P3"), programme_id=s.id("programme-s1"), completed_on=d(2027, 5, 30)),
    )
    s.roadmap("P1", "s1", d(2026, 9, 11), 1, {"A": d(2026, 10, 1), "B": d(2026, 12, 1), "C": None})
    s.emit(
        f"roadmap-{s.id('P1')}",
        "s1",
        d(2026, 9, 28),
        RoadmapItemCompleted(
            pair_id=s.id("P1"),
            item_id=s.id("A"),
            direction=A.METHODOLOGICAL,
            completed_on=d(2026, 9, 28),
            product_kind="конспект",
        ),
    )
    s.emit(
        f"roadmap-{s.id('P1')}",
        "s1",
        d(2026, 12, 2),
        RoadmapItemOverdue(
            pair_id=s.id("P1"),
            item_id=s.id("B"),
            direction=A.METHODOLOGICAL,
            due_on=d(2026, 12, 1),
            detected_on=d(2026, 12, 2),
        ),
    )
    s.roadmap("P1", "s1", d(2027, 1, 10), 2, {"A": d(2026, 10, 1), "B": d(2026, 12, 1), "D": d(2027, 2, 1)})
    s.roadmap("P2", "s1", d(2026, 9, 13), 1, {"E": d(2026, 11, 1)})
    s.emit(
        f"roadmap-{s.id('P2')}",
        "s1",
        d(2026, 11, 2),
        RoadmapItemOverdue(
            pair_id=s.id("P2"),
            item_id=s.id("E"),
            direction=A.METHODOLOGICAL,
            due_on=d(2026, 11, 1),
            detected_on=d(2026, 11, 2),
        ),
    )
    s.emit(
        f"roadmap-{s.id('P2')}",
        "s1",
        d(2026, 11, 5),
        RoadmapItemCompleted(
            pair_id=s.id("P2"),
            item_id=s.id("E"),
            direction=A.METHODOLOGICAL,
            completed_on=d(2026, 11, 5),
            product_kind="методика",
        ),
    )
    s.meeting("M1", "P1", "s1", d(2026, 9, 12))
    s.feedback("M1", "P1", "s1", d(2026, 9, 12), "mentor", (5, 4, 4, 3))
    s.feedback("M1", "P1", "s1", d(2026, 9, 12), "mentee", (5, 5, 4, 4))
    s.meeting("M2", "P2", "s1", d(2026, 9, 20))
    s.feedback("M2", "P2", "s1", d(2026, 9, 20), "mentee", (4, 4, 3, 3), wants=True)
    s.meeting("M3", "P3", "s1", d(2026, 9, 16))
    return s


def payload_ids(script: Script) -> set[str]:
    return {str(v) for v in script.ids.values()}
