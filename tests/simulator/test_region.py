"""A tiny region driven by ``mentornet simulate`` through the real services ends in the plan's figures."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from mentornet_simulator import PRESETS, Preset, make_plan
from mentornet_simulator.plan import Figures, academic_year
from mentornet_simulator.system import System
from tests.integration.support import eventually

pytestmark = [pytest.mark.nats]


@pytest.fixture
async def system(nats_url: str, tmp_path: Path) -> AsyncIterator[System]:
    running = System(nats_url, tmp_path / "data")
    try:
        await running.start()
        yield running
    finally:
        await running.stop()


async def _cli(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "mentornet_spine.cli", "simulate", "--preset", "tiny", *args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=os.environ | {"COLUMNS": "200"},
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    return await process.wait(), out.decode()


async def _figures(system: System, period: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as client:
        form = {"grant_type": "password", "username": "operator", "password": system.operator_password}
        token = (await client.post(f"{system.url('registry')}/auth/token", data=form)).json()["access_token"]
        answer = await client.get(
            f"{system.url('monitoring')}/indicators/region",
            params={"period": period},
            headers={"Authorization": f"Bearer {token}", "Cache-Control": "no-cache"},
        )
        assert answer.status_code == 200, answer.text
        figures: dict[str, Any] = answer.json()["figures"]
        return figures


async def test_a_tiny_year_through_the_cli_ends_in_exactly_the_plan_s_figures(system: System) -> None:
    # the current academic year: bases and forms count from when they were recorded, which is now
    year = academic_year(date.today())
    plan = make_plan(replace(PRESETS[Preset.TINY], year=year, until=date.today()), 7)
    endpoints = system.endpoints
    refused = await _cli("--registry-url", endpoints.registry, "--password", "not-the-password")
    assert refused[0] == 1 and "/auth/token" in refused[1] and "401" in refused[1], refused  # no traceback
    done = await _cli(
        *("--seed", "7", "--year", str(year), "--registry-url", endpoints.registry),
        *("--programs-url", endpoints.programs, "--monitoring-url", endpoints.monitoring),
        *("--password", system.operator_password),
    )
    assert done[0] == 0 and f"готово: {plan.total_steps} шагов" in done[1], done
    expected = vars(plan.figures())
    shown: dict[str, int] = {}

    async def matches() -> bool:  # the monitoring service follows the events
        shown.update(Figures.shown(await _figures(system, plan.period)))
        return shown == expected

    await eventually(matches, within=30, interval=0.3)
    assert shown == expected
