"""The registry's own settings, beside the spine's; secrets come from the environment or files."""

from __future__ import annotations

import base64
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RegistrySettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    region: str = Field(default="38", validation_alias="MENTORNET_REGION")
    data_dir: Path = Field(default=Path(".data"), validation_alias="MENTORNET_DATA_DIR")
    #: PEM of the Ed25519 signing key; without it the embedded system keeps one in data_dir
    signing_key_pem: str | None = Field(default=None, validation_alias="REGISTRY_SIGNING_KEY")
    #: base64 of the 256-bit key that wraps participants' data keys; same fallback
    kek_base64: str | None = Field(default=None, validation_alias="REGISTRY_KEK")
    token_lifetime_s: int = Field(default=900, ge=60, le=3600, validation_alias="REGISTRY_TOKEN_LIFETIME")
    bootstrap_username: str = Field(default="operator", validation_alias="REGISTRY_BOOTSTRAP_USERNAME")
    bootstrap_password: str | None = Field(default=None, validation_alias="REGISTRY_BOOTSTRAP_PASSWORD")

    def kek(self) -> bytes | None:
        return base64.b64decode(self.kek_base64) if self.kek_base64 else None
