"""Pairs: a mentor's and mentee's own pairs, the roadmap (overdue items stand out), meetings and the
feedback form after each; the curator sees the same page for the school's pairs."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response

from mentornet_events.vocabulary import EvaluationLevel, MeetingKind, MeetingMode
from web.api.deps import CURATOR, PEOPLE, Checked, attempt, call, own_school, render, role
from web.api.school import display_name, people_of
from web.application.session import Session

router = APIRouter()
PairPeople = Annotated[Session, Depends(role(CURATOR, *PEOPLE))]
#: the roadmap templates the programs service ships (its key → what the curator reads)
ROADMAP_TEMPLATES = {
    "teacher_teacher_young_specialist": "«Учитель – учитель»: молодой специалист (13 пунктов)"
}


@router.get("/my")
async def my_pairs(request: Request, session: Session = Depends(role(*PEOPLE))) -> Response:
    found = await call(request, "programs", "GET", "/pairs")
    me = await call(request, "registry", "GET", f"/participants/{session.participant_id}")
    return render(request, "my.html", pairs=found, name=display_name(me.get("person")))


def _overdue(item: dict[str, Any], today: date) -> bool:
    if item.get("completed_on"):
        return False
    due = item.get("due_on")
    return bool(item.get("overdue_for")) or (due is not None and date.fromisoformat(str(due)) < today)


@router.get("/pairs/{pair_id}")
async def pair(request: Request, pair_id: str, session: PairPeople) -> Response:
    found = await call(request, "programs", "GET", f"/pairs/{pair_id}")
    if session.role == CURATOR:
        own_school(session, found["school"])
        people = await people_of(request, found["school"])
        names = {pid: p["name"] for pid, p in people.items()}
        side = None
    else:
        side = "mentor" if session.participant_id in found["mentor_ids"] else "mentee"
        names = {}  # a mentor or mentee reads no one else's personal data
    roadmap = await call(request, "programs", "GET", f"/pairs/{pair_id}/roadmap")
    today = date.today()
    for item in roadmap["items"]:
        item["overdue"] = _overdue(item, today)
    owed = [m for m in found["meetings"] if side in m["feedback_missing"]]
    return render(
        request,
        "pair.html",
        pair=found,
        names=names,
        side=side,
        roadmap=roadmap,
        overdue=sum(1 for i in roadmap["items"] if i["overdue"]),
        done=sum(1 for i in roadmap["items"] if i.get("completed_on")),
        owed=owed,
        templates=ROADMAP_TEMPLATES,
        meeting_kinds=list(MeetingKind),
        meeting_modes=list(MeetingMode),
        levels=list(EvaluationLevel),
        may_plan=session.role == CURATOR or side == "mentor",
    )


@router.post("/pairs/{pair_id}/roadmap/template")
async def from_template(
    request: Request,
    pair_id: str,
    session: PairPeople,
    _checked: Checked,
    template: Annotated[str, Form(max_length=100)],
) -> Response:
    return await attempt(
        request,
        lambda: call(
            request,
            "programs",
            "POST",
            f"/pairs/{pair_id}/roadmap/from-template",
            json={"template": template},
        ),
        "Дорожная карта составлена по шаблону",
        f"/pairs/{pair_id}",
    )


@router.post("/pairs/{pair_id}/roadmap/items/{item_id}/complete")
async def complete_item(
    request: Request,
    pair_id: str,
    item_id: str,
    session: PairPeople,
    _checked: Checked,
    product_kind: Annotated[str, Form(min_length=1, max_length=200)],
    product: Annotated[str, Form(max_length=4000)] = "",
    attitude: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    body = {"product_kind": product_kind, "product": product, "attitude": attitude}
    return await attempt(
        request,
        lambda: call(
            request, "programs", "POST", f"/pairs/{pair_id}/roadmap/items/{item_id}/complete", json=body
        ),
        f"Пункт отмечен выполненным: {product_kind}",
        f"/pairs/{pair_id}",
    )


@router.post("/pairs/{pair_id}/meetings")
async def hold_meeting(
    request: Request,
    pair_id: str,
    session: PairPeople,
    _checked: Checked,
    kind: Annotated[MeetingKind, Form()],
    mode: Annotated[MeetingMode, Form()] = MeetingMode.IN_PERSON,
    held_on: Annotated[date | None, Form()] = None,
    notes: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    body = {
        "kind": kind.value,
        "mode": mode.value,
        "held_on": (held_on or date.today()).isoformat(),
        "notes": notes,
    }
    return await attempt(
        request,
        lambda: call(request, "programs", "POST", f"/pairs/{pair_id}/meetings", json=body),
        "Встреча записана: заполните форму обратной связи",
        f"/pairs/{pair_id}",
    )


@router.post("/pairs/{pair_id}/meetings/{meeting_id}/feedback")
async def feedback(
    request: Request,
    pair_id: str,
    meeting_id: str,
    _checked: Checked,
    session: Session = Depends(role(*PEOPLE)),
) -> Response:
    form = await request.form()
    found = await call(request, "programs", "GET", f"/pairs/{pair_id}")
    side = "mentor" if session.participant_id in found["mentor_ids"] else "mentee"
    scores = {level.value: _score(form.get(level.value)) for level in EvaluationLevel}
    body = {
        "respondent_role": side,
        "scores": {k: v for k, v in scores.items() if v is not None},
        "comment": str(form.get("comment") or "")[:4000],
        "wants_to_become_mentor": form.get("wants_to_become_mentor") == "on",
    }
    return await attempt(
        request,
        lambda: call(
            request, "programs", "POST", f"/pairs/{pair_id}/meetings/{meeting_id}/feedback", json=body
        ),
        "Спасибо! Форма обратной связи отправлена",
        f"/pairs/{pair_id}",
    )


def _score(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and 1 <= int(text) <= 5 else None
