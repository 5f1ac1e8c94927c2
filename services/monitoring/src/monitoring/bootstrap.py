"""Composition root of the monitoring service: the facts projection, indicators, the federal feed."""

from __future__ import annotations

from datetime import date

from fastapi import FastAPI

from mentornet_auth.fastapi import Authenticator, JwksSource, install_auth, jwks_from_url
from mentornet_spine.http import create_http_app
from mentornet_spine.openapi import document_operations
from mentornet_spine.projection import Projection
from mentornet_spine.runtime import ServiceRuntime
from mentornet_spine.services import ServiceSpec
from mentornet_spine.settings import SpineSettings
from monitoring.api import indicators, reports
from monitoring.application.monitoring import Monitoring
from monitoring.application.risk_watch import RiskWatch
from monitoring.consumers.facts import MonitoringFacts
from monitoring.settings import MonitoringSettings

SPEC = ServiceSpec(
    name="monitoring",
    app_factory="monitoring.bootstrap:create_app",
    port=8103,
    description="region-wide indicators for the outer contour, the federal feed",
    projections="monitoring.bootstrap:projections",
    consumers={"monitoring-facts": ("registry", "programs")},
)


def projections() -> list[Projection]:
    return [MonitoringFacts()]


def create_app(
    settings: SpineSettings,
    monitoring_settings: MonitoringSettings | None = None,
    jwks: JwksSource | None = None,
) -> FastAPI:
    own = monitoring_settings or MonitoringSettings()
    facts = MonitoringFacts()
    runtime = ServiceRuntime(settings, handlers=[facts])
    monitoring = Monitoring(
        runtime.engine,
        runtime.store,
        facts,
        own.region,
        date.today,
        own.suppression_threshold,
        fresh_budget_s=own.fresh_budget_ms / 1000,
        max_staleness_s=own.max_staleness_s,
        region_name=settings.region_name,
    )
    runtime.every(own.refresh_every_s, monitoring.refresh, "refresh-figures")
    risk_watch = RiskWatch(runtime.engine, runtime.store, facts, own.region, date.today)
    runtime.every(own.risk_check_every_s, risk_watch.run_once, "risk-watch")
    app = create_http_app(runtime, "MentorNet — мониторинг")
    document_operations(app, idempotent=False)  # monitoring keeps no idempotency keys
    app.state.monitoring = monitoring
    app.state.risk_watch = risk_watch
    install_auth(
        app, Authenticator(jwks or jwks_from_url(f"{own.registry_url.rstrip('/')}/.well-known/jwks.json"))
    )
    app.include_router(indicators.router)
    app.include_router(reports.router)
    return app
