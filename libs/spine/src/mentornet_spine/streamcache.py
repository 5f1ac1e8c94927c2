"""Decoded events of recently used streams, so that a command reads only what it has not seen.

A command replays its aggregate from its stream; reading and decoding the whole stream each time
cost more than deciding. Here a stream's decoded events stay in memory (least recently used out).
The caller says how many events the stream has (its read model row, read in the command's own
transaction), so an entry is topped up from the store when another process appended meanwhile and
never trusted beyond what the database shows. Entries grow only from reads and from appends that
committed; a decision on a stale entry still loses on the stream version at append.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from mentornet_events import DomainEvent
from mentornet_spine.store import EventStore


class RecentStreams:
    def __init__(self, store: EventStore, size: int = 1024) -> None:
        # a few hundred streams are in use at once even in a busy region; more entries only give
        # the garbage collector more to walk (bench/region.py, large: programs 4.4 ms per command
        # with 4,096 entries, 3.3 with 1,024 — one run each, the host's noise not ruled out)
        self.store = store
        self.size = size
        self._entries: OrderedDict[str, tuple[DomainEvent, ...]] = OrderedDict()

    async def events(
        self, conn: AsyncConnection, stream_id: str, version: int | None = None
    ) -> tuple[DomainEvent, ...]:
        """The stream's events; ``version``, when known, is how many it has now (no read if cached)."""
        known = self._entries.get(stream_id, ())
        if version is not None and len(known) == version:
            if known:
                self._entries.move_to_end(stream_id)
            return known
        if version is not None and len(known) > version:
            known = ()  # the database shows fewer: read it whole again
        catalogue = self.store.catalogue
        new = [catalogue.decode(e) for e in await self.store.read_stream(stream_id, len(known), conn=conn)]
        events = (*known, *new)
        self._keep(stream_id, events)
        return events

    def appended(self, stream_id: str, before: int, events: Sequence[DomainEvent]) -> None:
        """Events committed to a stream that had ``before`` events: extend its entry if it was whole."""
        known = self._entries.get(stream_id)
        if known is None:
            return
        if len(known) == before:
            self._keep(stream_id, (*known, *events))
        else:
            del self._entries[stream_id]

    def _keep(self, stream_id: str, events: tuple[DomainEvent, ...]) -> None:
        self._entries[stream_id] = events
        self._entries.move_to_end(stream_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
