"""The registry under a region's load: bulk import of the bases, then authenticated reads.

The registry runs as its own process (``python -m mentornet_spine.serve registry``) on PostgreSQL
(a fresh schema) and the local NATS (a fresh subject root), as deployed. The bench

1. connects a region of ``--schools`` schools over the HTTP API (municipalities, schools; client
   credentials, curator accounts and tokens for ``--login-schools`` of them through
   ``/auth/token``; the other schools' tokens are signed by the bench with the key it hands the
   registry, since every password and secret check is an argon2 hash of ~0.3 s on the service's
   event loop);
2. imports each school's mentor and mentee bases, one CSV per school and base as schools do it,
   ``--teachers`` rows in all (about 15 % mentors), ``--import-concurrency`` files in flight:
   rows per second, seconds, per-file latency and the registry process's peak RSS.
   Floor: 45,000 rows in under 60 s;
3. reads from a second process (``GET /schools/{code}`` and ``GET /schools/{code}/participants``
   with school-system and curator tokens): one client alone, ``--clients`` clients at
   ``--paced-rate`` requests/s each, and ``--clients`` clients in a closed loop for
   ``--duration`` s: requests per second and p50/p90/p99 latency.
   Floor: p99 below 50 ms with 50 concurrent clients, judged on the paced load (50 people or
   school systems each reading ``--paced-rate`` times a second, latency counted from when each
   request was due). The closed loop, each client firing again the instant it has an answer, is
   the saturation test: its p99 is bounded below by clients / throughput (Little's law), which
   one Python process on a 2-core host cannot bring under 50 ms for 50 clients.

    .venv/bin/python bench/registry.py                 # 1,100 schools, 45,000 teachers, 50 clients
    .venv/bin/python bench/registry.py --schools 100 --teachers 4100 --duration 10 --profile /tmp/prof

With ``--profile DIR`` the registry process is sampled by py-spy during the import and the
closed-loop reads (raw folded stacks are left in DIR) and the report says where its CPU goes.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import math
import multiprocessing as mp
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import Any

import httpx
import nats
from rich.console import Console
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from mentornet_auth import Principal, Role, SigningKey, TokenIssuer
from mentornet_events import Subjects
from mentornet_events.labels_ru import label
from mentornet_events.vocabulary import DeficitArea, MentoringForm, QualificationCategory
from mentornet_spine.db import create_schema, drop_schema
from mentornet_spine.natsserver import free_port
from mentornet_spine.streams import delete_streams

from harness.cli import add_server_arguments, command_line, run_bench
from harness.client import RawConnection, bearer, bounded, call
from harness.console import MEASURES, print_profile, print_table
from harness.environment import environment, git_state, load_average
from harness.latency import Summary, ms, percentiles
from harness.markdown import environment_line, markdown_profile, markdown_table
from harness.processes import ServiceProcess, service_env
from harness.profiling import ProfileSummary, PySpy, summarise_profile
from harness.rates import Requests
from harness.sampling import ProcessStats, RssPoller, Usage

REGION = "38"
KEY_ID = "registry-1"  # the kid the registry gives a key passed in REGISTRY_SIGNING_KEY
TOKEN_LIFETIME_S = 3600  # the registry's maximum: tokens outlive the whole run
OPERATOR_PASSWORD = "bench-operator-password"
CURATOR_PASSWORD = "bench-curator-password"
SETUP_IN_FLIGHT = 16
WARMUP_S = 2.0
SINGLE_CLIENT_S = 5.0
IDLE_S = 3.0
RSS_POLL_S = 0.1
IMPORT_FLOOR_ROWS = 45_000
IMPORT_FLOOR_S = 60.0
READ_FLOOR_CLIENTS = 50
READ_FLOOR_P99_S = 0.050
MENTOR_SHARE = 0.15
SCHOOL_ENDPOINT = "GET /schools/{code}"
PARTICIPANTS_ENDPOINT = "GET /schools/{code}/participants"

# --- a region, generated ------------------------------------------------------------------------

MUNICIPALITIES = [
    "г. Иркутск", "г. Братск", "Ангарский городской округ", "Усольский район", "Шелеховский район",
    "Иркутский район", "Тайшетский район", "Нижнеудинский район", "Черемховский район",
    "Тулунский район", "Усть-Илимский район", "Усть-Кутский район", "Братский район",
    "Зиминский район", "Куйтунский район", "Чунский район", "Нижнеилимский район",
    "Киренский район", "Бодайбинский район", "Заларинский район", "Слюдянский район",
    "Эхирит-Булагатский район", "Боханский район", "Осинский район", "Баяндаевский район",
    "Аларский район", "Нукутский район", "Балаганский район", "Жигаловский район",
    "Качугский район", "Ольхонский район", "Казачинско-Ленский район", "Усть-Удинский район",
    "Мамско-Чуйский район", "Катангский район",
]  # fmt: skip
SURNAMES = [
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
    "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
    "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев",
    "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев",
    "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов",
    "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов",
    "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов",
    "Шестаков", "Ефимов", "Щербаков", "Калинин", "Лаптев", "Белых", "Черных", "Шевченко",
]  # fmt: skip
FEMALE_NAMES = [
    "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Анна", "Марина", "Юлия",
    "Екатерина", "Людмила", "Галина", "Надежда", "Валентина", "Мария", "Оксана", "Анастасия",
    "Любовь", "Вера", "Лариса", "Евгения", "Дарья", "Алёна", "Ксения", "Виктория", "Нина",
]  # fmt: skip
MALE_NAMES = [
    "Александр", "Сергей", "Андрей", "Алексей", "Дмитрий", "Владимир", "Евгений", "Михаил",
    "Николай", "Игорь", "Виктор", "Олег", "Юрий", "Павел", "Роман", "Иван", "Максим", "Денис",
]  # fmt: skip
FATHERS = [
    "Александр", "Сергей", "Владимир", "Николай", "Виктор", "Иван", "Михаил", "Юрий", "Пётр",
    "Анатолий", "Геннадий", "Валерий", "Борис", "Василий", "Григорий", "Леонид", "Фёдор", "Олег",
]  # fmt: skip
SUBJECTS = [
    "начальные классы", "русский язык", "литература", "математика", "физика", "химия",
    "биология", "история", "обществознание", "география", "информатика", "английский язык",
    "немецкий язык", "физическая культура", "музыка", "изобразительное искусство", "технология",
    "основы безопасности жизнедеятельности",
]  # fmt: skip
POSITIONS = ["учитель", "учитель", "учитель", "педагог-психолог", "социальный педагог", "педагог-организатор"]
TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r", "s",
         "t", "u", "f", "h", "ts", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya"],
        strict=True,
    )
)  # fmt: skip
MENTOR_HEADER = [
    "Фамилия", "Имя", "Отчество", "Email", "Телефон", "Должность", "Предметы", "Стаж", "Категория",
    "Компетенции", "Часов в месяц", "Макс. наставляемых", "Согласие",
]  # fmt: skip
MENTEE_HEADER = [
    "Фамилия", "Имя", "Отчество", "Email", "Телефон", "Должность", "Предметы", "Стаж",
    "Молодой специалист", "Дефициты", "Желаемая форма", "Согласие",
]  # fmt: skip


@dataclass(frozen=True)
class School:
    code: str
    municipality: str
    name: str
    teachers: int

    @property
    def mentors(self) -> int:
        return max(1, round(self.teachers * MENTOR_SHARE))

    @property
    def mentees(self) -> int:
        return self.teachers - self.mentors


@dataclass(frozen=True)
class ImportFile:
    school: str
    base: str  # "mentor" | "mentee"
    filename: str
    content: bytes
    rows: int


def municipality_codes(count: int) -> list[tuple[str, str]]:
    return [
        (
            f"mo-{i + 1:02d}",
            MUNICIPALITIES[i] if i < len(MUNICIPALITIES) else f"Муниципальный округ № {i + 1}",
        )
        for i in range(count)
    ]


def split_total(total: int, weights: Sequence[float], minimum: int) -> list[int]:
    """``total`` shared in proportion to ``weights`` (largest remainders), each at least ``minimum``."""
    spare = total - minimum * len(weights)
    if spare < 0:
        raise ValueError(f"{total} cannot give {len(weights)} parts at least {minimum} each")
    scale = spare / sum(weights)
    exact = [w * scale for w in weights]
    parts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in by_remainder[: spare - sum(parts)]:
        parts[i] += 1
    return [p + minimum for p in parts]


def make_region(
    schools: int, teachers: int, rng: random.Random
) -> tuple[list[tuple[str, str]], list[School]]:
    """Municipalities of uneven size; schools of 5 to a few hundred teachers (log-normal sizes)."""
    munis = municipality_codes(min(len(MUNICIPALITIES), max(1, schools // 20)))
    muni_weights = [rng.lognormvariate(0, 1.0) for _ in munis]
    muni_weights[0] *= 4  # the regional capital
    sizes = split_total(teachers, [rng.lognormvariate(0, 0.6) for _ in range(schools)], minimum=5)
    region = []
    for i, size in enumerate(sizes):
        code, _name = rng.choices(munis, muni_weights)[0]
        kind = rng.choice(["СОШ", "СОШ", "СОШ", "Лицей", "Гимназия", "ООШ"])
        region.append(School(f"sch-{i + 1:04d}", code, f"МБОУ «{kind} № {i + 1}»", size))
    return munis, region


def _latin(text: str) -> str:
    return "".join(TRANSLIT.get(ch, "") for ch in text.lower())


def _patronymic(father: str, female: bool) -> str:
    if father.endswith("ий"):  # Юрий -> Юрьевна
        stem, ending = father[:-2] + "ь", "ев"
    elif father.endswith("й"):  # Сергей -> Сергеевна
        stem, ending = father[:-1], "ев"
    else:  # Пётр -> Петровна, Михаил -> Михайловна
        stem, ending = {"Пётр": "Петр", "Михаил": "Михайл"}.get(father, father), "ов"
    return stem + ending + ("на" if female else "ич")


def _person(rng: random.Random, school: School, n: int) -> list[str]:
    surname = rng.choice(SURNAMES)
    female = rng.random() < 0.8  # four in five teachers are women
    if female:
        first = rng.choice(FEMALE_NAMES)
        if surname.endswith(("ов", "ев", "ёв", "ин")):
            surname += "а"
    else:
        first = rng.choice(MALE_NAMES)
    middle = _patronymic(rng.choice(FATHERS), female)
    email = f"{_latin(surname)}.{_latin(first)[0]}{n}@{school.code}.example.org"
    digits = [rng.randint(0, 99), rng.randint(0, 999), rng.randint(0, 99), rng.randint(0, 99)]
    phone = "+7 9{:02d} {:03d}-{:02d}-{:02d}".format(*digits)
    return [surname, first, middle, email, phone, rng.choice(POSITIONS)]


def _areas(rng: random.Random, most: int) -> str:
    return ", ".join(label(a) for a in rng.sample(list(DeficitArea), rng.randint(1, most)))


def school_files(school: School, rng: random.Random) -> list[ImportFile]:
    """The school's two bases as CSV with ';' (as Excel in Russian saves them); every third in cp1251."""
    qualifications = [label(QualificationCategory.HIGHEST), label(QualificationCategory.FIRST)]
    forms = [label(MentoringForm.TEACHER_TEACHER)] * 4 + [label(MentoringForm.GROUP), ""]
    mentors = [
        [
            *_person(rng, school, n),
            ", ".join(rng.sample(SUBJECTS, rng.randint(1, 2))),
            str(rng.randint(10, 40)),
            rng.choice(qualifications),
            _areas(rng, 3),
            str(rng.choice([4, 6, 8, 8, 10, 12])),
            str(rng.randint(1, 3)),
            "да",
        ]
        for n in range(school.mentors)
    ]
    mentees = []
    for n in range(school.mentors, school.teachers):
        years = rng.choice([0, 0, 1, 1, 2, 2, 3, 4, 5, 7, 12])
        mentees.append(
            [
                *_person(rng, school, n),
                rng.choice(SUBJECTS),
                str(years),
                "да" if years < 3 else "нет",
                _areas(rng, 3),
                rng.choice(forms),
                "да",
            ]
        )
    encoding = "cp1251" if int(school.code[-4:]) % 3 == 0 else "utf-8"
    files = []
    for base, header, rows in (("mentor", MENTOR_HEADER, mentors), ("mentee", MENTEE_HEADER, mentees)):
        if not rows:
            continue
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
        name = f"{'наставники' if base == 'mentor' else 'наставляемые'}-{school.code}.csv"
        files.append(ImportFile(school.code, base, name, buffer.getvalue().encode(encoding), len(rows)))
    return files


# --- measurements -------------------------------------------------------------------------------


@dataclass
class SetupResult:
    municipalities: int
    schools: int
    structure_s: float  # municipalities and schools over HTTP
    login_schools: int
    login_s: float  # credentials, curator accounts and four argon2 checks per login school
    token_latency: Summary  # POST /auth/token, both grants
    signed_schools: int  # tokens signed by the bench with the registry's key


@dataclass
class ImportResult:
    files: int
    rows: int
    concurrency: int
    seconds: float
    per_file: Summary
    rss_before_mb: float
    rss_peak_mb: float
    rss_after_mb: float
    usage: Usage  # of the registry process while files were uploaded
    relayed_s: float  # from the first upload until the outbox is empty (all events in JetStream)
    participants: int  # counted in the database afterwards

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


@dataclass
class LoadPlan:
    """What the load process needs (picklable)."""

    base_url: str
    clients: int
    warmup_s: float
    duration_s: float
    targets: list[tuple[str, str, str]]  # (endpoint, path, bearer token)
    seed: int
    http_client: str = "raw"  # "raw": RawConnection per client; "httpx": one pooled AsyncClient
    interval_s: float = 0.0  # 0: closed loop; else each client sends on this schedule


@dataclass
class LoadOutcome:
    latencies: dict[str, list[float]]  # endpoint -> seconds, requests completed in the window
    statuses: dict[int, int]
    failures: dict[str, int]  # transport errors by exception type
    window_s: float
    cpu_s: float  # the load process's own CPU time in the window


@dataclass
class ReadResult(Requests):
    overall: Summary
    usage: Usage  # of the registry process in the window
    loader_cpu_busy: float
    failures: dict[str, int]
    statuses: dict[int, int]


@dataclass
class Results:
    args: dict[str, Any]
    setup: SetupResult
    imported: ImportResult
    reads: ReadResult
    single: ReadResult  # one client: the service time without queueing
    paced: ReadResult | None  # the clients at a fixed rate each, if asked for
    idle: Usage  # the registry with no requests (its outbox relay polls the database)
    profiles: list[ProfileSummary] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)


# --- the registry process -----------------------------------------------------------------------


def registry_env(
    nats_url: str, database_url: str, schema: str, root: str, workdir: Path, key: SigningKey
) -> dict[str, str]:
    extra = {
        "MENTORNET_DATA_DIR": str(workdir / "data"),
        "MENTORNET_REGION": REGION,
        "REGISTRY_BOOTSTRAP_PASSWORD": OPERATOR_PASSWORD,
        "REGISTRY_SIGNING_KEY": key.pem().decode(),
        "REGISTRY_TOKEN_LIFETIME": str(TOKEN_LIFETIME_S),
    }
    return service_env("registry", nats_url, database_url, schema, root, extra)


# --- the region over HTTP -----------------------------------------------------------------------


@dataclass
class Tokens:
    school: dict[str, str] = field(default_factory=dict)  # school code -> token of its own system
    curator: dict[str, str] = field(default_factory=dict)


async def connect_region(
    client: httpx.AsyncClient,
    munis: list[tuple[str, str]],
    region: list[School],
    login_schools: int,
    issuer: TokenIssuer,
) -> tuple[SetupResult, Tokens]:
    form = {"grant_type": "password", "username": "operator", "password": OPERATOR_PASSWORD}
    operator = bearer((await call(client, "POST", "/auth/token", data=form))["access_token"])
    start = time.perf_counter()
    await bounded(
        SETUP_IN_FLIGHT,
        [
            partial(call, client, "POST", "/municipalities", operator, json={"code": code, "name": name})
            for code, name in munis
        ],
    )

    def school_body(s: School) -> dict[str, Any]:
        return {
            "code": s.code,
            "municipality": s.municipality,
            "name": s.name,
            "teachers": s.teachers,
            "students": s.teachers * 12,
            "contact_email": f"info@{s.code}.example.org",
        }

    await bounded(
        SETUP_IN_FLIGHT,
        [partial(call, client, "POST", "/schools", operator, json=school_body(s)) for s in region],
    )
    structure_s = time.perf_counter() - start

    tokens = Tokens()
    token_latencies: list[float] = []

    async def token(form: dict[str, str]) -> str:
        began = time.perf_counter()
        issued = await call(client, "POST", "/auth/token", data=form)
        token_latencies.append(time.perf_counter() - began)
        return str(issued["access_token"])

    async def log_in(s: School) -> None:
        issued = await call(client, "POST", f"/schools/{s.code}/credentials", operator)
        account = {
            "username": f"curator.{s.code}",
            "password": CURATOR_PASSWORD,
            "role": "school_curator",
            "school": s.code,
        }
        await call(client, "POST", "/accounts", operator, json=account)
        tokens.school[s.code] = await token(
            {
                "grant_type": "client_credentials",
                "client_id": issued["client_id"],
                "client_secret": issued["client_secret"],
            }
        )
        tokens.curator[s.code] = await token(
            {"grant_type": "password", "username": f"curator.{s.code}", "password": CURATOR_PASSWORD}
        )

    sample = region[:login_schools]
    start = time.perf_counter()
    await bounded(SETUP_IN_FLIGHT, [partial(log_in, s) for s in sample])
    login_s = time.perf_counter() - start

    for s in region[login_schools:]:  # what /auth/token would issue them, signed with the same key
        tokens.school[s.code] = issuer.issue(
            Principal(
                subject=f"school-{s.code}-bench",
                role=Role.SCHOOL,
                region=REGION,
                municipality=s.municipality,
                school=s.code,
            )
        )
        tokens.curator[s.code] = issuer.issue(
            Principal(
                subject=f"curator.{s.code}",
                role=Role.SCHOOL_CURATOR,
                region=REGION,
                municipality=s.municipality,
                school=s.code,
            )
        )
    result = SetupResult(
        municipalities=len(munis),
        schools=len(region),
        structure_s=structure_s,
        login_schools=len(sample),
        login_s=login_s,
        token_latency=Summary.of(token_latencies),
        signed_schools=len(region) - len(sample),
    )
    return result, tokens


# --- 1. the import ------------------------------------------------------------------------------


async def outbox_backlog(client: httpx.AsyncClient) -> int:
    report = (await client.get("/health")).json()
    return int(report.get("outbox_backlog", 0))


async def import_bases(
    client: httpx.AsyncClient,
    files: list[ImportFile],
    tokens: Tokens,
    concurrency: int,
    stats: ProcessStats,
    postgres_url: str,
    schema: str,
) -> ImportResult:
    latencies: list[float] = []
    imported = 0

    async def upload(f: ImportFile) -> None:
        nonlocal imported
        began = time.perf_counter()
        report = await call(
            client,
            "POST",
            f"/schools/{f.school}/import/{f.base}",
            bearer(tokens.curator[f.school]),
            files={"file": (f.filename, f.content, "text/csv")},
        )
        took = time.perf_counter() - began
        latencies.append(took)
        imported += int(report["imported"])

    rss_before = stats.rss_mb()
    stats.reset_peak()
    before = stats.mark()
    with RssPoller(stats, RSS_POLL_S) as rss:
        start = time.perf_counter()
        await bounded(concurrency, [partial(upload, f) for f in files])
        seconds = time.perf_counter() - start
        usage = stats.usage_since(before)
        while True:  # the relay publishes behind the commits
            if await outbox_backlog(client) == 0:
                break
            await asyncio.sleep(0.25)
        relayed_s = time.perf_counter() - start
    rows = sum(f.rows for f in files)
    engine = create_async_engine(postgres_url, connect_args={"server_settings": {"search_path": schema}})
    async with engine.connect() as conn:
        participants = int(await conn.scalar(text("SELECT count(*) FROM registry_participants")) or 0)
    await engine.dispose()
    if not imported == participants == rows:
        raise RuntimeError(f"{rows} rows sent, {imported} reported imported, {participants} in the database")
    return ImportResult(
        files=len(files),
        rows=rows,
        concurrency=concurrency,
        seconds=seconds,
        per_file=Summary.of(latencies),
        rss_before_mb=rss_before,
        rss_peak_mb=max(rss.peak, stats.peak_mb()),
        rss_after_mb=stats.rss_mb(),
        usage=usage,
        relayed_s=relayed_s,
        participants=participants,
    )


# --- 2. the reads, from a second process --------------------------------------------------------


async def load(plan: LoadPlan, started: ProcessEvent, ended: ProcessEvent) -> LoadOutcome:
    """``clients`` closed loops: each sends its next request as soon as the previous one answers."""
    rng = random.Random(plan.seed)
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[int] = Counter()
    failures: Counter[str] = Counter()
    url = httpx.URL(plan.base_url)
    limits = httpx.Limits(max_connections=plan.clients, max_keepalive_connections=plan.clients)
    async with httpx.AsyncClient(base_url=plan.base_url, limits=limits, timeout=30) as pooled:
        window_start = time.perf_counter() + plan.warmup_s
        window_end = window_start + plan.duration_s
        cpu_at: list[float] = []

        async def window() -> None:  # tells the bench when the measured window opens and closes
            await asyncio.sleep(window_start - time.perf_counter())
            cpu_at.append(time.process_time())
            started.set()
            await asyncio.sleep(window_end - time.perf_counter())
            cpu_at.append(time.process_time())
            ended.set()

        async def one_client() -> None:
            own = RawConnection(url.host, url.port or 80)
            due = time.perf_counter() + rng.uniform(0, plan.interval_s)  # clients out of phase
            while True:
                endpoint, path, token = rng.choice(plan.targets)
                if plan.interval_s:  # paced: latency counts from when the request was due, so a
                    await asyncio.sleep(due - time.perf_counter())  # slow answer that delays the
                    began, due = due, due + plan.interval_s  # next one is not hidden
                else:
                    began = time.perf_counter()
                if began >= window_end:
                    await own.close()
                    return
                failure = ""
                try:
                    if plan.http_client == "httpx":
                        status = (await pooled.get(path, headers=bearer(token))).status_code
                    else:
                        status, _ = await asyncio.wait_for(own.get(path, token), 30)
                except (OSError, EOFError, ValueError, TimeoutError, httpx.HTTPError) as error:
                    status, failure = 0, type(error).__name__
                done = time.perf_counter()
                if window_start <= done < window_end:
                    statuses[status] += 1
                    if failure:
                        failures[failure] += 1
                    if status == 200:
                        latencies[endpoint].append(done - began)

        await asyncio.gather(window(), *(one_client() for _ in range(plan.clients)))
    return LoadOutcome(
        dict(latencies), dict(statuses), dict(failures), plan.duration_s, cpu_at[1] - cpu_at[0]
    )


def run_load(plan: LoadPlan, started: ProcessEvent, ended: ProcessEvent, results: Queue[LoadOutcome]) -> None:
    """The load process's entry point."""
    results.put(asyncio.run(load(plan, started, ended)))


def read_targets(region: list[School], tokens: Tokens) -> list[tuple[str, str, str]]:
    targets = []
    for s in region:
        for token in (tokens.school[s.code], tokens.curator[s.code]):
            targets.append((SCHOOL_ENDPOINT, f"/schools/{s.code}", token))
            targets.append((PARTICIPANTS_ENDPOINT, f"/schools/{s.code}/participants", token))
    return targets


async def read_load(plan: LoadPlan, stats: ProcessStats) -> ReadResult:
    ctx = mp.get_context("spawn")
    started, ended = ctx.Event(), ctx.Event()
    results: Queue[LoadOutcome] = ctx.Queue()
    proc = ctx.Process(target=run_load, args=(plan, started, ended, results), name="bench-readers")
    proc.start()
    try:
        if not await asyncio.to_thread(started.wait, 60 + plan.warmup_s):
            raise RuntimeError(f"the load process did not start (exit code {proc.exitcode})")
        before = stats.mark()
        await asyncio.to_thread(ended.wait, plan.duration_s + 60)
        usage = stats.usage_since(before)
        outcome: LoadOutcome = await asyncio.to_thread(results.get, True, 120)
    finally:
        await asyncio.to_thread(proc.join, 30)
        if proc.is_alive():
            proc.terminate()
    everything = [x for samples in outcome.latencies.values() for x in samples]
    requests = sum(outcome.statuses.values())
    return ReadResult(
        clients=plan.clients,
        duration_s=outcome.window_s,
        requests=requests,
        errors=requests - outcome.statuses.get(200, 0),
        overall=Summary.of(everything),
        per_endpoint={k: Summary.of(v) for k, v in sorted(outcome.latencies.items())},
        usage=usage,
        loader_cpu_busy=outcome.cpu_s / outcome.window_s,
        failures=outcome.failures,
        statuses=outcome.statuses,
    )


# --- profiling ----------------------------------------------------------------------------------

PROJECT_PACKAGES = ("registry", "mentornet_spine", "mentornet_auth", "mentornet_events")
ROOTS = ("(uvicorn/main.py)", "(uvicorn/_compat.py)", "(uvicorn/server.py)", "(mentornet_spine/serve.py)")
IDLE = ("Condition.wait", "Event.wait", "EpollSelector.select", "Queue.get", "sleep (")


class Profiler:
    """py-spy attached to the registry for one phase; raw folded stacks, summarised afterwards."""

    def __init__(self, directory: Path | None, pid: int) -> None:
        self.spy = PySpy(directory)
        self.pid = pid

    async def start(self, phase: str) -> None:
        await self.spy.start(self.pid, f"registry-{phase}.folded", settle_s=0.5)  # attached before the phase

    async def stop(self, phase: str) -> ProfileSummary | None:
        path = await self.spy.stop()
        return None if path is None else summarise_profile(phase, path, PROJECT_PACKAGES, IDLE, ROOTS, top=14)


# --- one run ------------------------------------------------------------------------------------


async def bench(args: argparse.Namespace, console: Console) -> Results:
    rng = random.Random(args.seed)
    munis, region = make_region(args.schools, args.teachers, rng)
    files = [f for s in region for f in school_files(s, rng)]
    env_info = await environment(args.nats_url, args.postgres_url, commit=await git_state())
    run_id = uuid.uuid4().hex[:8]
    root = f"bench_registry_{run_id}"
    schema = await create_schema(args.postgres_url, "bench_registry")
    workdir = Path(tempfile.mkdtemp(prefix="registry-bench-"))
    key = SigningKey.generate(KEY_ID)
    issuer = TokenIssuer([key], lifetime_s=TOKEN_LIFETIME_S)
    env = registry_env(args.nats_url, args.postgres_url, schema, root, workdir, key)
    service = ServiceProcess(
        "registry", workdir, env, free_port(), module=args.serve_module, label="the registry"
    )
    profiles: list[ProfileSummary] = []
    try:
        with console.status("starting the registry…"):
            await service.start()
        stats = ProcessStats(service.pid)
        profiler = Profiler(args.profile, service.pid)
        async with httpx.AsyncClient(base_url=service.base_url, timeout=600) as client:
            with console.status(
                f"connecting {len(region):,} schools; {min(args.login_schools, len(region))} log in "
                "through /auth/token (argon2, ~1.5 s per school)…"
            ):
                setup, tokens = await connect_region(client, munis, region, args.login_schools, issuer)
            with console.status(f"importing {args.teachers:,} rows in {len(files):,} files…"):
                await profiler.start("import")
                imported = await import_bases(
                    client, files, tokens, args.import_concurrency, stats, args.postgres_url, schema
                )
                if summary := await profiler.stop("import"):
                    profiles.append(summary)
        with console.status("the registry idle…"):
            before = stats.mark()
            await asyncio.sleep(IDLE_S)
            idle = stats.usage_since(before)
        targets = read_targets(region, tokens)
        with console.status(f"reading with one client for {SINGLE_CLIENT_S:.0f} s…"):
            single = await read_load(
                LoadPlan(
                    service.base_url, 1, WARMUP_S, SINGLE_CLIENT_S, targets, args.seed, args.http_client
                ),
                stats,
            )
        paced: ReadResult | None = None
        if args.paced_rate > 0:
            with console.status(f"{args.clients} clients, each {args.paced_rate:g} requests/s…"):
                paced = await read_load(
                    LoadPlan(
                        service.base_url,
                        args.clients,
                        WARMUP_S,
                        args.duration,
                        targets,
                        args.seed,
                        args.http_client,
                        interval_s=1 / args.paced_rate,
                    ),
                    stats,
                )
        plan = LoadPlan(
            service.base_url, args.clients, WARMUP_S, args.duration, targets, args.seed, args.http_client
        )
        with console.status(f"reading with {args.clients} clients for {args.duration:.0f} s…"):
            await profiler.start("reads")
            reads = await read_load(plan, stats)
            if summary := await profiler.stop("reads"):
                profiles.append(summary)
    except BaseException:
        console.print(f"[red]registry log (tail):[/red]\n{service.log_tail()}")
        raise
    finally:
        service.stop()
        await drop_schema(args.postgres_url, schema)
        nc = await nats.connect(args.nats_url)
        await delete_streams(nc.jetstream(), Subjects(root=root))
        await nc.close()
        shutil.rmtree(workdir, ignore_errors=True)
    shown = {
        "schools": args.schools,
        "teachers": args.teachers,
        "clients": args.clients,
        "duration": args.duration,
        "import_concurrency": args.import_concurrency,
        "login_schools": args.login_schools,
        "http_client": args.http_client,
        "paced_rate": args.paced_rate,
        "serve_module": args.serve_module,
        "command": args.command,
    }
    env_info["load average at end"] = load_average()
    return Results(shown, setup, imported, reads, single, paced, idle, profiles, env_info)


# --- reporting ----------------------------------------------------------------------------------


Row = tuple[str, str, str]


def rows(r: Results) -> list[Row]:
    i, rd, s = r.imported, r.reads, r.setup
    table: list[Row] = [
        (
            "setup",
            "municipalities + schools over HTTP",
            f"{s.municipalities} + {s.schools:,} in {s.structure_s:.1f} s",
        ),
        (
            "setup",
            f"logins through /auth/token ({s.login_schools} schools)",
            f"{s.login_s:.1f} s; token p50 {ms(s.token_latency.p50)}, max {ms(s.token_latency.max)}",
        ),
        ("import", "rows / files", f"{i.rows:,} / {i.files:,} ({i.concurrency} in flight)"),
        ("import", "total", f"{i.seconds:.1f} s"),
        ("import", "rate", f"{i.rows_per_s:,.0f} rows/s"),
        (
            "import",
            "per file p50 / p99 / max",
            f"{ms(i.per_file.p50)} / {ms(i.per_file.p99)} / {ms(i.per_file.max)}",
        ),
        (
            "import",
            "registry RSS before / peak / after",
            f"{i.rss_before_mb:,.0f} / {i.rss_peak_mb:,.0f} / {i.rss_after_mb:,.0f} MB",
        ),
        ("import", "registry on a CPU / waiting for one", _usage(i.usage)),
        ("import", "registry CPU per row", ms(i.usage.on_cpu / i.rows_per_s)),
        ("import", "all events in JetStream after", f"{i.relayed_s:.1f} s"),
        ("import", "participants in the database", f"{i.participants:,}"),
        ("idle", "registry on a CPU with no requests (relay polling)", f"{r.idle.on_cpu:.0%}"),
    ]
    table += read_rows("reads, 1 client", r.single, r.idle, endpoints=False)
    if r.paced is not None:
        table += read_rows(f"reads, {r.paced.clients} × {r.args['paced_rate']:g}/s", r.paced, r.idle, True)
    table += read_rows(f"reads, {rd.clients} closed loop", rd, r.idle, endpoints=True)
    return table  # fmt: skip


def read_rows(phase: str, rd: ReadResult, idle: Usage, endpoints: bool) -> list[Row]:
    table: list[Row] = [
        (phase, "throughput", f"{rd.per_second:,.0f} req/s ({rd.requests:,} in {rd.duration_s:g} s)"),
        (phase, "errors", _errors(rd)),
        (phase, "all: p50 / p90 / p99 / max", percentiles(rd.overall)),
    ]
    if endpoints:
        table += [
            (phase, f"{name}: p50 / p90 / p99 / max", percentiles(s)) for name, s in rd.per_endpoint.items()
        ]
    table += [
        (phase, "registry on a CPU / waiting for one", _usage(rd.usage)),
        (phase, "registry CPU per request, above idle", ms((rd.usage.on_cpu - idle.on_cpu) / rd.per_second)),
        (phase, "load process CPU", f"{rd.loader_cpu_busy:.0%} of one core"),
    ]
    return table


def _errors(rd: ReadResult) -> str:
    if not rd.errors:
        return "none"
    kinds = [f"HTTP {code} × {n}" for code, n in sorted(rd.statuses.items()) if code not in (0, 200)]
    kinds += [f"{name} × {n}" for name, n in sorted(rd.failures.items())]
    return f"{rd.errors} ({', '.join(kinds)})"


def _usage(u: Usage) -> str:
    return f"{u.on_cpu:.0%} / {u.waiting:.0%} of the time"


def floors(r: Results) -> list[tuple[bool, str]]:
    i, rd = r.imported, r.reads
    met_import = i.rows >= IMPORT_FLOOR_ROWS and i.seconds < IMPORT_FLOOR_S
    scale = (
        ""
        if i.rows >= IMPORT_FLOOR_ROWS
        else (
            f" (only {i.rows:,} rows in this run: at this rate 45,000 would take "
            f"{IMPORT_FLOOR_ROWS / i.rows_per_s:.0f} s, extrapolated)"
        )
    )
    paced = r.paced
    met_reads = (
        paced is not None and paced.clients >= READ_FLOOR_CLIENTS and paced.overall.p99 < READ_FLOOR_P99_S
    )
    if paced is None:
        judged = "no paced load in this run (--paced-rate 0)"
    else:
        judged = (
            f"p99 {ms(paced.overall.p99)} with {paced.clients} clients × {r.args['paced_rate']:g} req/s each "
            f"({paced.per_second:,.0f} req/s)"
        )
        if paced.clients < READ_FLOOR_CLIENTS:
            judged += f" (only {paced.clients} clients in this run)"
    judged += (
        f"; closed loop (saturation): {rd.per_second:,.0f} req/s, p99 {ms(rd.overall.p99)} "
        f"with {rd.clients} clients"
    )
    return [
        (
            met_import,
            f"Floor 1 (45,000 rows imported in under 60 s): {'met' if met_import else 'NOT met'}, "
            f"{i.rows:,} rows in {i.seconds:.1f} s{scale}",
        ),
        (
            met_reads,
            f"Floor 2 (p99 below 50 ms with 50 concurrent clients): {'met' if met_reads else 'NOT met'}, "
            f"{judged}",
        ),
    ]


def print_results(r: Results, console: Console) -> None:
    title = f"Registry: {r.setup.schools:,} schools, {r.imported.rows:,} teachers, {r.reads.clients} readers"
    print_table(console, title, MEASURES, rows(r), floors(r))
    for p in r.profiles:
        heading = (
            f"\n[bold]py-spy, {p.phase}[/bold] ({p.samples:,} samples): "
            "CPU by component (nearest package to the leaf)"
        )
        print_profile(console, heading, p.by_package, p.by_function, "  project functions (inclusive):")


def markdown(r: Results) -> str:
    a = r.args
    command = f"`.venv/bin/python {a['command']}`"
    lines = [
        "# Registry: bulk import and authenticated reads",
        "",
        f"{command}. The registry runs as its own process (`python -m {a['serve_module']} "
        "registry`, one uvicorn worker) on PostgreSQL (a fresh schema) and NATS JetStream (a fresh "
        "subject root); the bench talks to it over HTTP only."
        + (
            " py-spy was attached to it (`--nonblocking`, 100 Hz) during the import and the reads; it "
            "takes some CPU of the same host."
            if r.profiles
            else ""
        ),
        "",
        f"- **Setup**: {r.setup.municipalities} municipalities and {r.setup.schools:,} schools over the API, "
        f"{SETUP_IN_FLIGHT} requests in flight. {r.setup.login_schools} schools get client credentials, a "
        "curator account and both tokens through `/auth/token`; the other "
        f"{r.setup.signed_schools:,} schools' tokens (same claims) are signed by the bench with the key "
        "it hands the registry in `REGISTRY_SIGNING_KEY`, because each secret check is an argon2 "
        "hash that takes the event loop for ~0.3 s.",
        f"- **Import**: each school's mentor and mentee bases as two CSV files (`;`, every third school "
        f"in Windows-1251), {MENTOR_SHARE:.0%} mentors, uploaded by the school's curator to "
        f"`POST /schools/{{code}}/import/{{base}}`, {a['import_concurrency']} files in flight. Peak RSS "
        "is the registry process's VmHWM (reset before the import) and a 0.1 s poll of VmRSS.",
        f"- **Reads**: a second process runs {r.reads.clients} closed-loop clients ("
        + (
            "asyncio, a bare keep-alive HTTP/1.1 connection each, so that the load costs little CPU"
            if a["http_client"] == "raw"
            else "asyncio, one pooled httpx client"
        )
        + ") for the window after a "
        f"{WARMUP_S:g} s warm-up; each request is `GET /schools/{{code}}` or "
        "`GET /schools/{code}/participants` for a random school, with that school's own system token "
        f"or its curator's token. Before it, one client alone for {SINGLE_CLIENT_S:g} s gives the "
        "service time without queueing.",
        "- **On a CPU / waiting for one**: the registry process's CPU seconds per second, and the "
        "seconds per second its threads were runnable but not running (`/proc/<pid>/task/*/schedstat`); "
        "a large second figure means the host was oversubscribed and the figures are pessimistic.",
        "",
        *markdown_table(MEASURES, rows(r)),
        "",
        *(f"**{line}**  " for _, line in floors(r)),
        "",
    ]
    for p in r.profiles:
        heading = f"### Where the registry's CPU goes: {p.phase} (py-spy, {p.samples:,} samples)"
        intro = (
            "By component (the package nearest the innermost frame; asyncio, threading and the like "
            "are skipped): "
        )
        lines += markdown_profile(heading, intro, p.by_package, p.by_function)
    lines += [environment_line(r.environment), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Registry bulk import and authenticated read load.")
    parser.add_argument("--schools", type=int, default=1100)
    parser.add_argument("--teachers", type=int, default=45_000, help="rows imported in all (default 45000)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent readers (default 50)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of read load (default 20)")
    parser.add_argument("--import-concurrency", type=int, default=8, help="files in flight (default 8)")
    parser.add_argument(
        "--login-schools", type=int, default=20, help="schools that log in through /auth/token (default 20)"
    )
    add_server_arguments(parser, "registry.md", profile_help="py-spy the registry; folded stacks here")
    parser.add_argument(
        "--paced-rate",
        type=float,
        default=5.0,
        help="also read with --clients clients sending this many requests/s each (0: skip; default 5)",
    )
    parser.add_argument("--seed", type=int, default=38)
    parser.add_argument(
        "--serve-module",
        default="mentornet_spine.serve",
        help="module run as `python -m MODULE registry` (to measure a variant of the service)",
    )
    parser.add_argument(
        "--http-client",
        choices=["raw", "httpx"],
        default="raw",
        help="readers' client: a bare keep-alive connection each (default) or one pooled httpx client",
    )
    args = parser.parse_args()
    args.command = command_line("bench/registry.py", sys.argv[1:])
    if args.teachers < 5 * args.schools:
        parser.error("--teachers must be at least 5 per school")
    console = Console()
    run_bench(console, args.output, bench(args, console), print_results, markdown)


if __name__ == "__main__":
    main()
