"""Sign-in with the registry's identity (the same accounts as the API), sign-out, the start page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from web.api.deps import (
    CURATOR,
    MUNICIPAL,
    PEOPLE,
    REGIONAL,
    Checked,
    User,
    backend,
    render,
    session_of,
)

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never //host or a scheme): no open redirect after sign-in."""
    # browsers drop tabs and newlines in addresses ("/\t/evil" becomes "//evil"), so none are let through
    unsafe = any(c < " " or c == "\\" for c in target or "")
    if target and target.startswith("/") and not target.startswith("//") and not unsafe:
        return target
    return "/"


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    if session_of(request).signed_in:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", next=_safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    session: Checked,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    issued = await backend(request).token(username.strip(), password)
    if issued is None:
        return render(
            request, "login.html", 401, next=_safe_next(next), error="Неверное имя пользователя или пароль"
        )
    me = await backend(request).call("registry", "GET", "/me", issued["access_token"])
    session.sign_in(issued["access_token"], float(issued["expires_in"]), me)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
async def logout(request: Request, session: Checked) -> Response:
    request.state.session = type(session)()
    return RedirectResponse("/login", status_code=303)


@router.get("/")
async def home(session: User) -> Response:
    """Each role starts where its work is."""
    if session.role == REGIONAL:
        target = "/dashboard"
    elif session.role == MUNICIPAL:
        target = f"/dashboard/municipalities/{session.municipality}"
    elif session.role == CURATOR:
        target = f"/schools/{session.school}"
    elif session.role in PEOPLE:
        target = "/my"
    else:
        target = "/inbox"
    return RedirectResponse(target, status_code=303)
