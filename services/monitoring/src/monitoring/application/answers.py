"""Answers kept per question and per stream positions: computed once, served while the next one is.

Computing the region's figures from the facts takes most of a second at a region's scale, and
events keep moving the positions all day. So a reader gets the freshest answer that can be had
within a small budget: a new computation if it finishes in time, else the previous answer (its
"as of" positions say how old it is) while the computation goes on for the next reader. Answers
asked for recently are recomputed in the background as events arrive, so readers rarely wait and
what they see is seldom more than one computation behind. A reader may insist on the current
positions (``fresh``): reports and exports do.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic_core import from_json, to_json

log = logging.getLogger(__name__)

Positions = dict[str, int]
Key = TypeVar("Key", bound=Hashable)
#: a computation that joined late is followed by at most this many more for a ``fresh`` reader
FRESH_ATTEMPTS = 3


def covers(newer: Positions, older: Positions) -> bool:
    """Whether an answer at ``newer`` reflects everything one at ``older`` does."""
    return all(newer.get(stream, 0) >= sequence for stream, sequence in older.items())


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer held as its JSON bytes, encoded once however many readers get it.

    Holding bytes instead of the body's dictionaries matters: a region's table by school is
    hundreds of thousands of objects, and every full garbage collection would walk them all,
    stalling every request for tens to hundreds of milliseconds.
    """

    positions: Positions
    encoded: bytes
    computed_at: float
    took_s: float = 0.0

    @classmethod
    def of(
        cls, positions: Positions, body: dict[str, Any], computed_at: float, took_s: float = 0.0
    ) -> Answer:
        return cls(positions, to_json(body), computed_at, took_s)

    def json(self) -> bytes:
        return self.encoded

    @property
    def body(self) -> dict[str, Any]:
        """The body decoded afresh (reports and the federal feed; the API sends the bytes)."""
        decoded: dict[str, Any] = from_json(self.encoded)
        return decoded


class Answers(Generic[Key]):
    def __init__(
        self,
        compute: Callable[[Key], Awaitable[tuple[Positions, dict[str, Any]]]],
        *,
        budget_s: float,
        max_age_s: float,
        hot_for_s: float = 600.0,
        spacing: float = 4.0,
        size: int = 512,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._compute = compute
        self.budget_s = budget_s
        self.max_age_s = max_age_s
        self.hot_for_s = hot_for_s
        #: computations of one question, and background passes, start at least this many of the
        #: last one's durations after it ended (a dashboard of thirteen periods, or readers
        #: starting one computation after another, would otherwise keep a core busy all day)
        self.spacing = spacing
        self._next_pass = float("-inf")
        self.size = size
        self.clock = clock
        self._held: dict[Key, Answer] = {}
        self._flights: dict[Key, asyncio.Task[Answer]] = {}
        #: when each computation under way began
        self._began: dict[Key, float] = {}
        #: when each question was last asked: the ones kept fresh in the background
        self._asked: dict[Key, float] = {}

    def ask(self, key: Key) -> None:
        """Count ``key`` as asked now (a warm-up: the next refresh computes it)."""
        self._asked[key] = self.clock()

    async def get(self, key: Key, positions: Positions, fresh: bool = False) -> Answer:
        """The answer to ``key`` as of ``positions`` (read by the caller just now), or a bit older."""
        self.ask(key)
        held = self._held.get(key)
        if held is not None and covers(held.positions, positions):
            return held
        if not fresh and held is not None and self.clock() - held.computed_at <= self.max_age_s:
            if key not in self._flights and self.clock() - held.computed_at < self.spacing * held.took_s:
                # computed a moment ago: the next computation waits its turn (at most a fifth of a
                # database core per question however many dashboards ask it while events arrive;
                # back to back, computations kept a core busy and every request waited on it)
                return held
            flight = self._flight(key)
            if self._expected_end(key, held) > self.clock() + self.budget_s:
                return held  # waiting the budget out would only add to the reader's time
            done, _ = await asyncio.wait({flight}, timeout=self.budget_s)
            if not done:
                return held
        answer = await asyncio.shield(self._flight(key))
        for _ in range(FRESH_ATTEMPTS):
            if not fresh or covers(answer.positions, positions):
                break
            # the computation joined had started before the positions this reader saw
            answer = await asyncio.shield(self._flight(key))
        return answer

    async def refresh(self, positions: Positions) -> int:
        """Recompute, one at a time, the answers asked for recently that ``positions`` moved past."""
        now = self.clock()
        if now < self._next_pass:
            return 0
        recomputed = 0
        for key, asked in list(self._asked.items()):
            if now - asked > self.hot_for_s:
                del self._asked[key]
                continue
            held = self._held.get(key)
            if held is not None and covers(held.positions, positions):
                continue
            try:
                await asyncio.shield(self._flight(key))
            except Exception:  # one question's failure must not starve the questions after it
                log.exception("monitoring: the answer to %s failed; dropped until asked again", key)
                del self._asked[key]
                continue
            recomputed += 1
        ended = self.clock()
        self._next_pass = ended + self.spacing * (ended - now)
        return recomputed

    def _expected_end(self, key: Key, held: Answer) -> float:
        """When the computation under way should end, judged by how long the last one took."""
        return self._began.get(key, self.clock()) + held.took_s

    def _flight(self, key: Key) -> asyncio.Task[Answer]:
        """The computation of ``key`` under way, or a new one: readers of one question share it."""
        flight = self._flights.get(key)
        if flight is None:
            self._began[key] = began = self.clock()
            flight = asyncio.create_task(self._run(key, began))
            self._flights[key] = flight

            def forget(done: asyncio.Task[Answer]) -> None:
                if self._flights.get(key) is done:
                    del self._flights[key]
                    self._began.pop(key, None)
                if not done.cancelled():
                    done.exception()  # retrieved, should every reader have gone away

            flight.add_done_callback(forget)
        return flight

    async def _run(self, key: Key, began: float) -> Answer:
        positions, body = await self._compute(key)
        done = self.clock()
        answer = Answer.of(positions, body, done, done - began)
        held = self._held.get(key)
        if held is None or covers(positions, held.positions):
            if held is None and len(self._held) >= self.size:
                self._held.clear()
            self._held[key] = answer
        return answer
