"""Runs a plan against the services' public HTTP APIs, as the region's operator and each school would.

The regional operator (a password login) registers municipalities, connects the schools and issues
each its client credentials; then every school, with its own credentials, imports its bases,
launches its programme and acts through the year in date order. Schools run in parallel (bounded),
each one's steps in sequence, so ids the services assign (pairs, meetings) are known when needed.

One aiohttp session per service with bounded connections, timeouts and retries: a transport
error or a 5xx is retried with backoff; creates carry an ``Idempotency-Key`` so a retry never
creates twice, and a 409 on a retried command means the first attempt landed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from mentornet_events.labels_ru import label
from mentornet_events.vocabulary import DeficitArea, QualificationCategory
from mentornet_simulator.plan import Act, Mentee, Mentor, RegionPlan, SchoolPlan, Step

TOKEN_REFRESH_S = 600.0  # tokens live 15 minutes
RETRIES = 10  # backoff up to 5 s: about half a minute, a service's restart included
ELIGIBILITY_WAIT_S = 120.0  # the programs service learns of imported people from the registry's events


@dataclass(frozen=True)
class Endpoints:
    registry: str = "http://127.0.0.1:8101"
    programs: str = "http://127.0.0.1:8102"
    monitoring: str = "http://127.0.0.1:8103"


class SimulationError(RuntimeError):
    """A command the plan needs was refused; the message names the school, the step and the answer."""


@dataclass
class Done:
    """What a school did, as observers see it after each step."""

    school: str
    act: Act
    counts: dict[Act, int]
    seconds: float


Observer = Callable[[Done], Awaitable[None] | None]


@dataclass
class RunResult:
    steps: int = 0
    seconds: float = 0.0
    retries: int = 0
    by_act: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: every 500 a service answered (retried or not): a fault must never surface as one
    server_errors: list[str] = field(default_factory=list)

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds if self.seconds else 0.0


@dataclass
class Answer:
    """A service's answer, read whole."""

    status_code: int
    content: bytes
    #: a retried command got 409: its lost first attempt had landed
    retried: bool = False

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class Api:
    """The three services, one pooled aiohttp session each (a quarter of httpx's CPU per request:
    the simulator shares the machine with the system it drives), with retries safe to repeat."""

    def __init__(self, endpoints: Endpoints, concurrency: int) -> None:
        self.urls = {"registry": endpoints.registry, "programs": endpoints.programs,
                     "monitoring": endpoints.monitoring}  # fmt: skip
        self.concurrency = concurrency
        self.sessions: dict[str, aiohttp.ClientSession] = {}
        self.retries = 0
        self.server_errors: list[str] = []
        #: the calls under way (what a stalled run waits for), by a number of their own
        self.under_way: dict[int, tuple[str, float]] = {}
        self._calls = 0

    def _session(self, service: str) -> aiohttp.ClientSession:
        if service not in self.sessions:
            self.sessions[service] = aiohttp.ClientSession(
                self.urls[service],
                connector=aiohttp.TCPConnector(limit=self.concurrency),
                timeout=aiohttp.ClientTimeout(total=60.0, connect=10.0),
            )
        return self.sessions[service]

    async def aclose(self) -> None:
        for session in self.sessions.values():
            await session.close()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        token: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        self._calls += 1
        call = self._calls
        try:
            return await self._call(call, service, method, path, sent, json, data, files)
        finally:
            self.under_way.pop(call, None)

    def waiting(self) -> list[str]:
        """The calls under way, the longest first, with their seconds."""
        now = time.monotonic()
        return [
            f"{what} ({now - since:.0f} s)"
            for what, since in sorted(self.under_way.values(), key=lambda w: w[1])
        ]

    async def _call(
        self,
        call: int,
        service: str,
        method: str,
        path: str,
        sent: dict[str, str],
        json: Any,
        data: dict[str, str] | None,
        files: dict[str, tuple[str, bytes, str]] | None,
    ) -> Answer:
        delay = 0.2
        for attempt in range(RETRIES):
            self.under_way[call] = (f"{service} {method} {path} (attempt {attempt + 1})", time.monotonic())
            body: Any = data
            if files:
                body = aiohttp.FormData()
                for name, (filename, content, content_type) in files.items():
                    body.add_field(name, content, filename=filename, content_type=content_type)
            try:
                async with self._session(service).request(
                    method, path, headers=sent, json=json, data=body
                ) as response:
                    answer = Answer(response.status, await response.read())
                    later = response.status == 409 and "Retry-After" in response.headers
            except (aiohttp.ClientError, TimeoutError):
                if attempt == RETRIES - 1:
                    raise
            else:
                if answer.status_code == 500:
                    self.server_errors.append(f"{service} {method} {path}: {answer.text[:300]}")
                if answer.status_code < 500 and answer.status_code != 429 and not later:
                    answer.retried = bool(attempt) and answer.status_code == 409
                    return answer
                if attempt == RETRIES - 1:
                    return answer
            self.retries += 1
            await asyncio.sleep(delay * (0.5 + random.random()))  # jitter, not a secret
            delay = min(delay * 2, 5.0)
        raise AssertionError("unreachable")

    async def token(self, **form: str) -> str:
        answer = await self.call("registry", "POST", "/auth/token", data=form)
        if answer.status_code != 200:
            raise SimulationError(
                f"/auth/token ({form.get('grant_type')}): {answer.status_code} {answer.text}"
            )
        token: str = answer.json()["access_token"]
        return token


class Token:
    """A bearer token fetched again before it expires."""

    def __init__(self, api: Api, **form: str) -> None:
        self.api, self.form = api, form
        self.value: str | None = None
        self.at = 0.0

    async def get(self) -> str:
        if self.value is None or time.monotonic() - self.at > TOKEN_REFRESH_S:
            self.value = await self.api.token(**self.form)
            self.at = time.monotonic()
        return self.value


def _ok(answer: Answer, what: str, *also: int) -> Any:
    if answer.status_code < 300 or answer.status_code in also or answer.retried:
        return answer.json() if answer.content else None
    raise SimulationError(f"{what}: {answer.status_code} {answer.text[:500]}")


def mentor_key(
    subjects: Any, qualification: Any, competencies: Any, hours: Any, most: Any
) -> tuple[Any, ...]:
    return (tuple(sorted(subjects)), qualification, tuple(sorted(competencies)), int(hours), int(most))


def mentee_key(subjects: Any, young: Any, deficits: Any) -> tuple[Any, ...]:
    return (tuple(sorted(subjects)), bool(young), tuple(sorted(deficits)))


def _mentor_plan_key(m: Mentor) -> tuple[Any, ...]:
    return mentor_key(
        m.subjects, m.qualification, [c.value for c in m.competencies], m.hours_per_month, m.max_mentees
    )


def _mentee_plan_key(m: Mentee) -> tuple[Any, ...]:
    return mentee_key([m.subject], m.young_specialist, [d.value for d in m.deficits])


def _areas(areas: tuple[DeficitArea, ...]) -> str:
    return ", ".join(label(a) for a in areas)


def base_csv(school: SchoolPlan, base: str) -> bytes:
    """The school's base as curators keep it: CSV with ';', Russian headers and labels."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    if base == "mentor":
        writer.writerow(
            ["Фамилия", "Имя", "Отчество", "Предметы", "Стаж", "Категория", "Компетенции",
             "Часов в месяц", "Макс. наставляемых", "Согласие"]
        )  # fmt: skip
        for m in school.mentors:
            p = m.person
            writer.writerow(
                [p.last_name, p.first_name, p.middle_name, ", ".join(m.subjects), m.experience_years,
                 label(QualificationCategory(m.qualification)), _areas(m.competencies), m.hours_per_month,
                 m.max_mentees, "да"]
            )  # fmt: skip
    else:
        writer.writerow(
            ["Фамилия", "Имя", "Отчество", "Предметы", "Стаж", "Молодой специалист", "Дефициты", "Согласие"]
        )
        for e in school.mentees:
            p = e.person
            writer.writerow(
                [p.last_name, p.first_name, p.middle_name, e.subject, e.experience_years,
                 "да" if e.young_specialist else "нет", _areas(e.deficits), "да"]
            )  # fmt: skip
    return out.getvalue().encode("utf-8")


class SchoolRun:
    """One school's year, step by step, with the ids the services gave back."""

    def __init__(self, runner: Runner, school: SchoolPlan, credentials: tuple[str, str]) -> None:
        self.runner, self.api, self.school = runner, runner.api, school
        self.token = Token(
            self.api, grant_type="client_credentials", client_id=credentials[0], client_secret=credentials[1]
        )
        self.mentors: list[str] = []
        self.mentees: list[str] = []
        self.programme = ""
        self.pairs: dict[int, str] = {}
        self.meetings: dict[tuple[int, int], str] = {}
        self.counts: dict[Act, int] = defaultdict(int)
        self.key_prefix = f"sim-{runner.plan.seed}-{runner.run_id}-{school.code}"

    async def call(self, service: str, method: str, path: str, key: str | None = None, **kw: Any) -> Any:
        headers = {"Idempotency-Key": f"{self.key_prefix}-{key}"} if key else {}
        return await self.api.call(service, method, path, await self.token.get(), headers=headers, **kw)

    async def _created(
        self,
        answer: Answer,
        path: str,
        key: str,
        body: dict[str, Any],
        find: Callable[[], Awaitable[dict[str, Any] | None]],
        what: str,
    ) -> dict[str, Any]:
        """What a create made, also when the service died before answering (kill -9): its retry
        then meets "already exists" or a key still in flight; the thing is looked up, and sent
        again (under a fresh key) only if it does not exist."""
        for again in range(RETRIES):
            if answer.status_code != 409:  # 409: it exists already, or its key is still in flight
                made = _ok(answer, what)
                if isinstance(made, dict) and "id" in made:
                    return made
            found = await find()
            if found is not None:
                return found
            await asyncio.sleep(1.0)
            answer = await self.call("programs", "POST", path, key=f"{key}-again-{again}", json=body)
        raise SimulationError(f"{what}: neither made nor found after {RETRIES} tries")

    async def run(self) -> None:
        for n, step in enumerate(self.school.steps):
            began = time.monotonic()
            await getattr(self, f"do_{step.act.value}")(n, step)
            self.counts[step.act] += 1
            await self.runner.finished(
                Done(self.school.code, step.act, self.counts, time.monotonic() - began)
            )

    async def do_import(self, n: int, step: Step) -> None:
        (base,) = step.args
        code = self.school.code
        files = {"file": (f"{code}-{base}.csv", base_csv(self.school, str(base)), "text/csv")}
        _ok(
            await self.call("registry", "POST", f"/schools/{code}/import/{base}", files=files),
            f"{code} import",
        )

    async def _resolve_participants(self) -> None:
        """Imported people get ids in the registry; match them to the plan by what the plan gave them."""
        code = self.school.code
        listed = _ok(
            await self.call("registry", "GET", f"/schools/{code}/participants"), f"{code} participants"
        )
        found: dict[tuple[Any, ...], list[str]] = defaultdict(list)
        for p in sorted(listed, key=lambda p: str(p["id"])):
            a = p["attributes"]
            if p["in_mentor_base"]:
                key = mentor_key(
                    a["subjects"],
                    a.get("qualification"),
                    a["competencies"],
                    a["hours_per_month"],
                    a["max_mentees"],
                )
            else:
                key = mentee_key(a["subjects"], a.get("young_specialist"), a["deficits"])
            found[(p["in_mentor_base"], *key)].append(str(p["id"]))
        try:
            self.mentors = [found[(True, *_mentor_plan_key(m))].pop() for m in self.school.mentors]
            self.mentees = [found[(False, *_mentee_plan_key(m))].pop() for m in self.school.mentees]
        except IndexError:
            raise SimulationError(
                f"{code}: the registry's bases do not match the plan (imported twice?)"
            ) from None

    async def do_launch(self, n: int, step: Step) -> None:
        await self._resolve_participants()  # the bases are in: their ids, for the pairs
        title, starts_on = step.args
        body = {"title": title, "form": "teacher_teacher", "starts_on": str(starts_on), "curator": "куратор"}

        async def made() -> dict[str, Any] | None:
            path = f"/programmes?school={self.school.code}"
            listed = _ok(await self.call("programs", "GET", path), "programmes")
            return next((p for p in listed if p["title"] == title and p["starts_on"] == str(starts_on)), None)

        first = await self.call("programs", "POST", "/programmes", key=str(n), json=body)
        self.programme = (await self._created(first, "/programmes", str(n), body, made, "launch"))["id"]

    async def do_document(self, n: int, step: Step) -> None:
        number, dated = step.args
        body = {"kind": "regulations_order", "number": number, "dated": str(dated),
                "title": "Об утверждении положения о наставничестве"}  # fmt: skip
        path = f"/programmes/{self.programme}/documents"
        _ok(await self.call("programs", "POST", path, key=str(n), json=body), "document")

    async def do_stage(self, n: int, step: Step) -> None:
        stage, on = step.args
        path = f"/programmes/{self.programme}/stage"
        _ok(await self.call("programs", "POST", path, json={"stage": stage, "on": str(on)}), f"stage {stage}")

    async def do_form_pair(self, n: int, step: Step) -> None:
        (index,) = step.args
        pair = self.school.pairs[int(str(index))]
        body = {
            "mentor_ids": [self.mentors[pair.mentor]],
            "mentee_ids": [self.mentees[m] for m in pair.mentees],
            "formed_on": str(pair.formed_on),
        }
        path = f"/programmes/{self.programme}/pairs"

        async def formed() -> dict[str, Any] | None:
            listed = _ok(await self.call("programs", "GET", path), "pairs")
            return next(
                (
                    p
                    for p in listed
                    if [str(m) for m in p["mentor_ids"]] == body["mentor_ids"]
                    and [str(m) for m in p["mentee_ids"]] == body["mentee_ids"]
                ),
                None,
            )

        waited, attempt = 0.0, 0
        while True:  # until the registry's events about these people have reached the programs service
            answer = await self.call("programs", "POST", path, key=f"{n}-{attempt}", json=body)
            if answer.status_code != 409 or answer.retried or waited > ELIGIBILITY_WAIT_S:
                break
            # a 409 is also "this pair works already": an earlier attempt landed with its answer lost
            if (found := await formed()) is not None:
                self.pairs[int(str(index))] = found["id"]
                return
            attempt += 1
            await asyncio.sleep(0.5)
            waited += 0.5
        made = await self._created(
            answer, path, f"{n}-{attempt}", body, formed, f"{self.school.code} pair {index}"
        )
        self.pairs[int(str(index))] = made["id"]

    async def do_roadmap(self, n: int, step: Step) -> None:
        (index,) = step.args
        pair = self.school.pairs[int(str(index))]
        items = [
            {
                "item_id": str(item.item_id),
                "activity": ACTIVITY_TEXT.get(item.direction, "Мероприятие"),
                "kind": "Консультация, взаимопосещение",
                "direction": item.direction.value,
                "expected_results": "Освоен приём, применён на уроке",
                "due_on": str(item.due_on),
            }
            for item in pair.items
        ]
        path = f"/pairs/{self.pairs[int(str(index))]}/roadmap"
        for again in range(RETRIES):
            answer = await self.call("programs", "PUT", path, key=f"{n}-{again}", json={"items": items})
            if answer.status_code not in (409, 422):
                break
            # 422: a first attempt landed with its answer lost, so this one reads as a correction;
            # 409: its key is held by a process killed mid-command. Either way: is it drawn up?
            drawn = _ok(await self.call("programs", "GET", path), "roadmap")
            if [str(i["item_id"]) for i in drawn["items"]] == [i["item_id"] for i in items]:
                return
            if answer.status_code == 422:
                break
            await asyncio.sleep(1.0)  # then again, under a fresh key
        _ok(answer, "roadmap")

    async def do_complete_item(self, n: int, step: Step) -> None:
        index, item_id, done, product = step.args
        path = f"/pairs/{self.pairs[int(str(index))]}/roadmap/items/{item_id}/complete"
        body = {"completed_on": str(done), "product_kind": product, "attitude": "Полезно для работы"}
        _ok(await self.call("programs", "POST", path, json=body), "complete item")

    async def do_meeting(self, n: int, step: Step) -> None:
        index, held, kind, on = step.args
        pair = self.pairs[int(str(index))]
        body = {"kind": kind, "mode": "in_person", "held_on": str(on)}

        async def recorded() -> dict[str, Any] | None:
            view = _ok(await self.call("programs", "GET", f"/pairs/{pair}"), "pair")
            return next((m for m in view["meetings"] if m["kind"] == kind and m["held_on"] == str(on)), None)

        path = f"/pairs/{pair}/meetings"
        first = await self.call("programs", "POST", path, key=str(n), json=body)
        answer = await self._created(first, path, str(n), body, recorded, "meeting")
        self.meetings[(int(str(index)), int(str(held)))] = answer["id"]

    async def do_feedback(self, n: int, step: Step) -> None:
        index, held, side, scores, wants = step.args
        pair = self.pairs[int(str(index))]
        meeting = self.meetings[(int(str(index)), int(str(held)))]
        levels = ("reaction", "knowledge", "behaviour", "results")
        body = {
            "respondent_role": side,
            "scores": dict(zip(levels, scores, strict=True)),  # type: ignore[call-overload]
            "wants_to_become_mentor": wants,
        }
        _ok(
            await self.call("programs", "POST", f"/pairs/{pair}/meetings/{meeting}/feedback", json=body),
            "feedback",
        )

    async def do_dissolve(self, n: int, step: Step) -> None:
        index, reason, on = step.args
        body = {"reason": reason, "on": str(on), "note": "По заявлению"}
        _ok(
            await self.call("programs", "POST", f"/pairs/{self.pairs[int(str(index))]}/dissolve", json=body),
            "dissolve",
        )

    async def do_complete_programme(self, n: int, step: Step) -> None:
        on, nominated = step.args
        body = {
            "completed_on": str(on),
            "reflection": "Программа выполнена, молодые педагоги освоились в школе",
            "results": "Цели года достигнуты",
            "nominated_mentor_ids": [self.mentors[int(m)] for m in nominated],  # type: ignore[attr-defined]
        }
        path = f"/programmes/{self.programme}/complete"
        _ok(await self.call("programs", "POST", path, json=body), "complete programme")


ACTIVITY_TEXT = {
    DeficitArea.SCIENTIFIC_THEORETICAL: "Изучение современных исследований по предмету",
    DeficitArea.LEGAL_NORMATIVE: "Изучение ФГОС, локальных актов и ведения документации",
    DeficitArea.SUBJECT_PROFESSIONAL: "Взаимопосещение уроков по предмету с разбором",
    DeficitArea.PSYCHOLOGICAL_PEDAGOGICAL: "Приёмы работы с трудными ситуациями на уроке",
    DeficitArea.METHODOLOGICAL: "Разработка технологической карты урока",
    DeficitArea.ICT: "Освоение цифровых образовательных ресурсов",
    DeficitArea.DIGITALISATION: "Электронный журнал и цифровая среда школы",
    DeficitArea.EXTRACURRICULAR_UPBRINGING: "Подготовка классного часа и внеурочного занятия",
    DeficitArea.HEALTH_PRESERVATION: "Здоровьесберегающие технологии на уроке",
}


class Runner:
    """The region's year: the operator's part, then every school's, bounded by ``concurrency``."""

    def __init__(
        self,
        plan: RegionPlan,
        endpoints: Endpoints,
        operator: tuple[str, str],
        concurrency: int = 8,
        observers: list[Observer] | None = None,
    ) -> None:
        self.plan = plan
        self.api = Api(endpoints, concurrency * 2)
        self.operator = Token(self.api, grant_type="password", username=operator[0], password=operator[1])
        self.concurrency = concurrency
        self.observers = list(observers or [])
        self.result = RunResult()
        self.run_id = uuid.uuid4().hex[:8]

    async def finished(self, done: Done) -> None:
        self.result.steps += 1
        self.result.by_act[done.act.value] += 1
        for observer in self.observers:
            outcome = observer(done)
            if outcome is not None:
                await outcome

    async def operator_call(self, method: str, path: str, **kwargs: Any) -> Answer:
        return await self.api.call("registry", method, path, await self.operator.get(), **kwargs)

    async def _bounded(self, jobs: list[Callable[[], Awaitable[None]]]) -> None:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(job: Callable[[], Awaitable[None]]) -> None:
            async with gate:
                await job()

        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(one(job))

    async def run(self) -> RunResult:
        began = time.monotonic()
        try:
            await self._run()
        finally:
            self.result.seconds = time.monotonic() - began
            self.result.retries = self.api.retries
            self.result.server_errors = list(self.api.server_errors)
            await self.api.aclose()
        return self.result

    async def _run(self) -> None:
        plan = self.plan
        for code, name in plan.municipalities:
            answer = await self.operator_call("POST", "/municipalities", json={"code": code, "name": name})
            _ok(answer, f"municipality {code}", 409)
            await self.finished(Done("", Act.MUNICIPALITY, {}, 0.0))
        credentials: dict[str, tuple[str, str]] = {}

        async def connect(school: SchoolPlan) -> None:
            body = {
                "code": school.code,
                "municipality": school.municipality,
                "name": school.name,
                "teachers": school.teachers,
                "students": school.students,
            }
            _ok(await self.operator_call("POST", "/schools", json=body), f"school {school.code}", 409)
            await self.finished(Done(school.code, Act.SCHOOL, {}, 0.0))
            issued = _ok(
                await self.operator_call("POST", f"/schools/{school.code}/credentials"), "credentials"
            )
            credentials[school.code] = (issued["client_id"], issued["client_secret"])
            await self.finished(Done(school.code, Act.CREDENTIALS, {}, 0.0))

        await self._bounded([lambda s=s: connect(s) for s in plan.schools])  # type: ignore[misc]
        await self._bounded(
            [lambda s=s: SchoolRun(self, s, credentials[s.code]).run() for s in plan.schools]  # type: ignore[misc]
        )


async def simulate(
    plan: RegionPlan,
    endpoints: Endpoints,
    operator: tuple[str, str],
    concurrency: int = 8,
    observers: list[Observer] | None = None,
) -> RunResult:
    """Run the plan; the answer counts steps, seconds and retries."""
    return await Runner(plan, endpoints, operator, concurrency, observers).run()
