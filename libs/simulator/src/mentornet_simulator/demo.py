"""The demo region of ``mentornet up --demo`` and one fresh sign-in per role to look at it with.

A newcomer's first five minutes: the region is filled through the public APIs as the simulator fills
any region, then a login is made for each kind of person the pages serve — the regional institute, a
municipality, one school's curator, and a mentor and a mentee of one of its pairs — so every role's
pages can be seen at once. Each login has its own fresh password; none is stored.

The year ends today: what is done is in the past, the rest of the year (open pairs, items due,
meetings to hold) is ahead, so a mentor and a mentee who sign in have something to do.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from rich.console import Console

from mentornet_simulator.cli import _password, plan_for, run_with_progress
from mentornet_simulator.executor import Endpoints, SimulationError
from mentornet_simulator.plan import Preset, academic_year


@dataclass(frozen=True)
class DemoLogin:
    role: str  # as the terminal names it
    username: str
    password: str
    sees: str  # what this person finds on the pages


def run_demo(endpoints: Endpoints, data_dir: Path, out: Console, seed: int | None = None) -> list[DemoLogin]:
    """Fill a fresh system with the demo region; one login per role (none if the region failed).

    A system that already has schools is left as it is (the demo would add a second programme to
    each); the logins are still made, so the pages can be opened.
    """
    operator = (
        "operator",
        _password(os.environ.get("MENTORNET_OPERATOR_PASSWORD"), data_dir / "registry-operator-password.txt"),
    )
    return asyncio.run(
        _demo(endpoints, operator, out, seed if seed is not None else secrets.randbelow(10_000))
    )


async def _demo(endpoints: Endpoints, operator: tuple[str, str], out: Console, seed: int) -> list[DemoLogin]:
    async with httpx.AsyncClient(base_url=endpoints.registry, timeout=30) as registry:
        form = {"grant_type": "password", "username": operator[0], "password": operator[1]}
        token = (await registry.post("/auth/token", data=form)).raise_for_status().json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        schools = (await registry.get("/schools", headers=auth)).raise_for_status().json()
        if schools:
            out.print(f"в системе уже {len(schools)} организаций — демо-регион не добавляется")
        else:
            # the year so far; in September, when no pair has formed yet, the year before
            plan = plan_for(Preset.DEMO, seed, academic_year(date.today() - timedelta(days=30)))
            out.print(
                f"демо-регион: {len(plan.schools)} организаций, {plan.total_steps} шагов, {plan.period}"
            )
            try:
                await run_with_progress(plan, endpoints, operator, 8, out)
            except (SimulationError, aiohttp.ClientError, httpx.HTTPError, ExceptionGroup) as error:
                out.print(f"[red]демо-регион не заполнен: {error}[/]")
                return []
            schools = (await registry.get("/schools", headers=auth)).raise_for_status().json()
        async with httpx.AsyncClient(base_url=endpoints.programs, timeout=30) as programs:
            return await _logins(registry, programs, auth, schools)


async def _logins(
    registry: httpx.AsyncClient,
    programs: httpx.AsyncClient,
    auth: dict[str, str],
    schools: list[dict[str, Any]],
) -> list[DemoLogin]:
    suffix = secrets.token_hex(3)
    made: list[DemoLogin] = []

    async def account(role: str, label: str, sees: str, **scope: str) -> None:
        login = DemoLogin(label, f"{role.split('_')[0]}.{suffix}", secrets.token_urlsafe(12), sees)
        body = {"username": login.username, "password": login.password, "role": role, **scope}
        (await registry.post("/accounts", headers=auth, json=body)).raise_for_status()
        made.append(login)

    await account(
        "regional_operator", "regional operator", "the region's dashboard and drill-down, schools, broadcasts"
    )
    if not schools:
        return made
    school, pair = await _school_with_a_pair(programs, auth, schools)
    await account(
        "municipal_operator",
        "municipal operator",
        f"the dashboard of municipality {school['municipality']} and its schools",
        municipality=school["municipality"],
    )
    await account(
        "school_curator",
        "school curator",
        f"«{school['name']}»: bases, programmes, matching, pairs, roadmaps",
        school=school["code"],
    )
    if pair is not None:
        await account(
            "mentor",
            "mentor",
            "own pairs, the roadmap, meetings and feedback forms",
            school=school["code"],
            participant_id=pair["mentor_ids"][0],
        )
        await account(
            "mentee",
            "mentee",
            "own pair, the roadmap (mark items done), feedback forms",
            school=school["code"],
            participant_id=pair["mentee_ids"][0],
        )
    return made


async def _school_with_a_pair(
    programs: httpx.AsyncClient, auth: dict[str, str], schools: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The first school with a pair, preferring an active one (its people have something to do)."""
    best: tuple[dict[str, Any], dict[str, Any]] | None = None
    for school in schools:
        answer = await programs.get("/programmes", headers=auth, params={"school": school["code"]})
        for programme in answer.raise_for_status().json():
            found = await programs.get(f"/programmes/{programme['id']}/pairs", headers=auth)
            for pair in found.raise_for_status().json():
                if pair["status"] == "active":
                    return school, pair
                best = best or (school, pair)
    return best or (schools[0], None)
