"""The registry against real PostgreSQL and NATS: identity, tenancy, events without personal data."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import nats
import pytest
from sqlalchemy import text

from mentornet_events import Subjects
from mentornet_spine.store import EventStore
from registry.domain.participant import stream_id
from tests.conftest import Database
from tests.integration.support import eventually, stream_messages
from tests.registry.conftest import SCHOOLS, Api, Network, mentor_body


async def test_school_credentials_work_and_revoked_ones_do_not(network: Network) -> None:
    api, code = network.api, SCHOOLS["A"][0]
    school = await api.ok("GET", f"/schools/{code}", network.school["A"])
    assert school["status"] == "connected" and school["municipality"] == "m1"
    client_id, secret = network.credentials["A"]
    wrong = await api.client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "nope"},
    )
    assert wrong.status_code == 401
    await api.ok("DELETE", f"/schools/{code}/credentials/{client_id}", network.operator)
    revoked = await api.client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert revoked.status_code == 401
    assert "отозван" in revoked.json()["detail"]


async def test_requests_without_a_valid_token_are_refused(registry_api: Api) -> None:
    missing = await registry_api.client.get("/schools")
    assert missing.status_code == 401 and "Authorization" in missing.json()["detail"]
    forged = await registry_api.client.get("/schools", headers={"Authorization": "Bearer abc.def.ghi"})
    assert forged.status_code == 401


async def _participant_of(network: Network, name: str) -> str:
    code = SCHOOLS[name][0]
    created = await network.api.ok(
        "POST", f"/schools/{code}/mentors", network.curator[name], json=mentor_body()
    )
    return str(created["id"])


CROSS_TENANT: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/schools/{b}", None),
    ("GET", "/schools/{b}/participants", None),
    ("GET", "/participants/{pb}", None),
    ("PATCH", "/participants/{pb}", {"hours_per_month": 3}),
    ("DELETE", "/participants/{pb}", None),
    ("POST", "/participants/{pb}/consent/mentor/withdraw", None),
    ("GET", "/schools/{b}/participants?base=mentee", None),
    ("GET", "/schools/{b}/participants?person=true", None),
    ("GET", "/schools/{b}/credentials", None),
    ("POST", "/schools/{b}/approve", None),
    ("POST", "/schools/{b}/resume", None),
    ("POST", "/schools/{b}/disconnect", {"reason": "проверка"}),
    ("DELETE", "/schools/{b}/credentials/any-client", None),
    ("POST", "/schools/{b}/mentors", mentor_body()),
    (
        "POST",
        "/schools/{b}/mentees",
        {"person": {"last_name": "Петров", "first_name": "Пётр"}, "entry": {"deficits": ["ict"]}},
    ),
    ("PUT", "/schools/{b}/headcounts", {"teachers": 1, "students": 1}),
    ("POST", "/schools/{b}/bases/refresh", None),
    ("POST", "/schools/{b}/credentials", None),
    ("POST", "/schools/{b}/suspend", {"reason": "проверка"}),
]


@pytest.mark.parametrize("actor", ["school", "curator"])
async def test_school_a_cannot_read_or_write_school_b(network: Network, actor: str) -> None:
    """Every endpoint under a school or a participant, called by school A on school B's data."""
    pb = await _participant_of(network, "B")
    headers = getattr(network, actor)["A"]
    let_through = []
    for method, template, body in CROSS_TENANT:
        url = template.format(b=SCHOOLS["B"][0], pb=pb)
        answer = await network.api.client.request(method, url, headers=headers, json=body)
        if answer.status_code not in (403, 404):
            let_through.append(f"{method} {url} → {answer.status_code} {answer.text[:200]}")
    assert let_through == []
    after = await network.api.ok("GET", f"/participants/{pb}", network.curator["B"])
    assert after["version"] == 2 and after["person"]["last_name"] == "Иванова"  # nothing changed
    school_b = await network.api.ok("GET", f"/schools/{SCHOOLS['B'][0]}", network.operator)
    assert school_b["status"] == "connected" and school_b["teachers"] == 40
    listing = await network.api.ok("GET", "/schools", headers)
    assert [s["code"] for s in listing] == [SCHOOLS["A"][0]]


async def test_municipal_operator_sees_only_its_schools(network: Network) -> None:
    api = network.api
    await api.ok(
        "POST",
        "/accounts",
        network.operator,
        json={
            "username": "mo.m1",
            "password": "municipal-password",
            "role": "municipal_operator",
            "municipality": "m1",
        },
    )
    municipal = await api.login("mo.m1", "municipal-password")
    assert [s["code"] for s in await api.ok("GET", "/schools", municipal)] == [SCHOOLS["A"][0]]
    hidden = await api.client.get(f"/schools/{SCHOOLS['B'][0]}", headers=municipal)
    assert hidden.status_code == 404
    assert [s["code"] for s in await api.ok("GET", "/schools", network.operator)] == sorted(
        c for c, _ in SCHOOLS.values()
    )


async def test_mentor_registered_on_jetstream_without_personal_data(
    network: Network, nats_url: str, subjects: Subjects
) -> None:
    pid = await _participant_of(network, "A")
    nc = await nats.connect(nats_url)
    js = nc.jetstream()

    async def published() -> list[Any]:
        msgs = await stream_messages(js, subjects.stream("registry"), subjects.service_wildcard("registry"))
        return [m for m in msgs if m.subject.endswith("mentor_registered")]

    [message] = await eventually(published)
    await nc.close()
    envelope = json.loads(message.data)
    assert envelope["payload"]["participant_id"] == pid
    assert envelope["tenant"] == {"region": "38", "municipality": "m1", "school": SCHOOLS["A"][0]}
    assert envelope["payload"]["experience_band"] == "10_to_20"
    raw = message.data.decode()
    # The phone in its written and digit-only forms (a bare "900" can occur inside a uuid).
    for personal in ("Иванова", "Мария", "ivanova@example.org", "900 000-00-00", "79000000000"):
        assert personal not in raw


async def test_repeated_command_with_the_same_idempotency_key_changes_nothing(network: Network) -> None:
    api, code = network.api, SCHOOLS["A"][0]
    headers = network.curator["A"] | {"Idempotency-Key": "import-2026-09-01-row-17"}
    first = await api.client.post(f"/schools/{code}/mentors", headers=headers, json=mentor_body())
    again = await api.client.post(f"/schools/{code}/mentors", headers=headers, json=mentor_body())
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    mentors = await api.ok("GET", f"/schools/{code}/participants?base=mentor", network.curator["A"])
    assert len(mentors) == 1
    different = await api.client.post(
        f"/schools/{code}/mentors", headers=headers, json=mentor_body("Петрова")
    )
    assert different.status_code == 422 and "другим запросом" in different.json()["detail"]


async def test_erasure_leaves_the_person_unreadable_and_the_stream_intact(
    network: Network, registry_api: Api, pg_database: Any
) -> None:
    api = network.api
    pid = await _participant_of(network, "A")
    before = await api.ok("GET", f"/participants/{pid}", network.curator["A"])
    assert before["person"]["email"] == "ivanova@example.org"
    await api.ok("DELETE", f"/participants/{pid}", network.curator["A"])
    after = await api.ok("GET", f"/participants/{pid}", network.curator["A"])
    assert after["erased"] is True and "person" not in after and after["attributes"] == {}
    events = await EventStore(pg_database.engine).read_stream(stream_id(uuid.UUID(pid)))
    assert [e.type for e in events] == ["MentorRegistered", "ConsentGiven", "ParticipantErased"]
    from registry.adapters.vault import PersonalDataErased, Vault

    vault = Vault(b"\0" * 32)
    async with pg_database.engine.connect() as conn:
        with pytest.raises(PersonalDataErased):
            await vault.read(conn, uuid.UUID(pid))
    again = await api.client.delete(f"/participants/{pid}", headers=network.curator["A"])
    assert again.status_code == 409


async def test_optimistic_concurrency_is_a_409(network: Network) -> None:
    api, code = network.api, SCHOOLS["A"][0]
    read = await api.client.get(f"/schools/{code}", headers=network.operator)
    etag = read.headers["ETag"]
    await api.ok(
        "PUT",
        f"/schools/{code}/headcounts",
        network.operator | {"If-Match": etag},
        json={"teachers": 41, "students": 500},
    )
    stale = await api.client.put(
        f"/schools/{code}/headcounts",
        headers=network.operator | {"If-Match": etag},
        json={"teachers": 42, "students": 500},
    )
    assert stale.status_code == 409
    assert "изменил кто-то другой" in stale.json()["detail"]
    again = await api.client.post(
        "/municipalities", headers=network.operator, json={"code": "m1", "name": "Снова"}
    )
    assert again.status_code == 409 and "уже зарегистрирован" in again.json()["detail"]


async def test_validation_errors_are_in_russian_with_field_paths(network: Network) -> None:
    body = mentor_body()
    body["entry"]["hours_per_month"] = 0
    body["entry"]["competencies"] = ["astrology"]
    answer = await network.api.client.post(
        f"/schools/{SCHOOLS['A'][0]}/mentors", headers=network.curator["A"], json=body
    )
    assert answer.status_code == 422
    fields = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert fields["entry.hours_per_month"] == "значение должно быть не меньше 1"
    assert fields["entry.competencies.0"].startswith("недопустимое значение")


async def test_minor_needs_a_parents_consent(network: Network) -> None:
    body = {
        "person": {"last_name": "Сидоров", "first_name": "Коля"},
        "entry": {"role": "student", "grade": 7, "deficits": ["ict"]},
    }
    answer = await network.api.client.post(
        f"/schools/{SCHOOLS['A'][0]}/mentees", headers=network.curator["A"], json=body
    )
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "consent_by"
    body["consent"] = {"given_by": "parent"}
    await network.api.ok("POST", f"/schools/{SCHOOLS['A'][0]}/mentees", network.curator["A"], json=body)


def test_every_school_or_participant_endpoint_is_in_the_cross_tenant_test(tmp_path: Path) -> None:
    """A new route under a school or a participant must join CROSS_TENANT (or be public on purpose)."""
    from mentornet_spine.settings import SpineSettings
    from registry.bootstrap import create_app
    from registry.settings import RegistrySettings

    app = create_app(
        SpineSettings(service="registry", database_url="sqlite+aiosqlite:///:memory:"),
        RegistrySettings(MENTORNET_DATA_DIR=tmp_path),
    )
    # the OpenAPI document lists every route (app.routes holds included routers unexpanded)
    scoped = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if "{code}" in path or "{participant_id}" in path
        for method in operations
    }
    assert ("GET", "/schools/{code}") in scoped  # the listing is not empty
    covered = {
        (method, template.replace("{b}", "{code}").replace("{pb}", "{participant_id}"))
        for method, template, _ in CROSS_TENANT
    }
    covered.add(("POST", "/participants/{participant_id}/consent/{base}/withdraw"))
    covered.add(("DELETE", "/schools/{code}/credentials/{client_id}"))
    tested_elsewhere = {("POST", "/schools/{code}/import/{base}")}  # test_import_into_another_school
    assert scoped - covered - tested_elsewhere == set()


async def test_a_database_restart_costs_one_503_then_reads_recover(
    network: Network, pg_database: Database
) -> None:
    """No ping before each checkout: a dead connection fails one request (503), the pool renews."""
    path = f"/schools/{SCHOOLS['A'][0]}"
    await network.api.ok("GET", path, network.school["A"])
    async with pg_database.engine.connect() as admin:
        killed = await admin.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'mentornet-registry' AND datname = current_database()"
            )
        )
    assert killed and killed > 0
    statuses = [
        (await network.api.client.get(path, headers=network.school["A"])).status_code for _ in range(3)
    ]
    assert statuses[0] == 503 and statuses[1:] == [200, 200], statuses
    answer = await network.api.client.get(path, headers=network.school["A"])
    assert answer.json()["code"] == SCHOOLS["A"][0]


async def test_only_the_service_role_may_ask_the_directory_for_addresses(network: Network) -> None:
    query = {"school_codes": [SCHOOLS["A"][0]], "participant_ids": []}
    for headers in (network.operator, network.curator["A"], network.school["A"]):
        answer = await network.api.client.post("/directory/addresses", headers=headers, json=query)
        assert answer.status_code == 403, answer.text
    await network.api.ok(
        "POST",
        "/accounts",
        network.operator,
        json={"username": "notifications", "password": "service-password-1", "role": "service"},
    )
    service = await network.api.login("notifications", "service-password-1")
    found = await network.api.ok("POST", "/directory/addresses", service, json=query)
    assert found == {
        "participants": {},
        "schools": {SCHOOLS["A"][0]: f"office@{SCHOOLS['A'][0]}.example.org"},
    }
    # a service token opens nothing else: not a school, not the list of the region's schools
    assert (await network.api.client.get(f"/schools/{SCHOOLS['A'][0]}", headers=service)).status_code == 404
    assert (await network.api.client.get("/schools", headers=service)).status_code == 403


async def test_the_operator_lists_a_schools_credentials_without_secrets(network: Network) -> None:
    api, code = network.api, SCHOOLS["A"][0]
    client_id, secret = network.credentials["A"]
    second = await api.ok("POST", f"/schools/{code}/credentials", network.operator)
    await api.ok("DELETE", f"/schools/{code}/credentials/{client_id}", network.operator)
    listed = await api.ok("GET", f"/schools/{code}/credentials", network.operator)
    assert [c["client_id"] for c in listed] == [client_id, second["client_id"]]
    assert listed[0]["revoked_at"] is not None and listed[1]["revoked_at"] is None
    assert secret not in json.dumps(listed) and second["client_secret"] not in json.dumps(listed)
    for who in (network.curator["A"], network.school["A"]):  # the school does not manage them
        assert (await api.client.get(f"/schools/{code}/credentials", headers=who)).status_code == 403


async def test_personal_data_in_the_list_only_for_the_schools_own_staff(network: Network) -> None:
    api, code = network.api, SCHOOLS["A"][0]
    await api.ok("POST", f"/schools/{code}/mentors", network.curator["A"], json=mentor_body("Смирнова"))
    plain = await api.ok("GET", f"/schools/{code}/participants", network.curator["A"])
    assert "person" not in plain[0]
    listed = await api.ok("GET", f"/schools/{code}/participants?person=true", network.curator["A"])
    assert listed[0]["person"]["last_name"] == "Смирнова" and listed[0]["in_mentor_base"] is True
    refused = await api.client.get(f"/schools/{code}/participants?person=true", headers=network.operator)
    assert refused.status_code == 403
    assert "person" not in (await api.ok("GET", f"/schools/{code}/participants", network.operator))[0]


async def test_one_huge_subject_is_refused_and_the_school_goes_on(network: Network) -> None:
    """The 1.1 MB subject that once froze the region's registry stream: 413 before parsing, nothing kept."""
    api, code = network.api, SCHOOLS["A"][0]
    huge = mentor_body()
    huge["entry"]["subjects"] = ["м" * 1_100_000]
    answer = await api.client.post(f"/schools/{code}/mentors", headers=network.curator["A"], json=huge)
    assert answer.status_code == 413
    assert answer.json()["detail"].startswith("Запрос слишком велик: не больше 1")
    long = mentor_body()
    long["entry"]["subjects"] = ["м" * 101]
    answer = await api.client.post(f"/schools/{code}/mentors", headers=network.curator["A"], json=long)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "entry.subjects.0"
    assert await api.ok("GET", f"/schools/{code}/participants", network.curator["A"]) == []
    await api.ok("POST", f"/schools/{code}/mentors", network.curator["A"], json=mentor_body())
    assert len(await api.ok("GET", f"/schools/{code}/participants", network.curator["A"])) == 1


async def test_an_unknown_role_is_refused_naming_the_valid_ones(network: Network) -> None:
    answer = await network.api.client.post(
        "/accounts",
        headers=network.operator,
        json={
            "username": "new.curator",
            "password": "curator-password",
            "role": "curator",
            "school": "sch-a",
        },
    )
    assert answer.status_code == 422
    message = answer.json()["errors"][0]["message"]
    assert "school_curator" in message and "municipal_operator" in message, message
