"""Composition root of the programs service: settings, use cases, consumers, routes, the overdue check."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from fastapi import FastAPI

from mentornet_auth.fastapi import Authenticator, JwksSource, install_auth, jwks_from_url
from mentornet_spine.http import create_http_app
from mentornet_spine.idempotency import IdempotencyGate
from mentornet_spine.migrate import MigrationSet
from mentornet_spine.openapi import document_operations
from mentornet_spine.runtime import ServiceRuntime
from mentornet_spine.services import ServiceSpec
from mentornet_spine.settings import SpineSettings
from programs.adapters.tables import idempotency
from programs.api import pairs, programmes, reports
from programs.application import roadmaps
from programs.application.context import Programs
from programs.consumers.eligibility import EligibilityHandler
from programs.settings import ProgramsSettings

log = logging.getLogger(__name__)

SPEC = ServiceSpec(
    name="programs",
    app_factory="programs.bootstrap:create_app",
    port=8102,
    description="programmes, matching and pairs, roadmaps, meetings and feedback",
    consumers={"programs-eligibility": ("registry",)},
    # on a laptop (and in the demo) an item past its due date shows as overdue within a minute
    extra_env={"PROGRAMS_OVERDUE_CHECK_EVERY": "60"},
)
MIGRATIONS = MigrationSet(
    Path(__file__).parent / "adapters" / "migrations" / "versions", "programs_alembic_version"
)


def create_app(
    settings: SpineSettings,
    programs_settings: ProgramsSettings | None = None,
    jwks: JwksSource | None = None,
) -> FastAPI:
    own = programs_settings or ProgramsSettings()
    runtime = ServiceRuntime(settings, handlers=[EligibilityHandler()], migrations=[MIGRATIONS])
    programs = Programs.create(runtime.engine, runtime.store, date.today)

    async def overdue_check() -> None:
        if raised := await roadmaps.check_overdue(programs):
            log.info("roadmap items overdue: %d reported", raised)

    runtime.every(own.overdue_check_every_s, overdue_check, "overdue-check")
    app = create_http_app(runtime, "MentorNet — программы наставничества")
    app.state.programs = programs
    authenticator = Authenticator(
        jwks or jwks_from_url(f"{own.registry_url.rstrip('/')}/.well-known/jwks.json")
    )
    install_auth(app, authenticator)
    app.add_middleware(IdempotencyGate, engine=runtime.engine, authenticator=authenticator, table=idempotency)
    document_operations(app, idempotent=True)
    for router in (programmes.router, pairs.router, reports.router):
        app.include_router(router)
    return app
