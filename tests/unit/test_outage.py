"""Which failures are an outage (retry the same batch later) and which are the event's own."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from mentornet_spine.outage import is_outage


def _wrapped(orig: Exception, invalidated: bool = False) -> DBAPIError:
    return DBAPIError("INSERT ...", {}, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    "error",
    [
        _wrapped(asyncpg.AdminShutdownError("terminating connection due to administrator command")),
        _wrapped(asyncpg.CannotConnectNowError("the database system is starting up")),
        _wrapped(asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")),
        _wrapped(asyncpg.TooManyConnectionsError("sorry, too many clients already")),
        _wrapped(asyncpg.SerializationError("could not serialize access")),
        _wrapped(ValueError("anything"), invalidated=True),
        ConnectionRefusedError(111, "Connect call failed"),
        TimeoutError(),
        OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")),
    ],
    ids=lambda e: type(getattr(e, "orig", e)).__name__,
)
def test_outages(error: Exception) -> None:
    assert is_outage(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("product kind POISON is refused"),
        LookupError("participant is not known here yet"),
        IntegrityError("INSERT ...", {}, asyncpg.UniqueViolationError("duplicate key")),
        _wrapped(asyncpg.UndefinedColumnError('column "x" does not exist')),
        OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: facts")),
        FileNotFoundError("template.j2"),
    ],
    ids=lambda e: type(getattr(e, "orig", e)).__name__,
)
def test_failures_of_the_event_itself(error: Exception) -> None:
    assert not is_outage(error)


def test_an_outage_raised_while_handling_another_error_still_counts() -> None:
    try:
        try:
            raise KeyError("projection state")
        except KeyError:
            raise RuntimeError("apply failed") from _wrapped(asyncpg.AdminShutdownError("bye"))
    except RuntimeError as error:
        assert is_outage(error)
