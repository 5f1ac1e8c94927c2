"""``mentornet simulate`` and the demo region of ``mentornet up --demo``, with a progress bar."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Annotated

import aiohttp
import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from mentornet_simulator.executor import Done, Endpoints, Observer, RunResult, SimulationError, simulate
from mentornet_simulator.plan import PRESETS, Preset, RegionPlan, academic_year, make_plan

console = Console()


def plan_for(preset: Preset, seed: int, year: int | None = None, until: date | None = None) -> RegionPlan:
    """The year's plan up to today: a region's records are never dated in its future."""
    today = date.today()
    return make_plan(replace(PRESETS[preset], year=year or academic_year(today), until=until or today), seed)


async def run_with_progress(
    plan: RegionPlan,
    endpoints: Endpoints,
    operator: tuple[str, str],
    concurrency: int,
    out: Console,
    observers: list[Observer] | None = None,
) -> RunResult:
    """The plan with a bar of steps done, their rate and the time left."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>6.1f} шаг/с"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=out) as bar:
        task = bar.add_task("регион", total=plan.total_steps, rate=0.0)
        began = time.monotonic()
        count = 0

        def advance(done: Done) -> None:  # rich's own speed estimate walks its samples on every call
            nonlocal count
            count += 1
            bar.update(task, advance=1, rate=count / max(time.monotonic() - began, 1e-3))

        return await simulate(plan, endpoints, operator, concurrency, [advance, *(observers or [])])


def _password(password: str | None, password_file: Path | None) -> str:
    """The given password, or the one the registry wrote on its first start (username, then password)."""
    if password:
        return password
    path = password_file or Path(".data") / "registry-operator-password.txt"
    if not path.exists():
        raise typer.BadParameter(f"no --password and no {path}")
    return path.read_text(encoding="utf-8").split()[-1]


def simulate_command(
    preset: Annotated[Preset, typer.Option(help="Region size: large (1,100 schools), medium, demo, tiny")] = (
        Preset.LARGE
    ),
    seed: Annotated[int, typer.Option(help="The same seed gives the same region and year")] = 1,
    year: Annotated[
        int | None,
        typer.Option(help="Academic year to simulate (its September; up to today); default: the current one"),
    ] = None,
    registry_url: Annotated[str, typer.Option(envvar="MENTORNET_REGISTRY_URL")] = Endpoints.registry,
    programs_url: Annotated[str, typer.Option(envvar="MENTORNET_PROGRAMS_URL")] = Endpoints.programs,
    monitoring_url: Annotated[str, typer.Option(envvar="MENTORNET_MONITORING_URL")] = Endpoints.monitoring,
    operator: Annotated[str, typer.Option(help="The regional operator's username")] = "operator",
    password: Annotated[
        str | None, typer.Option(envvar="MENTORNET_OPERATOR_PASSWORD", show_default=False)
    ] = None,
    password_file: Annotated[
        Path | None, typer.Option(help="Default: .data/registry-operator-password.txt")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Schools acting at the same time")] = 8,
) -> None:
    """Drive the running services through one academic year of a simulated region."""
    plan = plan_for(preset, seed, year)
    figures = plan.figures()
    console.print(
        f"Регион «{preset.value}» (seed {seed}, {plan.period}): {figures.schools} организаций, "
        f"{figures.mentors} наставников, {figures.mentees} наставляемых, {figures.pairs_formed} пар, "
        f"{plan.total_steps:,} шагов".replace(",", " ")
    )
    endpoints = Endpoints(registry_url, programs_url, monitoring_url)
    try:
        result = asyncio.run(
            run_with_progress(
                plan, endpoints, (operator, _password(password, password_file)), concurrency, console
            )
        )
    except (SimulationError, aiohttp.ClientError, httpx.HTTPError) as error:
        console.print(f"[red]{type(error).__name__}: {error}[/]")
        raise typer.Exit(1) from None
    console.print(
        f"готово: {result.steps:,} шагов за {result.seconds:.1f} с ({result.steps_per_s:.1f} шаг/с), "
        f"повторов {result.retries}".replace(",", " ")
    )


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the ``mentornet`` command line."""
    app.command("simulate")(simulate_command)
