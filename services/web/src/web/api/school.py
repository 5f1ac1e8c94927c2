"""A school's curator: the school's page, the mentor and mentee bases (add, edit, import, consent),
accounts for mentors and mentees."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from mentornet_events.vocabulary import (
    BaseKind,
    DeficitArea,
    MentoringForm,
    ParticipantRole,
    QualificationCategory,
)
from web.api.deps import CURATOR, OPERATORS, Checked, attempt, backend, call, own_school, render, role
from web.application.clients import ApiError
from web.application.session import Session

router = APIRouter()
Curator = Annotated[Session, Depends(role(CURATOR))]
MAX_IMPORT_BYTES = 20 * 1024 * 1024
VOCABULARIES: dict[str, Any] = {
    "areas": list(DeficitArea),
    "forms": list(MentoringForm),
    "roles": list(ParticipantRole),
    "qualifications": list(QualificationCategory),
}


def display_name(person: dict[str, Any] | None) -> str:
    if not person:
        return "(данные удалены)"
    parts = [person.get("last_name"), person.get("first_name"), person.get("middle_name")]
    return " ".join(p for p in parts if p)


async def people_of(request: Request, code: str) -> dict[str, dict[str, Any]]:
    """The school's participants with their names, by id (for pages that show pairs)."""
    found = await call(request, "registry", "GET", f"/schools/{code}/participants", params={"person": "true"})
    return {p["id"]: p | {"name": display_name(p.get("person"))} for p in found}


@router.get("/schools/{code}")
async def school_home(
    request: Request, code: str, session: Session = Depends(role(CURATOR, *OPERATORS))
) -> Response:
    own_school(session, code)
    if session.role != CURATOR:
        return RedirectResponse(f"/dashboard/schools/{code}", status_code=303)
    school, people, programmes = await asyncio.gather(
        call(request, "registry", "GET", f"/schools/{code}"),
        call(request, "registry", "GET", f"/schools/{code}/participants"),
        call(request, "programs", "GET", "/programmes", params={"school": code}),
    )
    return render(
        request,
        "school.html",
        school=school,
        mentors=sum(1 for p in people if p["in_mentor_base"]),
        mentees=sum(1 for p in people if p["in_mentee_base"]),
        programmes=programmes,
    )


@router.get("/schools/{code}/participants")
async def participants(
    request: Request, code: str, session: Curator, base: BaseKind = BaseKind.MENTOR
) -> Response:
    own_school(session, code)
    return await _participants_page(request, code, base)


async def _participants_page(
    request: Request, code: str, base: BaseKind, report: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    found = await call(request, "registry", "GET", f"/schools/{code}/participants", params={"person": "true"})
    in_base = "in_mentor_base" if base is BaseKind.MENTOR else "in_mentee_base"
    listed = [p | {"name": display_name(p.get("person"))} for p in found if p[in_base]]
    withdrawn = [
        p | {"name": display_name(p.get("person"))}
        for p in found
        if not p["in_mentor_base"] and not p["in_mentee_base"]
    ]
    listed.sort(key=lambda p: p["name"])
    return render(
        request,
        "participants.html",
        status_code,
        code=code,
        base=base.value,
        participants=listed,
        withdrawn=withdrawn,
        report=report,
        **VOCABULARIES,
    )


PERSON_FIELDS = ("last_name", "first_name", "middle_name", "email", "phone", "position")


def _person(form: FormData) -> dict[str, Any]:
    person: dict[str, Any] = {}
    for key in PERSON_FIELDS:
        value = str(form.get(key) or "").strip()
        if value:
            person[key] = value
    return person


def _number(form: FormData, key: str) -> int | None:
    value = str(form.get(key) or "").strip()
    return int(value) if value.isdigit() else None


def _entry(form: FormData, base: BaseKind) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "role": str(form.get("role") or "teacher"),
        "subjects": [s.strip() for s in str(form.get("subjects") or "").split(",") if s.strip()],
    }
    if (years := _number(form, "experience_years")) is not None:
        entry["experience_years"] = years
    if base is BaseKind.MENTOR:
        entry["competencies"] = form.getlist("competencies")
        entry["hours_per_month"] = _number(form, "hours_per_month")
        entry["max_mentees"] = _number(form, "max_mentees") or 1
        if form.get("qualification"):
            entry["qualification"] = form.get("qualification")
    else:
        entry["deficits"] = form.getlist("deficits")
        entry["young_specialist"] = form.get("young_specialist") == "on"
        if (grade := _number(form, "grade")) is not None:
            entry["grade"] = grade
        if form.get("desired_form"):
            entry["desired_form"] = form.get("desired_form")
    return entry


@router.post("/schools/{code}/participants/{base}")
async def add_participant(
    request: Request, code: str, base: BaseKind, session: Curator, _checked: Checked
) -> Response:
    own_school(session, code)
    form = await request.form()
    body: dict[str, Any] = {"person": _person(form), "entry": _entry(form, base)}
    if form.get("parent_consent") == "on":
        body["consent"] = {"given_by": "parent"}
    path = f"/schools/{code}/{'mentors' if base is BaseKind.MENTOR else 'mentees'}"
    name = display_name(body["person"])
    return await attempt(
        request,
        lambda: call(request, "registry", "POST", path, json=body),
        f"{name} внесён(а) в базу",
        f"/schools/{code}/participants?base={base.value}",
    )


@router.post("/schools/{code}/import/{base}")
async def import_base(
    request: Request,
    code: str,
    base: BaseKind,
    session: Curator,
    _checked: Checked,
    file: Annotated[UploadFile, File()],
    dry_run: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """CSV or XLSX: the registry checks every row; the report lists each bad row with its line."""
    own_school(session, code)
    content = await file.read(MAX_IMPORT_BYTES + 1)
    if len(content) > MAX_IMPORT_BYTES:
        report: dict[str, Any] = {"detail": "Файл больше 20 МБ", "errors": [], "rows": 0, "imported": 0}
    else:
        answer = await backend(request).raw(
            "registry",
            "POST",
            f"/schools/{code}/import/{base.value}",
            session.token,
            params={"dry_run": "true" if dry_run else "false"},
            files={
                "file": (file.filename or "import", content, file.content_type or "application/octet-stream")
            },
        )
        report = answer.json() | {"ok": answer.status_code < 300}
    report["filename"] = file.filename
    if request.headers.get("hx-request"):
        return render(request, "_import_report.html", report=report)
    return await _participants_page(request, code, base, report, 200 if report.get("ok") else 422)


@router.get("/schools/{code}/participants/{base}/{participant_id}")
async def participant(
    request: Request, code: str, base: BaseKind, participant_id: str, session: Curator
) -> Response:
    own_school(session, code)
    found = await call(request, "registry", "GET", f"/participants/{participant_id}")
    if found["school"] != code:
        raise ApiError(404, "Участник не найден")
    return render(
        request,
        "participant.html",
        code=code,
        base=base.value,
        p=found,
        person=found.get("person") or {},
        name=display_name(found.get("person")),
        **VOCABULARIES,
    )


@router.post("/schools/{code}/participants/{base}/{participant_id}")
async def edit_participant(
    request: Request, code: str, base: BaseKind, participant_id: str, session: Curator, _checked: Checked
) -> Response:
    own_school(session, code)
    form = await request.form()
    entry = _entry(form, base)
    entry.pop("role", None)
    # the registry replaces personal data whole: what the form does not show (birth date, a minor's
    # categories, the parent) is kept as it is, what it shows is taken as typed (empty clears it)
    current = await call(request, "registry", "GET", f"/participants/{participant_id}")
    if current["school"] != code:
        raise ApiError(404, "Участник не найден")
    person = dict(current.get("person") or {})
    for key in PERSON_FIELDS:
        person[key] = str(form.get(key) or "").strip() or None
    changes = entry | {"person": person}
    back = f"/schools/{code}/participants/{base.value}/{participant_id}"
    return await attempt(
        request,
        lambda: call(request, "registry", "PATCH", f"/participants/{participant_id}", json=changes),
        "Изменения сохранены",
        back,
    )


@router.post("/schools/{code}/participants/{base}/{participant_id}/withdraw")
async def withdraw(
    request: Request, code: str, base: BaseKind, participant_id: str, session: Curator, _checked: Checked
) -> Response:
    own_school(session, code)
    return await attempt(
        request,
        lambda: call(
            request, "registry", "POST", f"/participants/{participant_id}/consent/{base.value}/withdraw"
        ),
        "Согласие отозвано: участник выведен из базы",
        f"/schools/{code}/participants?base={base.value}",
    )


@router.post("/schools/{code}/participants/{base}/{participant_id}/account")
async def create_account(
    request: Request,
    code: str,
    base: BaseKind,
    participant_id: str,
    session: Curator,
    _checked: Checked,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
) -> Response:
    """A sign-in for the mentor or mentee: the curator tells them the password in person."""
    own_school(session, code)
    body = {
        "username": username.strip(),
        "password": password,
        "role": "mentor" if base is BaseKind.MENTOR else "mentee",
        "school": code,
        "participant_id": participant_id,
    }
    return await attempt(
        request,
        lambda: call(request, "registry", "POST", "/accounts", json=body),
        f"Учётная запись {body['username']} создана",
        f"/schools/{code}/participants/{base.value}/{participant_id}",
    )
