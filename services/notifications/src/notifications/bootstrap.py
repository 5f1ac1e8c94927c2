"""Composition root of the notifications service: rules, fan-out consumer, webhook dispatcher, routes."""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from pathlib import Path

import httpx
from fastapi import FastAPI

from mentornet_auth.fastapi import Authenticator, JwksSource, install_auth, jwks_from_url
from mentornet_spine.http import create_http_app
from mentornet_spine.idempotency import IdempotencyGate
from mentornet_spine.migrate import MigrationSet
from mentornet_spine.openapi import document_operations
from mentornet_spine.runtime import ServiceRuntime
from mentornet_spine.services import ServiceSpec
from mentornet_spine.settings import SpineSettings
from notifications.adapters.directory import RegistryDirectory
from notifications.adapters.dispatcher import Dispatcher
from notifications.adapters.mailer import Mailer, SmtpSettings
from notifications.adapters.tables import idempotency
from notifications.api import routes
from notifications.application.notifications import Notifications
from notifications.application.reminders import Reminders
from notifications.consumers.fanout import FanOut
from notifications.domain.rules import load_rules
from notifications.domain.webhooks import DeliveryPolicy
from notifications.settings import NotificationsSettings

log = logging.getLogger(__name__)

SPEC = ServiceSpec(
    name="notifications",
    app_factory="notifications.bootstrap:create_app",
    port=8104,
    description="inboxes, school webhooks, broadcasts",
    consumers={"notifications-fanout": ("registry", "programs", "monitoring")},
)
MIGRATIONS = MigrationSet(
    Path(__file__).parent / "adapters" / "migrations" / "versions", "notifications_alembic_version"
)


def create_app(
    settings: SpineSettings,
    notifications_settings: NotificationsSettings | None = None,
    jwks: JwksSource | None = None,
    webhook_client: httpx.AsyncClient | None = None,
    policy: DeliveryPolicy | None = None,
    registry_client: httpx.AsyncClient | None = None,
) -> FastAPI:
    own = notifications_settings or NotificationsSettings()
    email = bool(own.smtp_host and own.registry_password)
    rules = load_rules()
    runtime = ServiceRuntime(settings, handlers=[FanOut(rules, email)], migrations=[MIGRATIONS])
    reminders = Reminders(runtime.engine, rules, email)
    dispatcher = Dispatcher(
        runtime.engine,
        webhook_client,
        concurrency=own.webhook_concurrency,
        timeout_s=own.webhook_timeout_s,
        policy=policy,
    )
    mailer = None
    if email:
        assert own.smtp_host is not None and own.registry_password is not None
        directory = RegistryDirectory(
            registry_client or httpx.AsyncClient(base_url=own.registry_url, timeout=10),
            own.registry_username,
            own.registry_password,
        )
        smtp = SmtpSettings(
            own.smtp_host,
            own.smtp_port,
            own.smtp_sender,
            own.smtp_username,
            own.smtp_password,
            own.smtp_starttls,
        )
        mailer = Mailer(runtime.engine, smtp, directory, policy=policy)
    notifications = Notifications(runtime.engine, dispatcher.wake)
    stop = asyncio.Event()

    async def daily() -> None:
        await reminders.run_once(date.today())
        await notifications.make_digests()

    runtime.every(own.digest_every_s, daily, "daily-reminders-and-digest")

    async def start_dispatcher() -> None:
        stop.clear()
        tasks = [asyncio.create_task(dispatcher.run(stop), name="webhook-dispatcher")]
        if mailer is not None:
            tasks.append(asyncio.create_task(mailer.run(stop), name="mailer"))

        async def finish() -> None:
            stop.set()
            await asyncio.gather(*tasks)
            await dispatcher.close()

        runtime.on_stop.append(finish)

    runtime.on_start.append(start_dispatcher)
    app = create_http_app(runtime, "MentorNet — уведомления")
    app.state.notifications = notifications
    app.state.dispatcher = dispatcher
    app.state.reminders = reminders
    authenticator = Authenticator(
        jwks or jwks_from_url(f"{own.registry_url.rstrip('/')}/.well-known/jwks.json")
    )
    install_auth(app, authenticator)
    app.add_middleware(IdempotencyGate, engine=runtime.engine, authenticator=authenticator, table=idempotency)
    document_operations(app, idempotent=True)
    app.include_router(routes.router)
    return app
