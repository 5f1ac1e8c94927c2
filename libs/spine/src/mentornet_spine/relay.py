"""The outbox relay: committed events → JetStream, in commit order, ``Nats-Msg-Id`` = event id.

The events table is the outbox. Appends commit in position order (serialised in the store), so
the relay needs one checkpoint: the position up to which JetStream acknowledged everything. The
checkpoint advances only after the acks, so a crash anywhere re-sends at most the unacknowledged
tail, which the stream's duplicate window drops. Nothing uncommitted is visible to the relay, so
nothing uncommitted is ever published.

An event JetStream can never take (larger than the stream allows, of a type this code does not
know) is parked: its reason goes to ``<root>.dlq.<service>-relay`` and to ``relay_parked``, and
the checkpoint steps over it. The store refuses such events at append; parking is the guard for
what got in before that check or under another limit, so one event never stops every later one.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from nats.js import JetStreamContext
from nats.js.errors import APIError, BadRequestError, NotFoundError
from opentelemetry import propagate, trace
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mentornet_events import (
    CATALOGUE,
    MAX_MESSAGE_BYTES,
    Catalogue,
    Envelope,
    Subjects,
    UnknownEventType,
    envelope_to_json,
)
from mentornet_spine import metrics
from mentornet_spine.db import is_sqlite, reader, statement_reads
from mentornet_spine.publisher import AckedPublisher
from mentornet_spine.store import ENVELOPE_COLUMNS, _row_to_envelope
from mentornet_spine.tables import events, relay_checkpoints, relay_parked

log = logging.getLogger(__name__)
tracer = trace.get_tracer("mentornet.spine.relay")

#: JetStream's "message size exceeds maximum allowed": the stream will never take this message
JS_MESSAGE_TOO_LARGE = 10054


class Unpublishable(Exception):
    """An event JetStream will never take as it is; retrying would stop the stream for good."""


#: the event's position in its service's store: what reconciliation compares the stream with
POSITION_HEADER = "Mentornet-Position"
#: what the relay reads of a stored event: the bytes to send and what its headers and subject need
_RELAYED = [
    events.c[name]
    for name in ("position", "event_id", "type", "schema_version", "stream_id", "trace_context", "message")
]


def message_headers(
    envelope: Envelope, span: trace.Span | None = None, position: int | None = None
) -> dict[str, str]:
    return _headers(
        envelope.event_id, envelope.type, envelope.schema_version, envelope.trace_context, span, position
    )


def _headers(
    event_id: UUID,
    event_type: str,
    schema_version: int,
    trace_context: dict[str, str],
    span: trace.Span | None,
    position: int | None,
) -> dict[str, str]:
    headers = {
        "Nats-Msg-Id": str(event_id),
        "Mentornet-Type": event_type,
        "Mentornet-Schema-Version": str(schema_version),
    }
    if position is not None:
        headers[POSITION_HEADER] = str(position)
    if span is not None and span.is_recording():
        propagate.inject(headers, context=trace.set_span_in_context(span))
    else:  # tracing off here: pass on the context the event was appended in
        headers.update(trace_context)
    return headers


@dataclass(frozen=True, slots=True)
class _Sent:
    """A publish awaiting its ack, with what it takes to ask again."""

    ack: asyncio.Future[Any]
    subject: str
    data: bytes
    headers: dict[str, str]


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        js: JetStreamContext,
        subjects: Subjects,
        *,
        catalogue: Catalogue = CATALOGUE,
        batch_size: int = 500,
        ack_timeout: float = 10.0,
        name: str = "jetstream",
        service: str = "service",
        reconcile_every_s: float = 60.0,
        provision: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.engine = engine
        self.reader = reader(engine)
        self.statements = statement_reads(engine)  # autocommit on PostgreSQL: no BEGIN/ROLLBACK
        self.js = js
        self.publisher = AckedPublisher(js._nc)  # the acks of a batch awaited together
        self.subjects = subjects
        self.catalogue = catalogue
        self.batch_size = batch_size
        self.ack_timeout = ack_timeout
        self.name = name
        self.service = service
        self._wake = asyncio.Event()
        self._position: int | None = None
        self.reconcile_every_s = reconcile_every_s
        #: creates the streams when one has vanished (None where a provisioner job owns them)
        self.provision = provision
        #: while a repair republishes: up to which position, and the suffix of their message ids
        self._repair: tuple[int, str] | None = None

    async def _checkpoint(self, conn: AsyncConnection) -> int:
        value = await conn.scalar(
            select(relay_checkpoints.c.position).where(relay_checkpoints.c.relay == self.name)
        )
        return int(value or 0)

    async def checkpoint(self, conn: AsyncConnection) -> int:
        """The position up to which JetStream acknowledged everything."""
        return await self._checkpoint(conn)

    async def backlog(self) -> int:
        """Events committed and not yet acknowledged by JetStream."""
        async with self.reader.connect() as conn:
            checkpoint = await self._checkpoint(conn)
            count = await conn.scalar(select(func.count()).where(events.c.position > checkpoint))
        return int(count or 0)

    async def relay_once(self) -> int:
        """Publish the oldest pending batch; returns how many events were acknowledged."""
        async with self.statements.connect() as conn:
            if self._position is None:  # read once; afterwards this relay moves it itself
                self._position = await self._checkpoint(conn)
            checkpoint = self._position
            rows = list(
                await conn.execute(
                    select(*_RELAYED)
                    .where(events.c.position > checkpoint)
                    .order_by(events.c.position)
                    .limit(self.batch_size)
                )
            )
            legacy: dict[int, bytes] = {}
            if older := [r.position for r in rows if r.message is None]:
                # appended before the envelope was kept as published: serialise it here
                found = await conn.execute(select(*ENVELOPE_COLUMNS).where(events.c.position.in_(older)))
                legacy = {r.position: envelope_to_json(_row_to_envelope(r)) for r in found}
        if not rows:
            return 0
        sent = [await self._publish(row, row.message or legacy[row.position]) for row in rows]
        pending = [s.ack for s in sent if s is not None]
        await _all_settled(pending, self.ack_timeout)
        done = 0
        for row, attempt in zip(rows, sent, strict=True):
            failure = None if attempt is None else await self._settle(row, attempt)
            if failure is not None:
                for ack in pending:
                    ack.cancel()
                if done == 0:  # nothing got through (no leader yet, broker away): back off
                    raise failure
                log.warning("publish of position %s failed: %r; will retry", row.position, failure)
                break  # keep commit order: the rest is retried after this one
            done += 1
        if done:
            await self._advance(rows[done - 1].position)
            self._position = rows[done - 1].position
            metrics.events_relayed.add(done)
        return done

    async def _settle(self, row: Any, attempt: _Sent) -> BaseException | None:
        """The outcome of one publish: None when acknowledged or parked, else the error to retry on."""
        if attempt.ack.done():
            error = attempt.ack.exception()
        else:
            # no reply in time (a leader moving, a connection lost with the reply in flight): ask
            # once more, synchronously, to learn whether it is stored or why not
            attempt.ack.cancel()
            try:
                await self.js.publish(
                    attempt.subject, attempt.data, headers=attempt.headers, timeout=self.ack_timeout
                )
                error = None
            except Exception as failure:
                error = failure
        if isinstance(error, APIError) and error.err_code == JS_MESSAGE_TOO_LARGE:
            await self._park(row, f"the stream refused the message: {error.description}")
            return None
        return error

    async def _publish(self, row: Any, data: bytes) -> _Sent | None:
        """Start publishing one stored event's bytes; None if it was parked instead."""
        span = tracer.start_span(
            "outbox.relay",
            context=propagate.extract(row.trace_context),
            kind=trace.SpanKind.PRODUCER,
            attributes={"mentornet.event_type": row.type, "mentornet.position": row.position},
        )
        try:
            try:
                subject = self.catalogue.spec(row.type).subject(self.subjects)
                headers = _headers(
                    row.event_id, row.type, row.schema_version, row.trace_context, span, row.position
                )
                if self._repair is not None and row.position <= self._repair[0]:
                    # published before and maybe dropped from the stream in the repair: the
                    # duplicate window still knows the plain id and would drop it again
                    headers["Nats-Msg-Id"] = f"{headers['Nats-Msg-Id']}:{self._repair[1]}"
                limit = self.max_message_bytes()
                size = len(data) + sum(len(k) + len(v) + 4 for k, v in headers.items())
                if size > limit:  # nats-py would fail it unsent and leave its ack future waiting
                    raise Unpublishable(f"message of {size} bytes exceeds the limit of {limit}")
            except (UnknownEventType, Unpublishable) as error:
                await self._park(row, str(error))
                return None
            ack = await self.publisher.publish(subject, data, headers)
            return _Sent(ack, subject, data, headers)
        finally:
            span.end()

    def max_message_bytes(self) -> int:
        """The smaller of the stream's message limit and the server's ``max_payload``."""
        server_limit = getattr(getattr(self.js, "_nc", None), "max_payload", 0) or MAX_MESSAGE_BYTES
        return min(MAX_MESSAGE_BYTES, int(server_limit))

    async def _park(self, row: Any, reason: str) -> None:
        """Dead-letter an event that can never be published, and record it, so the stream goes on."""
        log.error("relay %s parks position %s (%s): %s", self.name, row.position, row.type, reason)
        consumer = f"{self.service}-relay"
        record = {
            "consumer": consumer,
            "reason": reason,
            "attempts": 1,
            "position": row.position,
            "dead_lettered_at": datetime.now(UTC).isoformat(),
            "original": {"event_id": str(row.event_id), "type": row.type, "stream_id": row.stream_id},
        }
        await self.js.publish(
            self.subjects.dead_letter(consumer),
            json.dumps(record, ensure_ascii=False).encode(),
            headers={"Nats-Msg-Id": f"parked-{row.event_id}"},
            stream=self.subjects.dead_letter_stream,
        )
        async with self.engine.begin() as conn:
            known = await conn.scalar(
                select(func.count()).where(
                    relay_parked.c.relay == self.name, relay_parked.c.position == row.position
                )
            )
            if not known:
                await conn.execute(
                    insert(relay_parked).values(
                        relay=self.name,
                        position=row.position,
                        event_id=row.event_id,
                        type=row.type,
                        reason=reason[:2000],
                        parked_at=datetime.now(UTC),
                    )
                )
        metrics.events_parked.add(1, {"relay": self.name, "type": row.type})

    async def parked(self) -> list[dict[str, Any]]:
        """The events this relay set aside, oldest first."""
        async with self.reader.connect() as conn:
            rows = await conn.execute(
                select(relay_parked)
                .where(relay_parked.c.relay == self.name)
                .order_by(relay_parked.c.position)
            )
            return [dict(row._mapping) for row in rows]

    async def _advance(self, position: int) -> None:
        table = relay_checkpoints
        if not is_sqlite(self.engine):  # one autocommit statement, once the row exists
            async with self.statements.connect() as conn:
                moved = await conn.execute(
                    update(table)
                    .where(table.c.relay == self.name, table.c.position < position)
                    .values(position=position)
                )
            if moved.rowcount:
                return
        async with self.engine.begin() as conn:
            moved = await conn.execute(
                update(table)
                .where(table.c.relay == self.name, table.c.position < position)
                .values(position=position)
            )
            if moved.rowcount == 0 and await self._checkpoint(conn) == 0:
                await conn.execute(insert(table).values(relay=self.name, position=position))

    async def _stream(self) -> str | None:
        """The stream this store's events go to: the one of the service whose events it holds."""
        async with self.reader.connect() as conn:
            last = await conn.scalar(select(events.c.type).order_by(events.c.position.desc()).limit(1))
        if last is None:
            return None
        try:
            return self.subjects.stream(self.catalogue.spec(last).service)
        except UnknownEventType:
            return None

    async def _stream_state(self, stream: str) -> Any | None:
        try:
            return (await self.js.stream_info(stream)).state
        except NotFoundError:
            if self.provision is None:
                log.error(
                    "relay %s: the stream %s is missing; its provisioner must create it", self.name, stream
                )
                return None
            log.warning("relay %s: the stream %s is missing: creating it", self.name, stream)
            await self.provision()
            return (await self.js.stream_info(stream)).state

    async def _position_at(self, stream: str, seq: int) -> int | None:
        """The store position the stream's message ``seq`` carries (None: deleted, or no header)."""
        try:
            msg = await self.js.get_msg(stream, seq)
        except (NotFoundError, BadRequestError):
            return None
        raw = (msg.headers or {}).get(POSITION_HEADER)
        return int(raw) if raw and raw.isdigit() else None

    async def _published_up_to(self, conn: AsyncConnection, position: int) -> int:
        """How many events the stream must hold up to ``position``: committed and not parked."""
        parked = select(relay_parked.c.position).where(relay_parked.c.relay == self.name)
        count = await conn.scalar(
            select(func.count()).where(events.c.position <= position, events.c.position.not_in(parked))
        )
        return int(count or 0)

    async def intact_up_to(self) -> tuple[str, int, int] | None:
        """(stream, the last position up to which it holds every committed event in order, the
        sequence of that message, 0 if none); None when there is nothing to judge (nothing
        committed, no stream, messages without positions).

        The stream holds the store's events in position order, once each, so its message at
        ``first_seq + k`` must carry the position of the (k+1)-th published event: a binary search
        over the sequences finds the first that does not.
        """
        stream = await self._stream()
        state = None if stream is None else await self._stream_state(stream)
        if stream is None or state is None:
            return None
        if not state.messages:
            return stream, 0, 0
        first, last = state.first_seq, state.last_seq
        deleted = await self._deleted(stream) if state.num_deleted else []

        async def holds(seq: int) -> bool | None:
            position = await self._position_at(stream, seq)
            if position is None:
                return False if seq != last else None
            held = seq - first + 1 - bisect.bisect_left(deleted, seq)  # messages up to seq
            async with self.reader.connect() as conn:
                return bool(await self._published_up_to(conn, position) == held)

        whole = await holds(last)
        if whole is None:
            return None  # an older release's messages: nothing to compare
        if whole:
            return stream, await self._position_at(stream, last) or 0, last
        lo, hi = first - 1, last  # holds(lo) (or lo before the first), not holds(hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if await holds(mid):
                lo = mid
            else:
                hi = mid
        if lo < first:
            return stream, 0, 0
        return stream, await self._position_at(stream, lo) or 0, lo

    async def _deleted(self, stream: str) -> list[int]:
        """The sequences deleted inside the stream (a repair's, a loss's): nats-py's stream_info
        does not ask for them, so the JetStream API is asked directly."""
        js: Any = self.js
        answer = await js._nc.request(
            f"{js._prefix}.STREAM.INFO.{stream}", json.dumps({"deleted_details": True}).encode(), timeout=5
        )
        return sorted(int(seq) for seq in json.loads(answer.data).get("state", {}).get("deleted") or [])

    async def reconcile(self) -> int:
        """Compare the stream with the store; where it lacks committed events (lost after its
        ack, truncated, recreated empty), put it back in commit order: drop what follows the
        intact part and publish again from the first missing event. Returns how many events.

        The store is the source of truth: JetStream acknowledges before it syncs to disk, so a
        broker can lose what it acknowledged (Jepsen, NATS 2.12.1). What the stream held after
        the gap is published again in its place (consumers drop what they applied already).
        """
        found = await self.intact_up_to()
        if found is None:
            return 0
        stream, intact, intact_seq = found
        async with self.statements.connect() as conn:
            checkpoint = await self._checkpoint(conn)
        if intact >= checkpoint:
            if intact > checkpoint:  # acknowledged before a crash kept the checkpoint behind
                await self._advance(intact)
                self._position = intact
            return 0
        async with self.statements.connect() as conn:
            missing = await self._published_up_to(conn, checkpoint) - await self._published_up_to(
                conn, intact
            )
        if missing <= 0:
            return 0
        log.warning(
            "relay %s: the stream %s holds every event only up to position %s, %s were acknowledged "
            "up to %s: publishing %s events again",
            self.name,
            stream,
            intact,
            self.service,
            checkpoint,
            missing,
        )
        state = (await self.js.stream_info(stream)).state
        if intact_seq == 0:
            await self.js.purge_stream(stream)
        else:
            for seq in range(intact_seq + 1, state.last_seq + 1):
                with contextlib.suppress(NotFoundError, BadRequestError):  # a sequence the loss took
                    await self.js.delete_msg(stream, seq)
        self._repair = (checkpoint, f"r{time.time_ns()}")
        await self.rewind(intact)
        metrics.events_rewound.add(missing, {"relay": self.name})
        return missing

    async def rewind(self, position: int) -> None:
        """Publish again everything after ``position`` (an operator's repair: ``mentornet relay
        --from``); events the stream still holds are dropped by its duplicate window."""
        async with self.engine.begin() as conn:
            moved = await conn.execute(
                update(relay_checkpoints)
                .where(relay_checkpoints.c.relay == self.name)
                .values(position=position)
            )
            if moved.rowcount == 0:
                await conn.execute(insert(relay_checkpoints).values(relay=self.name, position=position))
        self._position = position
        self.wake()

    def wake(self) -> None:
        """Something was appended: poll soon (called by the store; safe from any task)."""
        self._wake.set()

    async def run(
        self,
        stop: asyncio.Event,
        idle_sleep: float = 0.02,
        max_idle_sleep: float = 0.5,
        error_sleep: float = 1.0,
    ) -> None:
        """Relay until ``stop`` is set; survives broker and database outages by retrying (from
        ``idle_sleep`` apart, doubling up to ``error_sleep``: a leader election is over in a moment).

        When idle it polls less and less often (up to ``max_idle_sleep``), and wakes at once when
        the store reports an append, so an idle service costs nothing and a busy one waits not.
        """
        pause = idle_sleep
        error_pause = idle_sleep
        reconciled_at = -math.inf  # at start, then every reconcile_every_s: in this task, so a
        # rewind never races a batch that would move the checkpoint forward again
        while not stop.is_set():
            try:
                if time.monotonic() - reconciled_at >= self.reconcile_every_s:
                    await self.reconcile()
                    reconciled_at = time.monotonic()
                sent = await self.relay_once()
            except Exception as error:  # the broker or the database is away: wait longer each time
                log.warning("outbox relay error: %r; retrying in %.2fs", error, error_pause)
                await _sleep_or_stop(stop, error_pause)
                error_pause = min(error_pause * 2, error_sleep)
                continue
            error_pause = idle_sleep
            if sent == self.batch_size:
                pause = idle_sleep
                continue  # more may be waiting
            if sent:  # caught up when read: a later append wakes us, no need to read again now
                pause = idle_sleep
            woken = await _sleep_or_wake(stop, self._wake, pause)
            pause = idle_sleep if woken else min(pause * 2, max_idle_sleep)


async def _all_settled(acks: list[asyncio.Future[None]], within_s: float) -> None:
    """Wait until every ack is settled or ``within_s`` passed. JetStream answers in publish order,
    so the last is awaited first and the rest are mostly done by then; ``asyncio.wait`` on all of
    them hangs a callback on each (a tenth of the relay's CPU at 500 per batch)."""
    deadline = time.monotonic() + within_s
    for group in (acks[-1:], acks):
        waiting = [a for a in group if not a.done()]
        if waiting:
            await asyncio.wait(waiting, timeout=max(0.0, deadline - time.monotonic()))


async def _sleep_or_wake(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> bool:
    """Sleep up to ``seconds``; True if woken by an append (then give its commit a moment)."""
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    woken = wake.is_set()
    wake.clear()
    if woken:
        await asyncio.sleep(0.002)
    return woken


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
