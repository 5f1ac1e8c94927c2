"""The school aggregate: application, connection, suspension, disconnection, credentials."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from mentornet_events import DomainEvent
from mentornet_events.catalogue.registry import (
    SchoolApplied,
    SchoolConnected,
    SchoolCredentialsIssued,
    SchoolCredentialsRevoked,
    SchoolDisconnected,
    SchoolHeadcountsUpdated,
    SchoolResumed,
    SchoolSuspended,
)
from mentornet_events.vocabulary import SchoolKind
from mentornet_spine.errors import DomainError


class SchoolStatus(StrEnum):
    APPLIED = "applied"
    CONNECTED = "connected"
    SUSPENDED = "suspended"
    DISCONNECTED = "disconnected"


STATUS_RU = {
    SchoolStatus.APPLIED: "заявка подана",
    SchoolStatus.CONNECTED: "подключена",
    SchoolStatus.SUSPENDED: "приостановлена",
    SchoolStatus.DISCONNECTED: "отключена",
}


def stream_id(code: str) -> str:
    return f"school-{code}"


@dataclass
class School:
    code: str
    name: str
    kind: SchoolKind
    status: SchoolStatus
    teachers: int
    students: int
    credentials: set[str] = field(default_factory=set)
    version: int = 0

    @classmethod
    def replay(cls, events: Iterable[DomainEvent]) -> School | None:
        school: School | None = None
        for event in events:
            school = evolve(school, event)
        return school

    def _require(self, *allowed: SchoolStatus) -> None:
        if self.status not in allowed:
            raise DomainError(f"Действие невозможно: организация {self.code} {STATUS_RU[self.status]}")

    def approve(self) -> list[DomainEvent]:
        self._require(SchoolStatus.APPLIED)
        return [
            SchoolConnected(
                code=self.code, name=self.name, kind=self.kind, teachers=self.teachers, students=self.students
            )
        ]

    def suspend(self, reason: str) -> list[DomainEvent]:
        self._require(SchoolStatus.CONNECTED)
        return [SchoolSuspended(code=self.code, reason=reason)]

    def resume(self) -> list[DomainEvent]:
        self._require(SchoolStatus.SUSPENDED)
        return [SchoolResumed(code=self.code)]

    def disconnect(self, reason: str) -> list[DomainEvent]:
        self._require(SchoolStatus.CONNECTED, SchoolStatus.SUSPENDED)
        revoked: list[DomainEvent] = [
            SchoolCredentialsRevoked(code=self.code, client_id=c) for c in sorted(self.credentials)
        ]
        return [*revoked, SchoolDisconnected(code=self.code, reason=reason)]

    def update_headcounts(self, teachers: int, students: int) -> list[DomainEvent]:
        self._require(SchoolStatus.APPLIED, SchoolStatus.CONNECTED, SchoolStatus.SUSPENDED)
        if (teachers, students) == (self.teachers, self.students):
            return []
        return [SchoolHeadcountsUpdated(code=self.code, teachers=teachers, students=students)]

    def issue_credentials(self, client_id: str) -> list[DomainEvent]:
        self._require(SchoolStatus.CONNECTED)
        return [SchoolCredentialsIssued(code=self.code, client_id=client_id)]

    def revoke_credentials(self, client_id: str) -> list[DomainEvent]:
        if client_id not in self.credentials:
            raise DomainError(f"У организации {self.code} нет действующих учётных данных {client_id}")
        return [SchoolCredentialsRevoked(code=self.code, client_id=client_id)]


def apply_to_new(
    code: str, name: str, kind: SchoolKind, teachers: int, students: int, *, approved: bool
) -> list[DomainEvent]:
    """A school enters the registry: connected at once by the operator, or as an application."""
    event_type = SchoolConnected if approved else SchoolApplied
    return [event_type(code=code, name=name, kind=kind, teachers=teachers, students=students)]


def evolve(school: School | None, event: DomainEvent) -> School:
    if isinstance(event, SchoolApplied | SchoolConnected):
        status = SchoolStatus.CONNECTED if isinstance(event, SchoolConnected) else SchoolStatus.APPLIED
        if school is None:
            return School(
                event.code, event.name, event.kind, status, event.teachers, event.students, version=1
            )
        school.status = status
    elif school is None:
        raise ValueError(f"{type(event).__name__} before the school exists")
    elif isinstance(event, SchoolSuspended):
        school.status = SchoolStatus.SUSPENDED
    elif isinstance(event, SchoolResumed):
        school.status = SchoolStatus.CONNECTED
    elif isinstance(event, SchoolDisconnected):
        school.status = SchoolStatus.DISCONNECTED
    elif isinstance(event, SchoolHeadcountsUpdated):
        school.teachers, school.students = event.teachers, event.students
    elif isinstance(event, SchoolCredentialsIssued):
        school.credentials.add(event.client_id)
    elif isinstance(event, SchoolCredentialsRevoked):
        school.credentials.discard(event.client_id)
    school.version += 1
    return school
