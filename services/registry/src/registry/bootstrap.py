"""Composition root of the registry: settings, keys, vault, use cases, routes."""

from __future__ import annotations

import logging
import secrets
from datetime import date
from pathlib import Path

from fastapi import FastAPI

from mentornet_auth import Role, SigningKey, TokenIssuer
from mentornet_auth.fastapi import Authenticator, install_auth
from mentornet_spine.http import create_http_app
from mentornet_spine.idempotency import IdempotencyGate
from mentornet_spine.migrate import MigrationSet
from mentornet_spine.openapi import document_operations
from mentornet_spine.runtime import ServiceRuntime
from mentornet_spine.services import ServiceSpec
from mentornet_spine.settings import SpineSettings
from registry.adapters.tables import idempotency
from registry.adapters.vault import Vault, load_or_create_kek
from registry.api import directory, identity, participants, schools
from registry.api.errors import install_errors
from registry.api.participants import MAX_IMPORT_BYTES
from registry.application import accounts
from registry.application.context import Registry
from registry.application.schemas import AccountIn
from registry.settings import RegistrySettings

log = logging.getLogger(__name__)

SPEC = ServiceSpec(
    name="registry",
    app_factory="registry.bootstrap:create_app",
    port=8101,
    description="schools, mentor and mentee bases, identity, personal data",
)
MIGRATIONS = MigrationSet(
    Path(__file__).parent / "adapters" / "migrations" / "versions", "registry_alembic_version"
)


def create_app(settings: SpineSettings, registry_settings: RegistrySettings | None = None) -> FastAPI:
    own = registry_settings or RegistrySettings()
    key = (
        SigningKey.from_pem("registry-1", own.signing_key_pem.encode())
        if own.signing_key_pem
        else SigningKey.load_or_create(own.data_dir / "registry-signing-key.pem")
    )
    issuer = TokenIssuer([key], lifetime_s=own.token_lifetime_s)
    vault = Vault(own.kek() or load_or_create_kek(own.data_dir / "registry-kek.b64"))
    runtime = ServiceRuntime(settings, migrations=[MIGRATIONS])
    registry = Registry.create(runtime.engine, runtime.store, vault, own.region, date.today)

    async def bootstrap_operator() -> None:
        if await accounts.any_exist(registry):
            return
        password = own.bootstrap_password
        if password is None:
            password = secrets.token_urlsafe(12)
            path = own.data_dir / "registry-operator-password.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(f"{own.bootstrap_username}\n{password}\n")
            log.warning(
                "first regional operator %r created; its password is in %s", own.bootstrap_username, path
            )
        await accounts.create(
            registry,
            None,
            AccountIn(username=own.bootstrap_username, password=password, role=Role.REGIONAL_OPERATOR.value),
        )

    runtime.on_start.append(bootstrap_operator)
    # a file import may carry up to MAX_IMPORT_BYTES; the multipart framing needs a little more
    imports = (r"/schools/[^/]+/import/[^/]+", MAX_IMPORT_BYTES + 64 * 1024)
    app = create_http_app(runtime, "MentorNet — реестр", larger_bodies=[imports])
    app.state.registry = registry
    app.state.issuer = issuer

    async def local_jwks() -> dict[str, object]:
        return issuer.jwks()

    authenticator = Authenticator(local_jwks)
    install_auth(app, authenticator)
    install_errors(app)
    app.add_middleware(IdempotencyGate, engine=runtime.engine, authenticator=authenticator, table=idempotency)
    document_operations(app, idempotent=True)
    for router in (identity.router, schools.router, participants.router, directory.router):
        app.include_router(router)
    return app
