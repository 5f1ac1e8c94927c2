"""Schemathesis against a service's own OpenAPI document: no operation answers with a server error.

The service runs in-process with its lifespan on real PostgreSQL and NATS. Every operation of
``/openapi.json`` gets a bounded, derandomized number of generated requests — schema-valid and
schema-violating — as each given role and without a token (schemathesis then sends garbage bearer
tokens or none). Path parameters and queries are often swapped for identifiers that exist, and
commands sometimes carry an ``Idempotency-Key``, so the requests reach the use cases instead of
stopping at "not found"; a few get a NUL byte or a very long run in one of their strings, and a
few an edge date or period (9999-12-31, 0001-01, 9999-Q4, 30 February) in place of one.

Only ``not_a_server_error`` is checked. An unhandled exception in a route is caught where the
request is sent (``httpx.ASGITransport`` re-raises it); every distinct one (per operation and the
line that raised it) is collected with the generated input, a curl command, the roles that hit it
and the traceback, and the test fails once listing them all.

Hypothesis drives generation in a worker thread; each request is sent on the test's event loop,
where the app, its engine and its NATS connection live. That is why the schema comes from
``schemathesis.openapi.from_dict`` (fed the app's own ``/openapi.json``) and requests go through
``httpx`` rather than ``from_asgi``/``case.call``: those start a second lifespan of the app on
schemathesis' own event-loop thread.
"""

from __future__ import annotations

import asyncio
import re
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.result import Ok
from schemathesis.errors import FailureGroup

EXAMPLES = 10  # per operation, role and generation mode (positive, negative)
REQUEST_TIMEOUT_S = 30.0
SHOWN_CHARS = 2000
ANONYMOUS = "anonymous"
Operation = APIOperation[Any, Any, Any, Any]
FuzzCase = Case[Any]
# Mostly fresh keys (the request goes through and is stored), some reused ones (replay or refusal),
# and anything else a client can put in a header: blank-free at the ends, empty or over 200 characters.
IDEMPOTENCY_KEYS = st.one_of(
    st.uuids().map(str),
    st.uuids().map(str),
    st.sampled_from(["fuzz-1", "fuzz-2"]),
    st.sampled_from(["", "k" * 201]),
    st.from_regex(r"[!-~]([ -~]{0,200}[!-~])?", fullmatch=True),
)


@dataclass
class ServerFailure:
    """One distinct 5xx: the first request that produced it and what the server did."""

    operation: str
    role: str
    mode: str
    generated: str
    request: str
    detail: str
    count: int = 1
    roles: set[str] = field(default_factory=set)

    def render(self) -> str:
        roles = ", ".join(sorted(self.roles))
        return (
            f"=== {self.operation} (first as {self.role}, {self.mode} data)\n"
            f"--- {self.count} request(s) as: {roles}\n"
            f"--- generated: {_clip(self.generated)}\n"
            f"--- reproduce:\n{_clip(self.request)}\n"
            f"--- server:\n{self.detail}"
        )


@dataclass
class Findings:
    failures: dict[tuple[str, str], ServerFailure] = field(default_factory=dict)
    statuses: dict[tuple[str, str], Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    def record(self, key: tuple[str, str], failure: ServerFailure) -> None:
        known = self.failures.setdefault(key, failure)
        if known is not failure:
            known.count += 1
        known.roles.add(failure.role)

    def table(self) -> str:
        return "\n".join(
            f"{label:62} {role:19} {dict(sorted(counts.items()))}"
            for (label, role), counts in sorted(self.statuses.items())
        )


@dataclass
class Sent:
    response: httpx.Response | None
    error: BaseException | None = None


def _clip(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + " …"


def _signature(error: BaseException) -> str:
    """The exception's type and the innermost line of our own code it passed: one bug, one entry."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if "/site-packages/" not in frame.filename and frame.name != "_send"
    ]
    place = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    return f"{type(error).__name__} at {place}"


_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line \d+, in (?P<function>\S+)')


def _traceback(error: BaseException) -> str:
    """The traceback with runs of library frames (httpx, starlette, fastapi, otel) folded."""
    out: list[str] = []
    folded = 0
    skipping = False
    for line in "".join(traceback.format_exception(error)).splitlines():
        frame = _FRAME.match(line)
        if frame:
            skipping = "/site-packages/" in frame["file"] or frame["function"] == "_send"
            if skipping:
                folded += 1
                continue
        elif skipping and line.startswith("    "):
            continue
        else:
            skipping = False
        if folded:
            out.append(f"  [{folded} library frame(s)]")
            folded = 0
        out.append(line)
    return "\n".join(out)


def _generated(case: FuzzCase) -> str:
    parts: dict[str, Any] = {"path": case.path_parameters, "query": case.query}
    if not isinstance(case.body, NotSet):
        parts["body"] = case.body
    return repr({name: value for name, value in parts.items() if value})


def _body(prepared: requests.PreparedRequest) -> bytes:
    body = prepared.body
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    assert isinstance(body, bytes), type(body)
    return body


async def _send(client: httpx.AsyncClient, prepared: requests.PreparedRequest) -> Sent:
    headers = [
        (name, value if isinstance(value, str) else value.decode("latin-1"))
        for name, value in prepared.headers.items()
        if name.lower() != "content-length"
    ]
    try:
        response = await client.request(
            str(prepared.method), str(prepared.url), headers=headers, content=_body(prepared)
        )
    except Exception as error:  # an unhandled exception in the app: what this test is after
        return Sent(None, error)
    return Sent(response)


def _point_at_known(case: FuzzCase, data: st.DataObject, known: dict[str, list[str]]) -> None:
    """Swap generated identifiers for existing ones three times in four, to reach the use cases."""
    for container in (case.path_parameters, case.query):
        if not isinstance(container, dict):
            continue
        for name in list(container):
            if name in known and data.draw(st.integers(0, 3), label=f"known {name}?") > 0:
                container[name] = data.draw(st.sampled_from(known[name]), label=name)


def _string_slots(value: Any) -> list[tuple[dict[str, Any] | list[Any], str | int]]:
    """Every place in a JSON-like value that holds a string."""
    items: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    slots: list[tuple[dict[str, Any] | list[Any], str | int]] = []
    for key, item in items:
        if isinstance(item, str):
            slots.append((value, key))
        else:
            slots.extend(_string_slots(item))
    return slots


def _poison(case: FuzzCase, data: st.DataObject) -> None:
    """One case in four gets a NUL or a long run in one of its strings: what databases refuse.

    Generated text seldom holds these within a few dozen examples; path parameters are sent as
    they are (already percent-encoded), so theirs is encoded too.
    """
    if data.draw(st.integers(0, 3), label="poison?") != 0:
        return
    path = _string_slots(case.path_parameters or {})
    others = _string_slots(case.query or {}) + _string_slots(
        case.body if isinstance(case.body, dict | list) else {}
    )
    slots = [(container, key, True) for container, key in path] + [(c, k, False) for c, k in others]
    if not slots:
        return
    container, key, encoded = data.draw(st.sampled_from(slots), label="poisoned string")
    suffix = data.draw(st.sampled_from(["\x00", "x" * 10_000]), label="poison")
    container[key] += "%00" if encoded and suffix == "\x00" else suffix  # type: ignore[index]


# Dates and periods at and past the edges of what the calendar and the services' ranges hold.
EDGE_DATES = (
    "9999-12-31",
    "0001-01-01",
    "1899-12-31",
    "2100-01-01",
    "2026-02-30",
    "9999-Q4",
    "0001-Q1",
    "2026-Q5",
    "9999-12",
    "0001-01",
    "2026-13",
    "9999",
    "0000",
)


def _edge_dates(case: FuzzCase, data: st.DataObject) -> None:
    """One case in four gets an edge date or period in one of its strings: overflow, year 0, 30 Feb."""
    if data.draw(st.integers(0, 3), label="edge date?") != 0:
        return
    slots = (
        _string_slots(case.path_parameters or {})
        + _string_slots(case.query or {})
        + _string_slots(case.body if isinstance(case.body, dict | list) else {})
    )
    if slots:
        container, key = data.draw(st.sampled_from(slots), label="dated string")
        container[key] = data.draw(st.sampled_from(EDGE_DATES), label="edge date")  # type: ignore[index]


def _fuzz_operation(
    base_url: str,
    operation: Operation,
    role: str,
    auth: dict[str, str],
    known: dict[str, list[str]],
    transmit: Callable[[requests.PreparedRequest], Sent],
    findings: Findings,
) -> None:
    """Runs in a worker thread: Hypothesis generates, ``transmit`` sends on the test's event loop."""
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        try:
            _fuzz_mode(base_url, operation, mode, role, auth, known, transmit, findings)
        except Unsatisfiable:
            # Nothing in the operation can be made invalid (no parameters, body or security)
            if mode is GenerationMode.POSITIVE:
                raise


def _fuzz_mode(
    base_url: str,
    operation: Operation,
    mode: GenerationMode,
    role: str,
    auth: dict[str, str],
    known: dict[str, list[str]],
    transmit: Callable[[requests.PreparedRequest], Sent],
    findings: Findings,
) -> None:
    label = operation.label
    command = operation.method.upper() not in ("GET", "HEAD", "OPTIONS")

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=operation.as_strategy(mode), data=st.data())
    def run(case: FuzzCase, data: st.DataObject) -> None:
        _point_at_known(case, data, known)
        _poison(case, data)
        _edge_dates(case, data)
        if case.headers:  # the key is drawn below, from what a client can send in a header
            case.headers.pop("Idempotency-Key", None)
        headers = dict(auth)
        if command and data.draw(st.integers(0, 3), label="idempotent?") == 0:
            headers["Idempotency-Key"] = data.draw(IDEMPOTENCY_KEYS, label="Idempotency-Key")
        kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
        prepared = requests.Request(**kwargs).prepare()
        sent = transmit(prepared)
        if sent.error is not None:
            findings.statuses[(label, role)][500] += 1
            findings.record(
                (label, _signature(sent.error)),
                ServerFailure(
                    label,
                    role,
                    mode.value,
                    _generated(case),
                    case.as_curl_command(headers=dict(prepared.headers), base_url=base_url),
                    _traceback(sent.error),
                ),
            )
            return
        assert sent.response is not None
        status = sent.response.status_code
        findings.statuses[(label, role)][status] += 1
        try:
            case.validate_response(sent.response, checks=[not_a_server_error], headers=dict(prepared.headers))
        except FailureGroup as failed:
            findings.record(
                (label, f"HTTP {status}"),
                ServerFailure(
                    label, role, mode.value, _generated(case), str(failed), _clip(sent.response.text)
                ),
            )

    run()


def _in_running_order(operations: list[Operation], ends_of_life: tuple[str, ...]) -> list[Operation]:
    def position(operation: Operation) -> int:
        label = operation.label
        return ends_of_life.index(label) if label in ends_of_life else -1

    return sorted(operations, key=position)  # stable: the document's order otherwise


async def fuzz_service(
    client: httpx.AsyncClient,
    roles: dict[str, dict[str, str]],
    known: dict[str, list[str]],
    *,
    ends_of_life: tuple[str, ...] = (),
    min_reached: int = 5,
) -> str:
    """Every operation of the app's OpenAPI document, as every role; fails listing each 5xx.

    ``roles`` maps a name to its auth headers ({} for anonymous); ``known`` maps a parameter name
    to identifiers that exist; operations in ``ends_of_life`` run last, in that order.
    """
    answer = await client.get("/openapi.json")
    assert answer.status_code == 200, answer.text
    schema = schemathesis.openapi.from_dict(answer.json())
    found: list[Operation] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        found.append(result.ok())
    operations = _in_running_order(found, ends_of_life)
    labels = {operation.label for operation in operations}
    assert set(ends_of_life) <= labels, sorted(labels)

    loop = asyncio.get_running_loop()

    def transmit(prepared: requests.PreparedRequest) -> Sent:
        future = asyncio.run_coroutine_threadsafe(_send(client, prepared), loop)
        return future.result(timeout=REQUEST_TIMEOUT_S)

    base_url = str(client.base_url).rstrip("/")
    findings = Findings()
    for operation in operations:
        for role, auth in roles.items():
            await asyncio.to_thread(
                _fuzz_operation, base_url, operation, role, auth, known, transmit, findings
            )

    table = f"Status codes per operation and role:\n{findings.table()}"
    if findings.failures:
        report = "\n\n".join(failure.render() for failure in findings.failures.values())
        pytest.fail(
            f"{len(findings.failures)} distinct server error(s):\n\n{report}\n\n{table}", pytrace=False
        )

    # The run proves something only if it got past authentication and reached the use cases.
    secured = sorted(op.label for op in operations if op.definition.raw.get("security"))
    for role, auth in roles.items():
        if not auth:
            continue
        refused = [label for label in secured if set(findings.statuses[(label, role)]) <= {401}]
        assert not refused, f"{role}: the token was never accepted by {refused}\n{table}"
    reached = {
        label
        for (label, role), counts in findings.statuses.items()
        if role != ANONYMOUS and "{" in label and any(200 <= status < 300 for status in counts)
    }
    assert len(reached) >= min_reached, f"only {sorted(reached)} ever succeeded\n{table}"
    return table
