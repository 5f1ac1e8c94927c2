"""What a bench prints: its table, its floors met or not, where a profiled process's CPU went."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.table import Table


def shares(pairs: Iterable[tuple[str, float]]) -> str:
    """``name 12%, other 3%``."""
    return ", ".join(f"{k} {v:.0%}" for k, v in pairs)


#: the columns of a table of measures by phase (the service benches' reports)
MEASURES = ("Phase", "Measure", "Value")


def print_table(
    console: Console,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    floors: Iterable[tuple[bool, str]] = (),
    left: int = 2,
) -> None:
    """A table whose first ``left`` columns are aligned left, the others right; then each floor's
    line, in green if it is met, else in red."""
    table = Table(title=title)
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i < left else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for met, line in floors:
        console.print(line, style="bold green" if met else "bold red")


def print_profile(
    console: Console,
    heading: str,
    by_package: Iterable[tuple[str, float]],
    by_function: Iterable[tuple[str, float]],
    functions_heading: str | None = None,
) -> None:
    console.print(heading)
    console.print("  " + shares(by_package))
    if functions_heading is not None:
        console.print(functions_heading)
    for name, share in by_function:
        console.print(f"    {share:5.0%}  {name}")
