"""The inbox: a person's own messages, a school's, an operator's level (the notifications service)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from web.api.deps import Checked, User, attempt, call, render

router = APIRouter()


@router.get("/inbox")
async def inbox(request: Request, _session: User) -> Response:
    messages = await call(request, "notifications", "GET", "/inbox", params={"limit": 100})
    return render(request, "inbox.html", messages=messages)


@router.post("/inbox/{message_id}/read")
async def mark_read(request: Request, message_id: str, _session: User, _checked: Checked) -> Response:
    if request.headers.get("hx-request"):
        await call(request, "notifications", "POST", f"/inbox/{message_id}/read")
        return Response('<span class="read">прочитано</span>', media_type="text/html")
    return await attempt(
        request,
        lambda: call(request, "notifications", "POST", f"/inbox/{message_id}/read"),
        "Сообщение отмечено прочитанным",
        "/inbox",
    )
