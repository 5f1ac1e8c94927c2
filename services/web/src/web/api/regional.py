"""The institute's work with schools: municipalities, connecting and approving schools, credentials,
broadcasts to schools."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response

from web.api.deps import OPERATORS, REGIONAL, Checked, attempt, call, render, role
from web.application.clients import ApiError
from web.application.session import Session

router = APIRouter()
Operator = Annotated[Session, Depends(role(REGIONAL))]
Text = Annotated[str, Form(max_length=500)]


@router.get("/schools")
async def schools(request: Request, _session: Operator) -> Response:
    found = await call(request, "registry", "GET", "/schools")
    municipalities = await call(request, "registry", "GET", "/municipalities")
    return render(
        request,
        "schools.html",
        schools=found,
        applied=[s for s in found if s["status"] == "applied"],
        municipalities=municipalities,
        names={m["code"]: m["name"] for m in municipalities},
    )


@router.post("/municipalities")
async def add_municipality(
    request: Request, _session: Operator, _checked: Checked, code: Text, name: Text
) -> Response:
    body = {"code": code.strip(), "name": name.strip()}
    return await attempt(
        request,
        lambda: call(request, "registry", "POST", "/municipalities", json=body),
        f"Муниципалитет «{body['name']}» зарегистрирован",
        "/schools",
    )


@router.post("/schools")
async def connect_school(
    request: Request,
    _session: Operator,
    _checked: Checked,
    code: Text,
    municipality: Text,
    name: Text,
    teachers: Annotated[int, Form(ge=0, le=10_000)],
    students: Annotated[int, Form(ge=0, le=100_000)],
    contact_email: Text = "",
) -> Response:
    body: dict[str, Any] = {
        "code": code.strip(),
        "municipality": municipality,
        "name": name.strip(),
        "teachers": teachers,
        "students": students,
    }
    if contact_email.strip():
        body["contact_email"] = contact_email.strip()
    return await attempt(
        request,
        lambda: call(request, "registry", "POST", "/schools", json=body),
        f"Организация «{body['name']}» подключена",
        "/schools",
    )


@router.post("/schools/{code}/approve")
async def approve(request: Request, code: str, _session: Operator, _checked: Checked) -> Response:
    return await attempt(
        request,
        lambda: call(request, "registry", "POST", f"/schools/{code}/approve"),
        "Заявка одобрена: организация подключена",
        "/schools",
    )


@router.get("/schools/{code}/admin")
async def school_admin(request: Request, code: str, _session: Operator) -> Response:
    return await _admin_page(request, code)


async def _admin_page(request: Request, code: str, issued: dict[str, str] | None = None) -> Response:
    school = await call(request, "registry", "GET", f"/schools/{code}")
    credentials = await call(request, "registry", "GET", f"/schools/{code}/credentials")
    return render(request, "school_admin.html", school=school, credentials=credentials, issued=issued)


@router.post("/schools/{code}/credentials")
async def issue(request: Request, code: str, _session: Operator, _checked: Checked) -> Response:
    """The secret is shown on this answer once and never again (the registry keeps only its hash)."""
    try:
        issued = await call(request, "registry", "POST", f"/schools/{code}/credentials")
    except ApiError as error:
        if error.status != 409:
            raise
        request.state.session.say(error.detail, "error")
        issued = None
    return await _admin_page(request, code, issued)


@router.post("/schools/{code}/credentials/{client_id}/revoke")
async def revoke(
    request: Request, code: str, client_id: str, _session: Operator, _checked: Checked
) -> Response:
    return await attempt(
        request,
        lambda: call(request, "registry", "DELETE", f"/schools/{code}/credentials/{client_id}"),
        f"Учётные данные {client_id} отозваны",
        f"/schools/{code}/admin",
    )


Username = Annotated[str, Form(max_length=100)]
Password = Annotated[str, Form(max_length=200)]


async def _account(request: Request, body: dict[str, str], back: str) -> Response:
    """A sign-in the institute makes; it tells the person the password in person, as curators do."""
    return await attempt(
        request,
        lambda: call(request, "registry", "POST", "/accounts", json=body),
        f"Учётная запись {body['username']} создана",
        back,
    )


@router.post("/schools/{code}/curator")
async def curator_account(
    request: Request, code: str, _session: Operator, _checked: Checked, username: Username, password: Password
) -> Response:
    body = {"username": username.strip(), "password": password, "role": "school_curator", "school": code}
    return await _account(request, body, f"/schools/{code}/admin")


@router.post("/municipal-operators")
async def municipal_account(
    request: Request,
    _session: Operator,
    _checked: Checked,
    municipality: Annotated[str, Form(max_length=32)],
    username: Username,
    password: Password,
) -> Response:
    body = {
        "username": username.strip(),
        "password": password,
        "role": "municipal_operator",
        "municipality": municipality,
    }
    return await _account(request, body, "/schools")


@router.get("/broadcasts")
async def broadcasts(request: Request, session: Session = Depends(role(*OPERATORS))) -> Response:
    municipalities = await call(request, "registry", "GET", "/municipalities")
    return render(request, "broadcast.html", municipalities=municipalities, result=None)


@router.post("/broadcasts")
async def broadcast(
    request: Request,
    _checked: Checked,
    title: Annotated[str, Form(min_length=1, max_length=300)],
    text: Annotated[str, Form(min_length=1, max_length=10_000)],
    municipality: Text = "",
    session: Session = Depends(role(*OPERATORS)),
) -> Response:
    body: dict[str, Any] = {"title": title, "text": text}
    if municipality:
        body["municipality"] = municipality
    municipalities = await call(request, "registry", "GET", "/municipalities")
    try:
        result = await call(request, "notifications", "POST", "/broadcasts", json=body)
    except ApiError as error:
        if error.status not in (409, 422):
            raise
        session.say(error.detail, "error")
        result = None
    return render(request, "broadcast.html", municipalities=municipalities, result=result)
