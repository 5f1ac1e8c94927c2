"""Dependencies shared by the programs service's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from programs.application.context import Programs


async def get_programs(request: Request) -> Programs:
    programs: Programs = request.app.state.programs
    return programs


ProgramsDep = Annotated[Programs, Depends(get_programs)]
