"""Dependencies shared by the monitoring service's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from monitoring.application.monitoring import Monitoring


async def get_monitoring(request: Request) -> Monitoring:
    monitoring: Monitoring = request.app.state.monitoring
    return monitoring


MonitoringDep = Annotated[Monitoring, Depends(get_monitoring)]
