"""A bench as a command: the servers and report arguments, the command line its report shows, the run."""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console

DEFAULT_NATS = "nats://127.0.0.1:4222"
DEFAULT_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
RESULTS = Path(__file__).resolve().parents[1] / "results"

R = TypeVar("R")


def add_server_arguments(
    parser: argparse.ArgumentParser, report: str, profile_help: str | None = None
) -> None:
    """``--nats-url`` and ``--postgres-url`` (``NATS_URL`` and ``DATABASE_URL`` the defaults),
    ``--output`` (``bench/results/REPORT``) and, with ``profile_help``, ``--profile DIR``."""
    parser.add_argument("--nats-url", default=os.environ.get("NATS_URL", DEFAULT_NATS))
    parser.add_argument("--postgres-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--output", type=Path, default=RESULTS / report)
    if profile_help is not None:
        parser.add_argument("--profile", type=Path, default=None, help=profile_help)


def command_line(script: str, argv: Sequence[str]) -> str:
    """The command as run, without where the report went (``--output PATH`` or ``--output=PATH``)."""
    rest, shown = list(argv), []
    while rest:
        arg = rest.pop(0)
        if arg == "--output":
            rest = rest[1:]
        elif not arg.startswith("--output="):
            shown.append(arg)
    return shlex.join([script, *shown])


def write_report(console: Console, path: Path, markdown: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown, encoding="utf-8")
    console.print(f"written to {path}")


def run_bench(
    console: Console,
    output: Path,
    measure: Coroutine[Any, Any, R],
    show: Callable[[R, Console], None],
    markdown: Callable[[R], str],
) -> R:
    """The measurement on its own event loop; its results printed, then written to ``output``."""
    results = asyncio.run(measure)
    show(results, console)
    write_report(console, output, markdown(results))
    return results
