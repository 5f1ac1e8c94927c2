"""Latency percentiles of a set of samples, and how a report writes them."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    """Latencies in seconds."""

    count: int
    p50: float
    p90: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of(cls, samples: Iterable[float]) -> Summary:
        ordered = sorted(samples)
        if not ordered:
            return cls(0, math.nan, math.nan, math.nan, math.nan, math.nan)

        def pct(q: float) -> float:
            return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

        return cls(len(ordered), pct(0.5), pct(0.9), pct(0.99), ordered[-1], sum(ordered) / len(ordered))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def percentiles(s: Summary, unit: Callable[[float], str] = ms) -> str:
    """``p50 / p90 / p99 / max``, each written by ``unit``."""
    return f"{unit(s.p50)} / {unit(s.p90)} / {unit(s.p99)} / {unit(s.max)}"
