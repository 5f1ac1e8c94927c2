"""The notifications service's own settings, beside the spine's."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotificationsSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    registry_url: str = Field(default="http://127.0.0.1:8101", validation_alias="MENTORNET_REGISTRY_URL")
    #: webhook sends in flight at once, and how long one may take
    webhook_concurrency: int = Field(
        default=100, ge=1, le=2000, validation_alias="NOTIFICATIONS_WEBHOOK_CONCURRENCY"
    )
    webhook_timeout_s: float = Field(
        default=5.0, gt=0, le=60, validation_alias="NOTIFICATIONS_WEBHOOK_TIMEOUT"
    )
    #: how often the digest of low-priority messages is made (once a day)
    digest_every_s: float = Field(default=86_400, gt=0, validation_alias="NOTIFICATIONS_DIGEST_EVERY")
    #: SMTP for e-mail; without a host the e-mail channel is off
    smtp_host: str | None = Field(default=None, validation_alias="NOTIFICATIONS_SMTP_HOST")
    smtp_port: int = Field(default=25, validation_alias="NOTIFICATIONS_SMTP_PORT")
    smtp_sender: str = Field(
        default="MentorNet <noreply@mentornet.local>", validation_alias="NOTIFICATIONS_SMTP_FROM"
    )
    smtp_username: str | None = Field(default=None, validation_alias="NOTIFICATIONS_SMTP_USERNAME")
    smtp_password: str | None = Field(default=None, validation_alias="NOTIFICATIONS_SMTP_PASSWORD")
    smtp_starttls: bool = Field(default=False, validation_alias="NOTIFICATIONS_SMTP_STARTTLS")
    #: the registry account (role "service") that may ask for addresses
    registry_username: str = Field(
        default="notifications", validation_alias="NOTIFICATIONS_REGISTRY_USERNAME"
    )
    registry_password: str | None = Field(default=None, validation_alias="NOTIFICATIONS_REGISTRY_PASSWORD")
