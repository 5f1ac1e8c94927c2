"""The web pages' own settings: where the services answer, and the session's signing secret."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    registry_url: str = Field(default="http://127.0.0.1:8101", validation_alias="MENTORNET_REGISTRY_URL")
    programs_url: str = Field(default="http://127.0.0.1:8102", validation_alias="MENTORNET_PROGRAMS_URL")
    monitoring_url: str = Field(default="http://127.0.0.1:8103", validation_alias="MENTORNET_MONITORING_URL")
    notifications_url: str = Field(
        default="http://127.0.0.1:8104", validation_alias="MENTORNET_NOTIFICATIONS_URL"
    )
    data_dir: Path = Field(default=Path(".data"), validation_alias="MENTORNET_DATA_DIR")
    #: signs the session cookie; production passes it, the embedded system keeps one in data_dir
    session_secret: str | None = Field(default=None, min_length=32, validation_alias="WEB_SESSION_SECRET")
    #: the cookie only over HTTPS (production behind TLS); the embedded system serves plain HTTP
    secure_cookies: bool = Field(default=False, validation_alias="WEB_SECURE_COOKIES")
    #: seconds to wait for a service before the page says it is unavailable
    backend_timeout_s: float = Field(default=30.0, gt=0, validation_alias="WEB_BACKEND_TIMEOUT")

    def secret(self) -> bytes:
        """The configured secret, else one generated on first start into the data dir (0600)."""
        if self.session_secret:
            return self.session_secret.encode()
        path = self.data_dir / "web-session-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()
