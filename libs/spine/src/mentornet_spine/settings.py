"""Settings every service process reads from its environment (12-factor; no secrets in code)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from mentornet_events import Subjects


class SpineSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service: str = Field(default="mentornet", validation_alias="MENTORNET_SERVICE")
    #: one URL, or several separated by commas (the nodes of a cluster; any one answering will do)
    nats_url: str = Field(default="nats://127.0.0.1:4222", validation_alias="NATS_URL")
    #: seconds between client pings; a network that goes silent is noticed after
    #: ``ping_interval × max_outstanding_pings`` and the client reconnects (nats-py's default is 2 min)
    nats_ping_interval: float = Field(default=10.0, gt=0, validation_alias="NATS_PING_INTERVAL")
    nats_max_outstanding_pings: int = Field(default=2, ge=1, validation_alias="NATS_MAX_OUTSTANDING_PINGS")
    nats_reconnect_wait: float = Field(default=1.0, gt=0, validation_alias="NATS_RECONNECT_WAIT")
    nats_connect_timeout: float = Field(default=2.0, gt=0, validation_alias="NATS_CONNECT_TIMEOUT")
    #: seconds a fetched event may stay unacknowledged before JetStream redelivers it
    consumer_ack_wait: float = Field(default=30.0, gt=0, validation_alias="MENTORNET_CONSUMER_ACK_WAIT")
    #: seconds a consumer waits after a small batch before fetching again (0: never): fewer, larger
    #: transactions under a steady trickle of events, at most this much later
    consumer_linger: float = Field(default=0.2, ge=0, le=5, validation_alias="MENTORNET_CONSUMER_LINGER")
    database_url: str = Field(
        default="sqlite+aiosqlite:///.data/mentornet.db", validation_alias="DATABASE_URL"
    )
    database_schema: str | None = Field(default=None, validation_alias="DATABASE_SCHEMA")
    #: PostgreSQL connections kept open (as many again may open under load)
    database_pool_size: int = Field(default=10, ge=1, le=500, validation_alias="DATABASE_POOL_SIZE")
    #: what pg_stat_activity shows for this process's connections (default ``mentornet-<service>``)
    database_application_name: str | None = Field(default=None, validation_alias="DATABASE_APPLICATION_NAME")
    subject_root: str = Field(default="mentornet", validation_alias="MENTORNET_SUBJECT_ROOT")
    stream_replicas: int = Field(default=1, ge=1, le=5, validation_alias="MENTORNET_STREAM_REPLICAS")
    #: the region people read about: its name on pages and reports, its zone for every time shown
    region_name: str = Field(default="Иркутская область", validation_alias="MENTORNET_REGION_NAME")
    timezone: str = Field(default="Asia/Irkutsk", validation_alias="MENTORNET_TIMEZONE")
    host: str = Field(default="127.0.0.1", validation_alias="HOST")
    #: seconds between the relay's comparisons of its stream with the store (broker data loss)
    relay_reconcile_every: float = Field(
        default=60.0, gt=0, validation_alias="MENTORNET_RELAY_RECONCILE_EVERY"
    )
    port: int = Field(default=8000, validation_alias=AliasChoices("PORT", "MENTORNET_PORT"))
    otlp_endpoint: str | None = Field(default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    otel_console: bool = Field(default=False, validation_alias="MENTORNET_OTEL_CONSOLE")
    #: seconds between metric exports, and between samples of consumer lag and outbox backlog
    metrics_interval: float = Field(default=15.0, gt=0, validation_alias="MENTORNET_METRICS_INTERVAL")
    log_json: bool = Field(default=True, validation_alias="MENTORNET_LOG_JSON")
    #: the service's NATS user (deploy/nats/accounts.conf); none on the embedded broker
    nats_user: str | None = Field(default=None, validation_alias="NATS_USER")
    nats_password: SecretStr | None = Field(default=None, validation_alias="NATS_PASSWORD")
    #: TLS to the broker: the CA that signed the servers' certificates, and a client certificate
    #: where the servers verify clients
    nats_ca_file: str | None = Field(default=None, validation_alias="NATS_CA_FILE")
    nats_cert_file: str | None = Field(default=None, validation_alias="NATS_CERT_FILE")
    nats_key_file: str | None = Field(default=None, validation_alias="NATS_KEY_FILE")
    #: create or update the streams at start; off where a provisioner job (``mentornet streams``)
    #: owns them and the service's NATS user may not touch stream configuration
    provision_streams: bool = Field(default=True, validation_alias="MENTORNET_PROVISION_STREAMS")
    #: ``json`` (one object a line, with trace ids) or ``text``; overrides MENTORNET_LOG_JSON when set
    log_format: Literal["json", "text"] | None = Field(default=None, validation_alias="LOG_FORMAT")

    @property
    def json_logs(self) -> bool:
        return self.log_format == "json" if self.log_format else self.log_json

    @property
    def subjects(self) -> Subjects:
        return Subjects(self.subject_root)
