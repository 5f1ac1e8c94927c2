"""The monitoring service's answer keeping: fresh when quick, the previous answer while a slow one runs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from monitoring.application.answers import Answer, Answers, Positions, covers


class Figures:
    """A computation whose positions the test moves and whose speed it controls."""

    def __init__(self) -> None:
        self.positions: Positions = {"registry": 1}
        self.runs = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, key: str) -> tuple[Positions, dict[str, Any]]:
        self.runs += 1
        seen = dict(self.positions)  # read first, as the service reads its positions first
        await self.gate.wait()
        return seen, {"key": key, "as_of": seen}


def taking(
    seconds: float, figures: Figures, now: list[float]
) -> Callable[[str], Awaitable[tuple[Positions, dict[str, Any]]]]:
    """``figures`` on a fake clock, each computation taking ``seconds`` of it."""

    async def compute(key: str) -> tuple[Positions, dict[str, Any]]:
        now[0] += seconds
        return await figures(key)

    return compute


def test_covers_compares_every_stream() -> None:
    assert covers({"a": 2, "b": 1}, {"a": 1})
    assert not covers({"a": 2}, {"a": 1, "b": 1})


async def test_an_answer_is_computed_once_per_positions() -> None:
    figures = Figures()
    answers: Answers[str] = Answers(figures, budget_s=0.05, max_age_s=60)
    first = await asyncio.gather(*(answers.get("region", figures.positions) for _ in range(5)))
    assert figures.runs == 1 and all(a.body["as_of"] == {"registry": 1} for a in first)
    again = await answers.get("region", {"registry": 1})
    assert again is first[0] and figures.runs == 1
    assert again.json() is again.json() and again.json() == b'{"key":"region","as_of":{"registry":1}}'


async def test_a_slow_computation_serves_the_previous_answer_and_a_fresh_reader_waits() -> None:
    figures = Figures()
    answers: Answers[str] = Answers(figures, budget_s=0.05, max_age_s=60)
    await answers.get("region", figures.positions)
    figures.positions = {"registry": 2}
    figures.gate.clear()  # the next computation is slow
    quick = await asyncio.wait_for(answers.get("region", figures.positions), 1)
    assert quick.body["as_of"] == {"registry": 1}  # the previous one, saying how old it is
    fresh = asyncio.create_task(answers.get("region", figures.positions, fresh=True))
    await asyncio.sleep(0.1)
    assert not fresh.done()
    figures.gate.set()
    assert (await fresh).body["as_of"] == {"registry": 2} and figures.runs == 2  # joined the one under way


async def test_answers_older_than_the_limit_are_not_served() -> None:
    now = [0.0]
    figures = Figures()
    answers: Answers[str] = Answers(figures, budget_s=0.01, max_age_s=10, clock=lambda: now[0])
    await answers.get("region", figures.positions)
    figures.positions, now[0] = {"registry": 2}, 11.0
    figures.gate.clear()
    waiting = asyncio.create_task(answers.get("region", figures.positions))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    figures.gate.set()
    assert (await waiting).body["as_of"] == {"registry": 2}


async def test_refresh_recomputes_what_was_asked_recently_and_lets_the_rest_go() -> None:
    now = [0.0]
    figures = Figures()
    answers: Answers[str] = Answers(figures, budget_s=0.05, max_age_s=60, hot_for_s=100, clock=lambda: now[0])
    answers.ask("warm-up")
    assert await answers.refresh(figures.positions) == 1  # computed before anyone asks
    assert (await answers.get("warm-up", figures.positions)).body == {
        "key": "warm-up",
        "as_of": {"registry": 1},
    }
    assert figures.runs == 1
    await answers.get("other", figures.positions)
    assert await answers.refresh(figures.positions) == 0  # nothing moved
    figures.positions, now[0] = {"registry": 3}, 50.0
    await answers.get("other", figures.positions)  # asked again at 50
    now[0] = 120.0  # "warm-up" last asked at 0: cold now
    assert await answers.refresh(figures.positions) == 0  # "other" already at 3, "warm-up" dropped
    figures.positions = {"registry": 4}
    assert await answers.refresh(figures.positions) == 1
    assert (await answers.get("other", figures.positions)).body["as_of"] == {"registry": 4}


async def test_one_failing_question_never_stops_the_refresh_of_the_others() -> None:
    figures = Figures()

    async def compute(key: str) -> tuple[Positions, dict[str, Any]]:
        if key == "9999-Q4":
            raise OverflowError("date value out of range")
        return await figures(key)

    answers: Answers[str] = Answers(compute, budget_s=0.05, max_age_s=60, spacing=0)
    for key in ("region", "9999-Q4", "school"):
        answers.ask(key)
    assert await answers.refresh(figures.positions) == 2
    figures.positions = {"registry": 2}
    assert await answers.refresh(figures.positions) == 2  # the failing one is dropped, not retried forever
    assert (await answers.get("school", figures.positions)).body["as_of"] == {"registry": 2}


async def test_an_older_computation_never_replaces_a_newer_answer() -> None:
    figures = Figures()
    answers: Answers[str] = Answers(figures, budget_s=0.05, max_age_s=60)
    figures.gate.clear()
    slow = asyncio.create_task(answers.get("region", {"registry": 1}))
    await asyncio.sleep(0.01)
    figures.positions = {"registry": 5}
    answers._held["region"] = Answer.of({"registry": 5}, {"as_of": {"registry": 5}}, 0.0)
    figures.gate.set()
    assert (await slow).body["as_of"] == {"registry": 1}
    assert (await answers.get("region", {"registry": 5})).body["as_of"] == {"registry": 5}


async def test_background_passes_are_spaced_out_by_their_duration() -> None:
    now = [0.0]
    figures = Figures()

    slow = taking(1.0, figures, now)  # fake seconds per computation
    answers: Answers[str] = Answers(slow, budget_s=0.05, max_age_s=60, spacing=4, clock=lambda: now[0])
    answers.ask("region")
    answers.ask("school")
    assert await answers.refresh(figures.positions) == 2  # a pass of two seconds: 0 to 2
    figures.positions, now[0] = {"registry": 2}, 9.0
    assert await answers.refresh(figures.positions) == 0  # the next not before 2 + 4 × 2
    now[0] = 10.0
    assert await answers.refresh(figures.positions) == 2


async def test_a_reader_does_not_wait_for_a_computation_that_cannot_end_within_the_budget() -> None:
    now = [0.0]
    figures = Figures()

    slow = taking(2.0, figures, now)  # fake seconds per computation
    answers: Answers[str] = Answers(slow, budget_s=0.5, max_age_s=60, clock=lambda: now[0])
    first = await answers.get("region", figures.positions)
    assert first.took_s == 2.0
    figures.positions = {"registry": 2}
    figures.gate.clear()
    # a reader waiting the budget (0.5 s) out would time out here; this one gets the answer held
    quick = await asyncio.wait_for(answers.get("region", figures.positions), 0.2)
    assert quick is first
    figures.gate.set()
    assert (await answers.get("region", figures.positions, fresh=True)).body["as_of"] == {"registry": 2}


async def test_readers_start_no_computation_within_its_spacing_after_the_last() -> None:
    now = [0.0]
    figures = Figures()

    slow = taking(1.0, figures, now)  # fake seconds per computation
    answers: Answers[str] = Answers(slow, budget_s=0.05, max_age_s=60, spacing=4, clock=lambda: now[0])
    first = await answers.get("region", figures.positions)  # computed from 0 to 1
    figures.positions, now[0] = {"registry": 2}, 4.0
    assert await answers.get("region", figures.positions) is first  # 3 s after: under 4 durations
    assert figures.runs == 1
    now[0] = 5.5
    assert await answers.get("region", figures.positions) is first  # too slow to wait for: held...
    await asyncio.sleep(0.01)  # ...while the computation this reader started runs
    assert figures.runs == 2
    assert (await answers.get("region", figures.positions)).positions == {"registry": 2}
    figures.positions = {"registry": 3}
    assert (await answers.get("region", figures.positions, fresh=True)).positions == {"registry": 3}
