"""Dependencies shared by the monitoring service's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from monitoring.application.monitoring import Monitoring


async def get_monitoring(request: Request) -> Monitoring:
    monitoring: Monitoring = request.app.state.monitoring
    return monitoring


MonitoringDep = Annotated[Monitoring, Depends(get_monitoring)]


def wants_fresh(cache_control: Annotated[str | None, Header()] = None) -> bool:
    """``Cache-Control: no-cache`` asks for figures at the current positions, however long they take."""
    return cache_control is not None and "no-cache" in cache_control.lower()


FreshDep = Annotated[bool, Depends(wants_fresh)]
