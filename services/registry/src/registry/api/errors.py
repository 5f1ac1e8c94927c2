"""Domain refusals and validation errors as HTTP answers with Russian messages and field paths."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from mentornet_spine.store import ConcurrencyConflict
from registry.application.importing import ImportFileError
from registry.application.validation import ru_errors
from registry.domain.errors import DomainError, InvalidCommand


def install_errors(app: FastAPI) -> None:
    @app.exception_handler(ConcurrencyConflict)
    async def stale(_request: Request, error: ConcurrencyConflict) -> JSONResponse:
        detail = (
            f"Данные уже изменил кто-то другой (ожидалась версия {error.expected}, сейчас {error.actual}); "
            "обновите их и повторите действие"
        )
        return JSONResponse({"detail": detail}, status_code=409)

    @app.exception_handler(DomainError)
    async def conflict(_request: Request, error: DomainError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=409)

    @app.exception_handler(InvalidCommand)
    async def invalid(_request: Request, error: InvalidCommand) -> JSONResponse:
        errors = [{"field": error.field or "<body>", "message": str(error)}]
        return JSONResponse({"detail": str(error), "errors": errors}, status_code=422)

    @app.exception_handler(ImportFileError)
    async def bad_file(_request: Request, error: ImportFileError) -> JSONResponse:
        return JSONResponse({"detail": f"Файл не принят: {error}", "errors": []}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        errors = ru_errors(list(error.errors()))
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse({"detail": f"Проверьте данные — {summary}", "errors": errors}, status_code=422)
