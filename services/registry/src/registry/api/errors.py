"""The registry's own refusal on top of the shared ones (mentornet_spine.http): a bad import file."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from registry.adapters.spreadsheets import ImportFileError


def install_errors(app: FastAPI) -> None:
    @app.exception_handler(ImportFileError)
    async def bad_file(_request: Request, error: ImportFileError) -> JSONResponse:
        return JSONResponse({"detail": f"Файл не принят: {error}", "errors": []}, status_code=422)
