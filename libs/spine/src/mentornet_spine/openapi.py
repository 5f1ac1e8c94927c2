"""What every service's OpenAPI says of each operation beyond FastAPI's own: who may call it, and
that a command can be retried safely with an ``Idempotency-Key``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from mentornet_auth.principal import ROLE_RU, ROLES_EXTRA, Role

COMMANDS = ("post", "put", "patch", "delete")
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": "Ключ повтора: тот же запрос с тем же ключом в течение суток получает первый ответ "
    "и ничего не меняет второй раз (другой запрос с этим ключом — 422).",
}


def _roles_text(roles: list[str]) -> str:
    if roles == ["*"]:
        return "Кто может вызвать: любой, без входа."
    return "Кто может вызвать: " + ", ".join(ROLE_RU[Role(r)] for r in roles) + "."


def document_operations(app: FastAPI, idempotent: bool) -> None:
    """Extend the app's OpenAPI once: the roles in each description, the key on each command."""
    built = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = built()
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                roles = operation.get(ROLES_EXTRA)
                if roles:
                    described = operation.get("description", "")
                    operation["description"] = f"{described}\n\n{_roles_text(roles)}".strip()
                if idempotent and method in COMMANDS:
                    parameters = operation.setdefault("parameters", [])
                    if not any(p.get("name") == IDEMPOTENCY_KEY["name"] for p in parameters):
                        parameters.append(dict(IDEMPOTENCY_KEY))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
