"""How every long-lived connection of a service to NATS is made (the broker's and the relay's).

Kept in one function so that a service reconnects the same way everywhere: forever (a broker
that is away for a while must not leave a service that has given up), to any node of the
cluster, and with pings frequent enough that a network gone silent without closing the TCP
connection is noticed in seconds rather than nats-py's default of minutes.
"""

from __future__ import annotations

from typing import Any

from mentornet_spine.settings import SpineSettings


def nats_options(settings: SpineSettings, name: str) -> dict[str, Any]:
    """Keyword arguments for ``nats.connect`` and ``NatsBroker`` (both take the same ones)."""
    return {
        "servers": settings.nats_servers,
        "name": name,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": settings.nats_reconnect_wait,
        "connect_timeout": settings.nats_connect_timeout,
        "ping_interval": settings.nats_ping_interval,
        "max_outstanding_pings": settings.nats_max_outstanding_pings,
    }
