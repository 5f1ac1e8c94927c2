"""The programs service's own settings, beside the spine's."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ProgramsSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    #: where the registry publishes its token keys (JWKS)
    registry_url: str = Field(default="http://127.0.0.1:8101", validation_alias="MENTORNET_REGISTRY_URL")
    #: how often the overdue check of roadmap items runs
    overdue_check_every_s: float = Field(
        default=3600.0, gt=0, validation_alias="PROGRAMS_OVERDUE_CHECK_EVERY"
    )
