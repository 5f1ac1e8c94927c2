"""A curator's programmes: launch, stages, matching with its explanation, pairs, the programme report."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from mentornet_events.vocabulary import MeetingMode, MentoringForm, ProgrammeDuration, ProgrammeStage
from web.api.deps import CURATOR, Checked, attempt, backend, call, own_school, render, role
from web.api.school import people_of
from web.application.session import Session

router = APIRouter()
Curator = Annotated[Session, Depends(role(CURATOR))]
STAGES = list(ProgrammeStage)


@router.get("/schools/{code}/programmes")
async def programmes(request: Request, code: str, session: Curator) -> Response:
    own_school(session, code)
    found = await call(request, "programs", "GET", "/programmes", params={"school": code})
    return render(
        request,
        "programmes.html",
        code=code,
        programmes=found,
        forms=list(MentoringForm),
        durations=list(ProgrammeDuration),
        modes=list(MeetingMode),
    )


@router.post("/schools/{code}/programmes")
async def launch(
    request: Request,
    code: str,
    session: Curator,
    _checked: Checked,
    title: Annotated[str, Form(min_length=1, max_length=300)],
    form: Annotated[MentoringForm, Form()],
    duration: Annotated[ProgrammeDuration, Form()] = ProgrammeDuration.LONG_TERM,
    mode: Annotated[MeetingMode, Form()] = MeetingMode.MIXED,
    starts_on: Annotated[date | None, Form()] = None,
) -> Response:
    own_school(session, code)
    body = {
        "title": title,
        "form": form.value,
        "duration": duration.value,
        "mode": mode.value,
        "starts_on": (starts_on or date.today()).isoformat(),
    }
    launched: dict[str, Any] = {}

    async def act() -> None:
        launched.update(await call(request, "programs", "POST", "/programmes", json=body))

    answer = await attempt(request, act, f"Программа «{title}» запущена", f"/schools/{code}/programmes")
    if "id" in launched:
        return RedirectResponse(f"/programmes/{launched['id']}", status_code=303)
    return answer


@router.get("/programmes/{programme_id}")
async def programme(
    request: Request, programme_id: str, session: Curator, proposal: bool = False
) -> Response:
    found = await call(request, "programs", "GET", f"/programmes/{programme_id}")
    own_school(session, found["school"])
    pairs, people = await asyncio.gather(
        call(request, "programs", "GET", f"/programmes/{programme_id}/pairs"),
        people_of(request, found["school"]),
    )
    suggested = None
    if proposal and found["stage"] in ("pairing", "work"):
        suggested = await call(request, "programs", "POST", f"/programmes/{programme_id}/assignment")
    paired = {m for p in pairs if p["status"] == "active" for m in p["mentee_ids"]}
    waiting = [p for p in people.values() if p["in_mentee_base"] and p["id"] not in paired]
    position = STAGES.index(ProgrammeStage(found["stage"]))
    return render(
        request,
        "programme.html",
        p=found,
        pairs=pairs,
        people=people,
        proposal=suggested,
        waiting=sorted(waiting, key=lambda w: w["name"]),
        stages=STAGES,
        next_stages=STAGES[position + 1 :],
        stage_index=position,
    )


@router.post("/programmes/{programme_id}/stage")
async def change_stage(
    request: Request,
    programme_id: str,
    session: Curator,
    _checked: Checked,
    stage: Annotated[ProgrammeStage, Form()],
) -> Response:
    return await attempt(
        request,
        lambda: call(
            request, "programs", "POST", f"/programmes/{programme_id}/stage", json={"stage": stage.value}
        ),
        "Программа переведена на следующий этап",
        f"/programmes/{programme_id}",
    )


@router.get("/programmes/{programme_id}/candidates")
async def candidates(request: Request, programme_id: str, session: Curator, mentee: str) -> Response:
    """Mentors ranked for one mentee, every term of the score explained (an htmx fragment)."""
    found = await call(request, "programs", "GET", f"/programmes/{programme_id}")
    own_school(session, found["school"])
    ranked, people = await asyncio.gather(
        call(
            request,
            "programs",
            "GET",
            f"/programmes/{programme_id}/candidates",
            params={"mentee": mentee, "limit": 5},
        ),
        people_of(request, found["school"]),
    )
    return render(request, "_candidates.html", p=found, mentee=mentee, candidates=ranked, people=people)


@router.post("/programmes/{programme_id}/pairs")
async def form_pair(
    request: Request,
    programme_id: str,
    session: Curator,
    _checked: Checked,
    mentor_id: Annotated[str, Form(max_length=36)],
    mentee_id: Annotated[str, Form(max_length=36)],
) -> Response:
    body = {"mentor_ids": [mentor_id], "mentee_ids": [mentee_id]}
    return await attempt(
        request,
        lambda: call(request, "programs", "POST", f"/programmes/{programme_id}/pairs", json=body),
        "Пара закреплена",
        f"/programmes/{programme_id}",
    )


@router.get("/programmes/{programme_id}/report.xlsx")
async def report(request: Request, programme_id: str, session: Curator) -> Response:
    answer = await backend(request).raw(
        "programs", "GET", f"/programmes/{programme_id}/report.xlsx", session.token
    )
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type"),
        headers={"Content-Disposition": answer.headers.get("content-disposition", "attachment")},
    )
