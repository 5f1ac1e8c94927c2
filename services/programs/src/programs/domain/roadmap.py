"""The pair's roadmap (individual educational route): revisions with reasons, completion, overdue.

``RoadmapItemOverdue`` is raised once per item and due date: the roadmap's own events record which
items were flagged, and a concurrent check loses on the stream version instead of flagging twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from mentornet_events import DomainEvent
from mentornet_events.catalogue.programs import (
    PlannedItem,
    RoadmapItemCompleted,
    RoadmapItemOverdue,
    RoadmapSet,
)
from mentornet_spine.errors import DomainError, InvalidCommand
from programs.domain.dates import not_after_today


def stream_id(pair_id: UUID) -> str:
    return f"roadmap-{pair_id}"


@dataclass
class Roadmap:
    pair_id: UUID
    revision: int = 0
    items: dict[UUID, PlannedItem] = field(default_factory=dict)
    completed: set[UUID] = field(default_factory=set)
    flagged: set[tuple[UUID, date]] = field(default_factory=set)
    version: int = 0

    @classmethod
    def replay(cls, pair_id: UUID, events: Iterable[DomainEvent]) -> Roadmap:
        roadmap = cls(pair_id=pair_id)
        for event in events:
            if isinstance(event, RoadmapSet):
                roadmap.revision = event.revision
                roadmap.items = {item.item_id: item for item in event.items}
            elif isinstance(event, RoadmapItemCompleted):
                roadmap.completed.add(event.item_id)
            elif isinstance(event, RoadmapItemOverdue):
                roadmap.flagged.add((event.item_id, event.due_on))
            roadmap.version += 1
        return roadmap

    def set_items(self, items: Sequence[PlannedItem], reason: str | None) -> list[DomainEvent]:
        """Draw up the roadmap, or correct it while it runs (a correction states its reason)."""
        if not items:
            raise InvalidCommand("В дорожной карте нужен хотя бы один пункт", "items")
        if len({item.item_id for item in items}) != len(items):
            raise InvalidCommand("Пункты дорожной карты повторяются", "items")
        if self.revision and not (reason and reason.strip()):
            raise InvalidCommand("Укажите причину корректировки дорожной карты", "reason")
        dropped = self.completed - {item.item_id for item in items}
        if dropped:
            raise DomainError("Выполненные пункты нельзя убрать из дорожной карты")
        return [RoadmapSet(pair_id=self.pair_id, revision=self.revision + 1, items=list(items))]

    def complete_item(self, item_id: UUID, on: date, product_kind: str, today: date) -> list[DomainEvent]:
        """Completing a completed item changes nothing (a retried request must not count twice);
        an item is completed on a day already come."""
        not_after_today(on, today, "Дата выполнения пункта", "completed_on")
        item = self.items.get(item_id)
        if item is None:
            raise DomainError(f"В дорожной карте нет пункта {item_id}")
        if item_id in self.completed:
            return []
        return [
            RoadmapItemCompleted(
                pair_id=self.pair_id,
                item_id=item_id,
                direction=item.direction,
                completed_on=on,
                due_on=item.due_on,
                product_kind=product_kind,
            )
        ]

    def overdue(self, today: date) -> list[DomainEvent]:
        return [
            RoadmapItemOverdue(
                pair_id=self.pair_id,
                item_id=item.item_id,
                direction=item.direction,
                due_on=item.due_on,
                detected_on=today,
            )
            for item in self.items.values()
            if item.due_on is not None
            and item.due_on < today
            and item.item_id not in self.completed
            and (item.item_id, item.due_on) not in self.flagged
        ]
