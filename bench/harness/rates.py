"""A count over a time; requests over a measured window."""

from __future__ import annotations

from dataclasses import dataclass

from harness.latency import Summary


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


@dataclass
class Requests:
    """Requests of ``clients`` answered in a measured window, latencies per endpoint."""

    clients: int
    duration_s: float
    requests: int
    errors: int
    per_endpoint: dict[str, Summary]

    @property
    def per_second(self) -> float:
        return self.requests / self.duration_s
