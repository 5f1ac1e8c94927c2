"""Small counts are suppressed before anything leaves the region: a count below the threshold
could point at a person (a school with two young specialists). Shares built on them go too."""

from __future__ import annotations

from typing import Any

DEFAULT_THRESHOLD = 5


def suppress(counts: dict[str, int | None], threshold: int = DEFAULT_THRESHOLD) -> dict[str, int | None]:
    """Counts from 1 to threshold - 1 become ``None`` (zero says nothing about a person)."""
    return {k: (None if v is not None and 0 < v < threshold else v) for k, v in counts.items()}


def share(numerator: int | None, denominator: int | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 4)


def suppressed_keys(row: dict[str, Any]) -> list[str]:
    return sorted(k for k, v in row.items() if v is None)
