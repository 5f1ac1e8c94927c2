"""Inbox, school webhooks and delivery log, broadcasts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from mentornet_auth.fastapi import CurrentPrincipal
from mentornet_auth.principal import Role, may
from notifications.application.notifications import BroadcastIn, Notifications, PreferenceIn, WebhookIn

router = APIRouter(tags=["notifications"])


async def get_notifications(request: Request) -> Notifications:
    notifications: Notifications = request.app.state.notifications
    return notifications


NotificationsDep = Annotated[Notifications, Depends(get_notifications)]


@router.get(
    "/inbox",
    summary="Входящие сообщения",
    openapi_extra=may(
        Role.REGIONAL_OPERATOR,
        Role.MUNICIPAL_OPERATOR,
        Role.SCHOOL,
        Role.SCHOOL_CURATOR,
        Role.MENTOR,
        Role.MENTEE,
    ),
)
async def inbox(
    principal: CurrentPrincipal,
    notifications: NotificationsDep,
    unread: bool = False,
    limit: int = Query(default=50, ge=1, le=500),
) -> list[dict[str, Any]]:
    return await notifications.inbox(principal, unread, limit)


@router.get(
    "/inbox/unread-count",
    summary="Число непрочитанных",
    openapi_extra=may(
        Role.REGIONAL_OPERATOR,
        Role.MUNICIPAL_OPERATOR,
        Role.SCHOOL,
        Role.SCHOOL_CURATOR,
        Role.MENTOR,
        Role.MENTEE,
    ),
)
async def unread_count(principal: CurrentPrincipal, notifications: NotificationsDep) -> dict[str, int]:
    return {"unread": await notifications.unread(principal)}


@router.post(
    "/inbox/{message_id}/read",
    status_code=204,
    summary="Отметить прочитанным",
    openapi_extra=may(
        Role.REGIONAL_OPERATOR,
        Role.MUNICIPAL_OPERATOR,
        Role.SCHOOL,
        Role.SCHOOL_CURATOR,
        Role.MENTOR,
        Role.MENTEE,
    ),
)
async def mark_read(message_id: UUID, principal: CurrentPrincipal, notifications: NotificationsDep) -> None:
    await notifications.mark_read(principal, message_id)


@router.get(
    "/preferences",
    summary="Мои настройки уведомлений",
    openapi_extra=may(
        Role.REGIONAL_OPERATOR,
        Role.MUNICIPAL_OPERATOR,
        Role.SCHOOL,
        Role.SCHOOL_CURATOR,
        Role.MENTOR,
        Role.MENTEE,
    ),
)
async def get_preferences(
    principal: CurrentPrincipal, notifications: NotificationsDep
) -> list[dict[str, Any]]:
    return await notifications.preferences(principal)


@router.put(
    "/preferences",
    status_code=204,
    summary="Настроить канал: отказ от необязательных, сводка",
    openapi_extra=may(
        Role.REGIONAL_OPERATOR,
        Role.MUNICIPAL_OPERATOR,
        Role.SCHOOL,
        Role.SCHOOL_CURATOR,
        Role.MENTOR,
        Role.MENTEE,
    ),
)
async def set_preference(
    data: PreferenceIn, principal: CurrentPrincipal, notifications: NotificationsDep
) -> None:
    await notifications.set_preference(principal, data)


@router.put(
    "/schools/{code}/webhook",
    summary="Адрес для уведомлений системы организации",
    openapi_extra=may(Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def set_webhook(
    code: str, data: WebhookIn, principal: CurrentPrincipal, notifications: NotificationsDep
) -> dict[str, str]:
    return asdict(await notifications.set_webhook(principal, code, data))


@router.get(
    "/schools/{code}/webhook",
    summary="Адрес для уведомлений и состояние его цепи",
    openapi_extra=may(Role.REGIONAL_OPERATOR, Role.MUNICIPAL_OPERATOR, Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def get_webhook(
    code: str, principal: CurrentPrincipal, notifications: NotificationsDep
) -> dict[str, Any]:
    return await notifications.webhook(principal, code)


@router.get(
    "/schools/{code}/deliveries",
    summary="Журнал доставки организации",
    openapi_extra=may(Role.REGIONAL_OPERATOR, Role.MUNICIPAL_OPERATOR, Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def delivery_log(
    code: str,
    principal: CurrentPrincipal,
    notifications: NotificationsDep,
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    return await notifications.delivery_log(principal, code, limit)


@router.post(
    "/broadcasts",
    status_code=201,
    summary="Рассылка организациям региона или муниципалитета",
    openapi_extra=may(Role.REGIONAL_OPERATOR, Role.MUNICIPAL_OPERATOR),
)
async def broadcast(
    data: BroadcastIn, principal: CurrentPrincipal, notifications: NotificationsDep
) -> dict[str, Any]:
    return asdict(await notifications.broadcast(principal, data))


@router.get(
    "/broadcasts/{broadcast_id}",
    summary="Состояние рассылки по организациям",
    openapi_extra=may(Role.REGIONAL_OPERATOR, Role.MUNICIPAL_OPERATOR),
)
async def broadcast_status(
    broadcast_id: UUID, principal: CurrentPrincipal, notifications: NotificationsDep
) -> dict[str, Any]:
    return await notifications.broadcast_status(principal, broadcast_id)
