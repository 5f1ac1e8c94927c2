"""Settings every service process reads from its environment (12-factor; no secrets in code)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mentornet_events import Subjects


class SpineSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service: str = Field(default="mentornet", validation_alias="MENTORNET_SERVICE")
    nats_url: str = Field(default="nats://127.0.0.1:4222", validation_alias="NATS_URL")
    database_url: str = Field(
        default="sqlite+aiosqlite:///.data/mentornet.db", validation_alias="DATABASE_URL"
    )
    database_schema: str | None = Field(default=None, validation_alias="DATABASE_SCHEMA")
    #: PostgreSQL connections kept open (as many again may open under load)
    database_pool_size: int = Field(default=10, ge=1, le=500, validation_alias="DATABASE_POOL_SIZE")
    subject_root: str = Field(default="mentornet", validation_alias="MENTORNET_SUBJECT_ROOT")
    stream_replicas: int = Field(default=1, ge=1, le=5, validation_alias="MENTORNET_STREAM_REPLICAS")
    host: str = Field(default="127.0.0.1", validation_alias="HOST")
    port: int = Field(default=8000, validation_alias=AliasChoices("PORT", "MENTORNET_PORT"))
    otlp_endpoint: str | None = Field(default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    otel_console: bool = Field(default=False, validation_alias="MENTORNET_OTEL_CONSOLE")
    log_json: bool = Field(default=True, validation_alias="MENTORNET_LOG_JSON")

    @property
    def subjects(self) -> Subjects:
        return Subjects(self.subject_root)
