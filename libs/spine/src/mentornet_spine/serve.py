"""Run one service process: ``python -m mentornet_spine.serve <service>`` (what ``mentornet up`` spawns)."""

from __future__ import annotations

import sys

import uvicorn

from mentornet_spine.services import discover_services, find_service
from mentornet_spine.settings import SpineSettings
from mentornet_spine.telemetry import setup_logging, setup_telemetry


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m mentornet_spine.serve <service>")
    spec = find_service(argv[0])
    if spec is None:
        known = ", ".join(s.name for s in discover_services())
        raise SystemExit(f"unknown service {argv[0]!r}; known: {known or 'none'}")
    settings = SpineSettings(service=spec.name)
    setup_logging(settings)
    setup_telemetry(settings)
    app = spec.create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
