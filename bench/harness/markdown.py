"""The pieces of a bench's markdown report: tables, a profile's section, the environment line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from harness.console import shares


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[str]], left: int = 2) -> list[str]:
    """The table's lines; the first ``left`` columns aligned left, the others right."""
    return [
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * left + "---:|" * (len(headers) - left),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def markdown_profile(
    heading: str,
    by_package_intro: str,
    by_package: Iterable[tuple[str, float]],
    by_function: Iterable[tuple[str, float]],
) -> list[str]:
    """A profile's section: the heading, CPU by component, the project functions' inclusive shares."""
    return [
        heading,
        "",
        by_package_intro + shares(by_package) + ".",
        "",
        "| Inclusive | Project function |",
        "|---:|---|",
        *(f"| {share:.0%} | `{name}` |" for name, share in by_function),
        "",
    ]


def environment_line(environment: dict[str, str]) -> str:
    return "Environment: " + "; ".join(f"{k} {v}" for k, v in environment.items()) + "."
