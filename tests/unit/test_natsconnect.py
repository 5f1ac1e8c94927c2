"""The one NATS connect helper: cluster URLs, the user's credentials and its own inbox prefix."""

from __future__ import annotations

import pytest
from faststream.nats.security import NatsUserPassword

from mentornet_spine.natsconnect import broker_options, connect_options, inbox_prefix, servers
from mentornet_spine.settings import SpineSettings


def test_nats_url_lists_the_cluster_nodes() -> None:
    assert servers("nats://nats-1:4222, nats://nats-2:4222,nats://nats-3:4222") == [
        "nats://nats-1:4222",
        "nats://nats-2:4222",
        "nats://nats-3:4222",
    ]
    assert servers("nats://127.0.0.1:4222") == ["nats://127.0.0.1:4222"]


def test_without_a_user_the_embedded_defaults_stay() -> None:
    settings = SpineSettings(nats_user=None)
    assert connect_options(settings) == {"inbox_prefix": "_INBOX"}
    assert broker_options(settings) == {"inbox_prefix": "_INBOX"}


def test_a_user_gets_its_credentials_and_its_own_inbox() -> None:
    settings = SpineSettings(nats_user="registry", nats_password="p0secret")
    options = connect_options(settings)
    assert options == {"inbox_prefix": "_INBOX_registry", "user": "registry", "password": "p0secret"}
    assert inbox_prefix("registry") == "_INBOX_registry"
    broker = broker_options(settings)
    assert broker["inbox_prefix"] == "_INBOX_registry"
    security = broker["security"]
    assert isinstance(security, NatsUserPassword)
    assert (security.username, security.password) == ("registry", "p0secret")
    assert "p0secret" not in repr(settings), "the password is a SecretStr"


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NATS_USER", "programs")
    monkeypatch.setenv("NATS_PASSWORD", "p1")
    monkeypatch.setenv("NATS_CA_FILE", "/etc/nats/tls/ca.crt")
    monkeypatch.setenv("MENTORNET_PROVISION_STREAMS", "false")
    settings = SpineSettings()
    assert settings.nats_user == "programs"
    assert settings.nats_password is not None and settings.nats_password.get_secret_value() == "p1"
    assert settings.nats_ca_file == "/etc/nats/tls/ca.crt"
    assert settings.provision_streams is False
