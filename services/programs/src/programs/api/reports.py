"""The programme's yearly report (XLSX) for the school head."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from mentornet_auth.fastapi import CurrentPrincipal
from mentornet_auth.principal import Role, may
from programs.adapters.report_xlsx import render_xlsx
from programs.api.deps import ProgramsDep
from programs.application import views

router = APIRouter(tags=["reports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/programmes/{programme_id}/report.xlsx",
    summary="Годовой отчёт по программе (XLSX)",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
    openapi_extra=may(Role.REGIONAL_OPERATOR, Role.MUNICIPAL_OPERATOR, Role.SCHOOL, Role.SCHOOL_CURATOR),
)
async def yearly_report(programme_id: UUID, principal: CurrentPrincipal, programs: ProgramsDep) -> Response:
    data = await views.report_data(programs, principal, programme_id)
    return Response(
        render_xlsx(data),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="programme-{programme_id}.xlsx"'},
    )
