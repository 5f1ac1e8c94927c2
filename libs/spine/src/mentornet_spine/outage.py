"""Tell an outage (the database or the network is away for a while) from a failure of the event.

A handler that fails because PostgreSQL dropped its connection, restarted, or cannot be reached
has done nothing wrong with the event: redelivering it spends one of its bounded attempts, and
a long enough outage would send perfectly good events to the dead-letter subject. The consumer
asks this module and, for an outage, waits and retries the same batch instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

#: SQLSTATE classes and codes that mean "the server or the connection", never "this statement"
_OUTAGE_SQLSTATE_CLASSES = ("08",)  # connection exception
_OUTAGE_SQLSTATES = frozenset(
    {
        "57P01",  # admin_shutdown (pg_terminate_backend, a restart)
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now (starting up, shutting down)
        "53300",  # too_many_connections
        "40001",  # serialization_failure: retrying the same work is the documented remedy
        "40P01",  # deadlock_detected: likewise
    }
)
_OUTAGE_MESSAGES = ("connection is closed", "connection was closed", "database is locked")


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        todo += [current.__cause__, current.__context__, orig if isinstance(orig, BaseException) else None]


def is_outage(error: BaseException) -> bool:
    """True if retrying the same work later can succeed without anything else changing."""
    for e in _chain(error):
        if isinstance(e, DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, DisconnectionError | ConnectionError | asyncio.TimeoutError):
            return True
        if isinstance(e, OSError) and not isinstance(e, FileNotFoundError | PermissionError):
            return True  # refused, reset, unreachable
        sqlstate = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
        if isinstance(sqlstate, str) and (
            sqlstate in _OUTAGE_SQLSTATES or sqlstate.startswith(_OUTAGE_SQLSTATE_CLASSES)
        ):
            return True
        if type(e).__name__ in ("InterfaceError", "OperationalError") or isinstance(e, OperationalError):
            text = str(e).lower()
            if any(m in text for m in _OUTAGE_MESSAGES):
                return True
    return False
