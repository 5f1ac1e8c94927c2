"""The roadmap aggregate without I/O: revisions with reasons, completion once and in the past."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from mentornet_events.catalogue.programs import PlannedItem, RoadmapItemCompleted, RoadmapItemOverdue
from mentornet_events.vocabulary import DeficitArea
from mentornet_spine.errors import DomainError, InvalidCommand
from programs.domain.roadmap import Roadmap

TODAY = date(2026, 12, 5)
PAIR = uuid.uuid4()


def item(due_on: date | None = None) -> PlannedItem:
    return PlannedItem(item_id=uuid.uuid4(), direction=DeficitArea.ICT, due_on=due_on)


def test_a_roadmap_needs_items_once_each_and_a_correction_needs_its_reason() -> None:
    empty = Roadmap.replay(PAIR, [])
    with pytest.raises(InvalidCommand, match="хотя бы один пункт"):
        empty.set_items([], None)
    one = item()
    with pytest.raises(InvalidCommand, match="повторяются"):
        empty.set_items([one, one], None)
    first = empty.set_items([one], None)
    drawn = Roadmap.replay(PAIR, first)
    assert drawn.revision == 1 and list(drawn.items) == [one.item_id]
    with pytest.raises(InvalidCommand, match="причину корректировки"):
        drawn.set_items([one, item()], "  ")
    [second] = drawn.set_items([one, item()], "новая тема")
    assert Roadmap.replay(PAIR, [*first, second]).revision == 2


def test_completing_is_dated_in_the_past_counts_once_and_stays_in_the_roadmap() -> None:
    one = item()
    events = Roadmap.replay(PAIR, []).set_items([one], None)
    roadmap = Roadmap.replay(PAIR, events)
    with pytest.raises(InvalidCommand, match="в будущем"):
        roadmap.complete_item(one.item_id, TODAY + timedelta(days=2), "report", TODAY)
    with pytest.raises(DomainError, match="нет пункта"):
        roadmap.complete_item(uuid.uuid4(), TODAY, "report", TODAY)
    [done] = roadmap.complete_item(one.item_id, TODAY, "report", TODAY)
    assert isinstance(done, RoadmapItemCompleted)
    completed = Roadmap.replay(PAIR, [*events, done])
    assert completed.complete_item(one.item_id, TODAY, "report", TODAY) == []  # a retried request
    with pytest.raises(DomainError, match="нельзя убрать"):
        completed.set_items([item()], "иначе")


def test_an_item_past_its_due_date_is_flagged_once_per_due_date() -> None:
    late, later, open_ended = item(TODAY - timedelta(days=3)), item(TODAY + timedelta(days=3)), item()
    events = Roadmap.replay(PAIR, []).set_items([late, later, open_ended], None)
    [flag] = Roadmap.replay(PAIR, events).overdue(TODAY)
    assert isinstance(flag, RoadmapItemOverdue) and flag.item_id == late.item_id
    assert Roadmap.replay(PAIR, [*events, flag]).overdue(TODAY) == []
