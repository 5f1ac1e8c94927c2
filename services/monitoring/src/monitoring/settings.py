"""The monitoring service's own settings, beside the spine's."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MonitoringSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    region: str = Field(default="38", validation_alias="MENTORNET_REGION")
    #: where the registry publishes its token keys (JWKS)
    registry_url: str = Field(default="http://127.0.0.1:8101", validation_alias="MENTORNET_REGISTRY_URL")
    #: counts below this are withheld from the federal feed
    suppression_threshold: int = Field(default=5, ge=2, validation_alias="MONITORING_SUPPRESSION_THRESHOLD")
    #: how often schools' indicators are checked for newly broken risk rules
    risk_check_every_s: float = Field(default=86_400, gt=0, validation_alias="MONITORING_RISK_CHECK_EVERY")
    #: a reader waits this long for new figures before getting the previous ones (with their as_of)
    fresh_budget_ms: float = Field(default=50, ge=0, validation_alias="MONITORING_FRESH_BUDGET_MS")
    #: figures older than this are never served: the reader waits for new ones
    max_staleness_s: float = Field(default=60, ge=0, validation_alias="MONITORING_MAX_STALENESS")
    #: how often figures asked for recently are recomputed when events moved the positions
    refresh_every_s: float = Field(default=2, gt=0, validation_alias="MONITORING_REFRESH_EVERY")
