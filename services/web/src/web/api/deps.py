"""What every page shares: the session, role and tenant gates, CSRF, calls to the services, rendering."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from mentornet_events import format_ru
from mentornet_events.labels_ru import LABELS
from web.application.clients import ApiError, Backend
from web.application.session import Session

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))
REGIONAL = "regional_operator"
MUNICIPAL = "municipal_operator"
CURATOR = "school_curator"
MENTOR = "mentor"
MENTEE = "mentee"
OPERATORS = (REGIONAL, MUNICIPAL)
PEOPLE = (MENTOR, MENTEE)
ROLE_NAMES = {
    REGIONAL: "региональный оператор",
    MUNICIPAL: "муниципальный оператор",
    CURATOR: "куратор организации",
    MENTOR: "наставник",
    MENTEE: "наставляемый",
}
_LABELS: dict[str, str] = {str(member.value): text for member, text in LABELS.items()}


class SignInRequired(Exception):
    """No valid session: the page sends the person to sign in, then back."""


class Refused(Exception):
    """The role or tenant does not allow this page (HTTP 403, a page in Russian)."""

    def __init__(self, text: str = "У вас нет доступа к этой странице") -> None:
        super().__init__(text)
        self.text = text


def session_of(request: Request) -> Session:
    session: Session = request.state.session
    return session


def signed_in(request: Request) -> Session:
    session = session_of(request)
    if not session.signed_in:
        raise SignInRequired()
    return session


User = Annotated[Session, Depends(signed_in)]


def role(*roles: str) -> Callable[[Request], Session]:
    """A dependency that lets only these roles in."""

    def check(request: Request) -> Session:
        session = signed_in(request)
        if session.role not in roles:
            raise Refused("Эта страница недоступна для вашей роли")
        return session

    return check


def own_school(session: Session, code: str) -> None:
    """A school's staff see their own school only: any other school's page is refused."""
    if session.role in (CURATOR, MENTOR, MENTEE) and session.school != code:
        raise Refused("Это страница другой организации: у вас нет к ней доступа")
    if session.role not in (CURATOR, REGIONAL, MUNICIPAL):
        raise Refused("Эта страница недоступна для вашей роли")


async def csrf_checked(request: Request) -> Session:
    """Every form sends the session's CSRF secret (a field, or htmx's header); else 403."""
    session = session_of(request)
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, session.csrf):
        raise Refused("Форма устарела или отправлена не с этой страницы: обновите страницу и повторите")
    return session


Checked = Annotated[Session, Depends(csrf_checked)]


def backend(request: Request) -> Backend:
    found: Backend = request.app.state.backend
    return found


async def call(request: Request, service: str, method: str, path: str, **kwargs: Any) -> Any:
    """A service's answer on behalf of the signed-in person."""
    return await backend(request).call(service, method, path, session_of(request).token, **kwargs)


async def attempt(
    request: Request, action: Callable[[], Awaitable[Any]], done: str, back: str
) -> RedirectResponse:
    """Run a form's action; its refusal (409, 422) goes back to the form as a message, not an error page."""
    session = session_of(request)
    try:
        await action()
    except ApiError as error:
        if error.status not in (409, 422):
            raise
        session.say(error.detail, "error")
    else:
        session.say(done)
    return RedirectResponse(back, status_code=303)


def label(value: Any) -> str:
    if value is None:
        return "—"
    return _LABELS.get(str(value), str(value))


def ru_date(value: Any) -> str:
    if not value:
        return "—"
    return format_ru.day(value if isinstance(value, date) else date.fromisoformat(str(value)[:10]))


def percent(value: Any) -> str:
    return format_ru.percent(None if value is None else float(value))


def number(value: Any, digits: int = 2) -> str:
    return format_ru.number(value, digits)


TEMPLATES.env.filters.update(label=label, ru_date=ru_date, percent=percent, number=number)
TEMPLATES.env.globals.update(role_names=ROLE_NAMES)


def render(request: Request, template: str, status_code: int = 200, /, **context: Any) -> HTMLResponse:
    session = session_of(request)
    context.update(
        session=session,
        flash=session.take_flash(),
        csrf=session.csrf,
        today=date.today(),
        region_name=request.app.state.region[0],
        moment=lambda value: format_ru.moment(value, request.app.state.region[1]),
    )
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)
