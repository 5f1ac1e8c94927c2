"""The programme aggregate: its seven stages with dated transitions, local acts, completion."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from mentornet_events import DomainEvent
from mentornet_events.catalogue.programs import (
    ProgrammeCompleted,
    ProgrammeDocumentRecorded,
    ProgrammeLaunched,
    ProgrammeStageChanged,
)
from mentornet_events.labels_ru import label
from mentornet_events.vocabulary import (
    DocumentKind,
    MeetingMode,
    MentoringForm,
    ProgrammeDuration,
    ProgrammeStage,
)
from mentornet_spine.errors import DomainError, InvalidCommand

STAGES = list(ProgrammeStage)


def stream_id(programme_id: UUID) -> str:
    return f"programme-{programme_id}"


@dataclass
class Programme:
    id: UUID
    form: MentoringForm
    starts_on: date
    ends_on: date
    stage: ProgrammeStage = ProgrammeStage.PREPARATION
    completed: bool = False
    documents: list[tuple[DocumentKind, str]] = field(default_factory=list)
    version: int = 0

    @staticmethod
    def launch(
        programme_id: UUID,
        form: MentoringForm,
        duration: ProgrammeDuration,
        mode: MeetingMode,
        starts_on: date,
        ends_on: date,
    ) -> list[DomainEvent]:
        if ends_on <= starts_on:
            raise InvalidCommand("Дата окончания программы должна быть позже даты начала", "ends_on")
        return [
            ProgrammeLaunched(
                programme_id=programme_id,
                form=form,
                duration=duration,
                mode=mode,
                starts_on=starts_on,
                ends_on=ends_on,
            )
        ]

    @classmethod
    def replay(cls, events: Iterable[DomainEvent]) -> Programme | None:
        programme: Programme | None = None
        for event in events:
            if isinstance(event, ProgrammeLaunched):
                programme = cls(
                    id=event.programme_id, form=event.form, starts_on=event.starts_on, ends_on=event.ends_on
                )
            elif programme is None:
                continue
            elif isinstance(event, ProgrammeStageChanged):
                programme.stage = event.stage
            elif isinstance(event, ProgrammeDocumentRecorded):
                programme.documents.append((event.kind, event.number))
            elif isinstance(event, ProgrammeCompleted):
                programme.completed = True
                programme.stage = ProgrammeStage.COMPLETION
            if programme is not None:
                programme.version += 1
        return programme

    def _require_running(self) -> None:
        if self.completed:
            raise DomainError("Программа уже завершена: изменения не принимаются")

    def change_stage(self, stage: ProgrammeStage, on: date) -> list[DomainEvent]:
        """Stages go forward (a stage may be skipped when the school already has what it builds),
        each on a day of the programme."""
        self._require_running()
        if not self.starts_on <= on <= self.ends_on:
            raise InvalidCommand(
                f"Дата этапа {on:%d.%m.%Y} вне сроков программы "
                f"({self.starts_on:%d.%m.%Y} — {self.ends_on:%d.%m.%Y})",
                "on",
            )
        if STAGES.index(stage) <= STAGES.index(self.stage):
            raise DomainError(
                f"Этап «{label(stage)}» не следует за текущим этапом «{label(self.stage)}»: "
                "этапы программы проходят по порядку"
            )
        return [ProgrammeStageChanged(programme_id=self.id, stage=stage, changed_on=on)]

    def record_document(self, kind: DocumentKind, number: str, dated: date) -> list[DomainEvent]:
        self._require_running()
        if (kind, number) in self.documents:
            raise DomainError(f"Документ № {number} ({label(kind)}) уже внесён")
        return [ProgrammeDocumentRecorded(programme_id=self.id, kind=kind, number=number, dated=dated)]

    def require_pairing(self) -> None:
        """Pairs are formed from stage 5 on, and never after completion."""
        self._require_running()
        if STAGES.index(self.stage) < STAGES.index(ProgrammeStage.PAIRING):
            raise DomainError(
                f"Пары формируются на этапе «{label(ProgrammeStage.PAIRING)}»; "
                f"программа сейчас на этапе «{label(self.stage)}»"
            )

    def complete(self, on: date, pairs_completed: int, nominated_mentor_ids: list[UUID]) -> list[DomainEvent]:
        self._require_running()
        if STAGES.index(self.stage) < STAGES.index(ProgrammeStage.WORK):
            raise DomainError(
                f"Завершить можно программу, в которой шла работа пар; сейчас этап «{label(self.stage)}»"
            )
        return [
            ProgrammeCompleted(
                programme_id=self.id,
                completed_on=on,
                pairs_completed=pairs_completed,
                nominated_mentor_ids=nominated_mentor_ids,
            )
        ]
