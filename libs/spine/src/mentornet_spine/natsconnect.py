"""Every NATS connection of the spine opens here: servers, credentials, TLS and a private inbox.

Production brokers (``deploy/nats/accounts.conf``) admit a service only as its own user, let it
subscribe only to replies under ``_INBOX_<user>`` (so no service reads another's replies or pull
deliveries) and may require TLS. One helper keeps ``nats.connect`` and faststream's broker in step.

A service's long-lived connections (the broker's and the relay's) also reconnect the same way
everywhere: forever (a broker away for a while must not leave a service that has given up), to
any node of the cluster, with pings frequent enough that a network gone silent without closing
the TCP connection is noticed in seconds rather than nats-py's default of minutes.
"""

from __future__ import annotations

import ssl
from typing import Any

import nats
from faststream.nats.security import NatsSecurity, NatsUserPassword
from nats.aio.client import Client

from mentornet_spine.settings import SpineSettings

DEFAULT_INBOX_PREFIX = "_INBOX"


def servers(url: str) -> list[str]:
    """``NATS_URL`` may list the cluster's nodes separated by commas (nats-py wants a list)."""
    return [part.strip() for part in url.split(",") if part.strip()]


def inbox_prefix(user: str | None) -> str:
    """The reply subjects a user may subscribe to; ``_INBOX`` without a user (embedded broker)."""
    return f"{DEFAULT_INBOX_PREFIX}_{user}" if user else DEFAULT_INBOX_PREFIX


def tls_context(settings: SpineSettings) -> ssl.SSLContext | None:
    """A client TLS context when a CA or a client certificate is configured, else plain TCP."""
    if not (settings.nats_ca_file or settings.nats_cert_file):
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=settings.nats_ca_file)
    if settings.nats_cert_file:
        context.load_cert_chain(settings.nats_cert_file, settings.nats_key_file)
    return context


def _password(settings: SpineSettings) -> str:
    return settings.nats_password.get_secret_value() if settings.nats_password else ""


def connect_options(settings: SpineSettings) -> dict[str, Any]:
    """Keyword arguments for ``nats.connect`` (servers excluded)."""
    options: dict[str, Any] = {"inbox_prefix": inbox_prefix(settings.nats_user)}
    if settings.nats_user:
        options["user"] = settings.nats_user
        options["password"] = _password(settings)
    if (context := tls_context(settings)) is not None:
        options["tls"] = context
    return options


def broker_options(settings: SpineSettings) -> dict[str, Any]:
    """Keyword arguments for faststream's ``NatsBroker`` (servers excluded)."""
    context = tls_context(settings)
    security: NatsSecurity | None = None
    if settings.nats_user:
        security = NatsUserPassword(
            username=settings.nats_user, password=_password(settings), ssl_context=context
        )
    elif context is not None:
        security = NatsSecurity(ssl_context=context)
    options: dict[str, Any] = {"inbox_prefix": inbox_prefix(settings.nats_user)}
    if security is not None:
        options["security"] = security
    return options


def resilience(settings: SpineSettings, name: str) -> dict[str, Any]:
    """Keyword arguments of a long-lived connection, for ``nats.connect`` and ``NatsBroker`` alike."""
    return {
        "name": name,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": settings.nats_reconnect_wait,
        "connect_timeout": settings.nats_connect_timeout,
        "ping_interval": settings.nats_ping_interval,
        "max_outstanding_pings": settings.nats_max_outstanding_pings,
    }


async def connect(settings: SpineSettings, url: str | None = None, **options: Any) -> Client:
    """``nats.connect`` with the settings' servers (or ``url``), credentials, TLS and inbox prefix."""
    return await nats.connect(servers(url or settings.nats_url), **(connect_options(settings) | options))
