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
import contextlib
import csv
import io
import math
import multiprocessing as mp
import os
import platform
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import Any, TypeVar

import httpx
import nats
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from mentornet_auth import Principal, Role, SigningKey, TokenIssuer
from mentornet_events import Subjects
from mentornet_events.labels_ru import label
from mentornet_events.vocabulary import DeficitArea, MentoringForm, QualificationCategory
from mentornet_spine.db import create_schema, drop_schema
from mentornet_spine.streams import delete_streams

DEFAULT_NATS = "nats://127.0.0.1:4222"
DEFAULT_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
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

T = TypeVar("T")


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


@dataclass(frozen=True)
class Summary:
    """Latencies in seconds."""

    count: int
    p50: float
    p90: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of(cls, samples: Iterable[float]) -> Summary:
        ordered = sorted(samples)
        if not ordered:
            return cls(0, math.nan, math.nan, math.nan, math.nan, math.nan)

        def pct(q: float) -> float:
            return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

        return cls(len(ordered), pct(0.5), pct(0.9), pct(0.99), ordered[-1], sum(ordered) / len(ordered))


@dataclass(frozen=True)
class Usage:
    """A process over a phase, as shares of the wall time."""

    on_cpu: float  # CPU seconds per second (1.0 = one core busy)
    waiting: float  # seconds runnable but waiting for a core, per second (the host is oversubscribed)


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
class ReadResult:
    clients: int
    duration_s: float
    requests: int
    errors: int
    overall: Summary
    per_endpoint: dict[str, Summary]
    usage: Usage  # of the registry process in the window
    loader_cpu_busy: float
    failures: dict[str, int]
    statuses: dict[int, int]

    @property
    def per_second(self) -> float:
        return self.requests / self.duration_s


@dataclass
class ProfileSummary:
    phase: str
    samples: int
    by_package: list[tuple[str, float]]  # component nearest the leaf frame, share of samples
    by_function: list[tuple[str, float]]  # project functions, inclusive share


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ProcessStats:
    """RSS and CPU time of a process from /proc (Linux)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.ticks = os.sysconf("SC_CLK_TCK")

    def _status(self, key: str) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024  # kB -> MB
        return math.nan

    def rss_mb(self) -> float:
        return self._status("VmRSS")

    def peak_mb(self) -> float:
        return self._status("VmHWM")

    def reset_peak(self) -> None:
        """Reset VmHWM to the current RSS (Linux ≥ 4.0); the poller covers kernels without it."""
        with contextlib.suppress(OSError):
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / self.ticks  # utime + stime

    def runqueue_wait_s(self) -> float:
        """Time the process's threads were runnable but not running (schedstat; threads alive now)."""
        total = 0
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int((task / "schedstat").read_text().split()[1])
        return total / 1e9

    def mark(self) -> tuple[float, float, float]:
        return time.perf_counter(), self.cpu_s(), self.runqueue_wait_s()

    def usage_since(self, mark: tuple[float, float, float]) -> Usage:
        wall, cpu, wait = (now - then for now, then in zip(self.mark(), mark, strict=True))
        return Usage(cpu / wall, wait / wall)


class RssPoller:
    def __init__(self, stats: ProcessStats) -> None:
        self.stats = stats
        self.peak = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, self.stats.rss_mb())
            await asyncio.sleep(RSS_POLL_S)

    def __enter__(self) -> RssPoller:
        self.peak = self.stats.rss_mb()
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        self.peak = max(self.peak, self.stats.rss_mb())


class RegistryProcess:
    def __init__(self, workdir: Path, env: dict[str, str], port: int, module: str) -> None:
        self.module = module
        self.workdir = workdir
        self.env = env
        self.port = port
        self.log_path = workdir / "registry.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def spawn(self) -> subprocess.Popen[bytes]:
        log = self.log_path.open("wb")
        # cwd is the scratch directory: with ``-m`` the cwd comes first on sys.path, and this file
        # (bench/registry.py) must not shadow the ``registry`` package
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module, "registry"],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the bench, which stops the registry itself
        )
        log.close()
        return self.proc

    async def start(self, within_s: float = 90.0) -> None:
        proc = self.spawn()
        deadline = time.monotonic() + within_s
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as client:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the registry exited with {proc.returncode}:\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/health")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the registry did not become healthy:\n{self.log_tail()}")
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def registry_env(
    nats_url: str, database_url: str, schema: str, root: str, port: int, workdir: Path, key: SigningKey
) -> dict[str, str]:
    return os.environ | {
        "MENTORNET_SERVICE": "registry",
        "DATABASE_URL": database_url,
        "DATABASE_SCHEMA": schema,
        "NATS_URL": nats_url,
        "MENTORNET_SUBJECT_ROOT": root,
        "PORT": str(port),
        "MENTORNET_DATA_DIR": str(workdir / "data"),
        "MENTORNET_REGION": REGION,
        "REGISTRY_BOOTSTRAP_PASSWORD": OPERATOR_PASSWORD,
        "REGISTRY_SIGNING_KEY": key.pem().decode(),
        "REGISTRY_TOKEN_LIFETIME": str(TOKEN_LIFETIME_S),
        "MENTORNET_LOG_JSON": "false",
    }


# --- the region over HTTP -----------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def call(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str] | None = None, **kwargs: Any
) -> Any:
    answer = await client.request(method, url, headers=headers, **kwargs)
    if answer.status_code >= 300:
        raise RuntimeError(f"{method} {url}: {answer.status_code} {answer.text[:500]}")
    return answer.json()


async def bounded(limit: int, jobs: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs with at most ``limit`` in flight; results in the jobs' order."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


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
    with RssPoller(stats) as rss:
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


class RawConnection:
    """One keep-alive HTTP/1.1 connection with just enough protocol for these GETs.

    The load process must cost far less CPU per request than the service it measures; httpx's
    pool costs about as much as the registry's handler on a small host, and with 50 requests in
    flight its own queueing shows up as latency. Responses must carry Content-Length (FastAPI's do).
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, token: str) -> int:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n\r\n"
        self.writer.write(request.encode())
        try:
            head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            lengths = [line for line in head.split("\r\n") if line.startswith("content-length:")]
            if not lengths:
                raise ValueError("a response without Content-Length")
            await self.reader.readexactly(int(lengths[0].partition(":")[2]))
        except BaseException:
            await self.close()
            raise
        if "\r\nconnection: close" in head:
            await self.close()
        return int(head[9:12])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


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
                        status = await asyncio.wait_for(own.get(path, token), 30)
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
#: packages that only carry control (the loop, threads, context managers): a sample is charged to
#: the nearest caller outside them, so socket writes count for asyncpg or h11, not asyncio
GENERIC = {
    "asyncio", "selectors", "threading", "contextlib", "functools", "inspect", "typing", "abc",
    "enum", "weakref", "collections", "queue", "runpy", "concurrent", "greenlet", "?",
}  # fmt: skip
ROOTS = ("(uvicorn/main.py)", "(uvicorn/_compat.py)", "(uvicorn/server.py)", "(mentornet_spine/serve.py)")
IDLE = ("Condition.wait", "Event.wait", "EpollSelector.select", "Queue.get", "sleep (")
STDLIB = re.compile(r"/lib/python3\.\d+/([^/]+)")


class Profiler:
    """py-spy attached to the registry for one phase; raw folded stacks, summarised afterwards."""

    def __init__(self, directory: Path | None, pid: int) -> None:
        self.directory = directory
        self.pid = pid
        self.proc: subprocess.Popen[bytes] | None = None
        self.path: Path | None = None

    async def start(self, phase: str) -> None:
        if self.directory is None:
            return
        spy = Path(sys.executable).parent / "py-spy"
        exe = str(spy) if spy.exists() else shutil.which("py-spy")
        if exe is None:
            raise RuntimeError("--profile needs py-spy (pip install py-spy)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / f"registry-{phase}.folded"
        command = [exe, "record", "--nonblocking", "--nolineno", "--full-filenames", "-f", "raw"]
        self.proc = await asyncio.to_thread(
            subprocess.Popen,
            [*command, "-o", str(self.path), "-p", str(self.pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        await asyncio.sleep(0.5)  # attached before the phase starts

    async def stop(self, phase: str) -> ProfileSummary | None:
        if self.proc is None or self.path is None:
            return None
        self.proc.send_signal(signal.SIGINT)  # py-spy writes the file on Ctrl-C
        _, err = await asyncio.to_thread(self.proc.communicate, None, 60)
        self.proc = None
        if not self.path.exists():
            raise RuntimeError(f"py-spy wrote nothing: {err.decode(errors='replace')}")
        return summarise_profile(phase, self.path)


def _where(frame: str) -> tuple[str, str]:
    """``func (/path/to/pkg/module.py)`` → (package, ``func (pkg/module.py)``)."""
    function, _, path = frame.rpartition(" (")
    path = path.rstrip(")")
    if "site-packages/" in path:
        short = path.rsplit("site-packages/", 1)[1]
    elif "/src/" in path:  # the project's own packages (editable installs)
        short = path.rsplit("/src/", 1)[1]
    elif match := STDLIB.search(path):
        short = path[match.start(1) :]
    elif path.startswith("<frozen "):
        short = path.removeprefix("<frozen ").rstrip(">")
    else:
        short = Path(path).name
    package = short.split("/")[0].removesuffix(".py") or "?"
    return package, f"{function} ({short})"


def summarise_profile(phase: str, path: Path, top: int = 14) -> ProfileSummary:
    """CPU samples by component (nearest non-generic package from the leaf), project functions inclusive."""
    by_package: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = [_where(f) for f in stack.split(";") if " (" in f]
        if not frames or not count_text.isdigit() or frames[-1][1].startswith(IDLE):
            continue
        count = int(count_text)
        total += count
        owners = (pkg for pkg, name in reversed(frames) if pkg not in GENERIC and not name.endswith(ROOTS))
        by_package[next(owners, "event loop")] += count
        for name in {name for pkg, name in frames if pkg in PROJECT_PACKAGES and not name.endswith(ROOTS)}:
            by_function[name] += count
    if total == 0:
        return ProfileSummary(phase, 0, [], [])
    return ProfileSummary(
        phase,
        total,
        [(k, v / total) for k, v in by_package.most_common(top)],
        [(k, v / total) for k, v in by_function.most_common(top)],
    )


# --- one run ------------------------------------------------------------------------------------


async def environment(nats_url: str, postgres_url: str) -> dict[str, str]:
    admin = create_async_engine(postgres_url)
    async with admin.connect() as conn:
        pg = str(await conn.scalar(text("SHOW server_version")))
    await admin.dispose()
    nc = await nats.connect(nats_url)
    server = nc.connected_server_version
    await nc.close()
    return {
        "commit": await git_state(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "host": f"{platform.platform()}, {os.cpu_count()} CPUs",
        "load average at start": f"{os.getloadavg()[0]:.1f}",
        "python": platform.python_version(),
        "python speed (sum(range(1000)))": f"{python_speed_us():.1f} µs",
        "nats-server": f"{server.major}.{server.minor}.{server.patch}",
        "postgresql": pg,
    }


def python_speed_us() -> float:
    """A yardstick for comparing hosts: the best of five runs of ``sum(range(1000))``."""
    return min(timeit.repeat("sum(range(1000))", number=5000, repeat=5)) / 5000 * 1e6


async def git_state() -> str:
    async def git(*args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            "git", *args, cwd=Path(__file__).parent, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        out, _ = await proc.communicate()
        return out.decode().strip()

    commit = await git("rev-parse", "--short", "HEAD")
    dirty = await git("status", "--porcelain", "--", "libs", "services")
    return f"{commit or 'unknown'}{' + uncommitted changes in libs/services' if dirty else ''}"


async def bench(args: argparse.Namespace, console: Console) -> Results:
    rng = random.Random(args.seed)
    munis, region = make_region(args.schools, args.teachers, rng)
    files = [f for s in region for f in school_files(s, rng)]
    env_info = await environment(args.nats_url, args.postgres_url)
    run_id = uuid.uuid4().hex[:8]
    root = f"bench_registry_{run_id}"
    schema = await create_schema(args.postgres_url, "bench_registry")
    workdir = Path(tempfile.mkdtemp(prefix="registry-bench-"))
    key = SigningKey.generate(KEY_ID)
    issuer = TokenIssuer([key], lifetime_s=TOKEN_LIFETIME_S)
    port = free_port()
    env = registry_env(args.nats_url, args.postgres_url, schema, root, port, workdir, key)
    service = RegistryProcess(workdir, env, port, args.serve_module)
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
    env_info["load average at end"] = f"{os.getloadavg()[0]:.1f}"
    return Results(shown, setup, imported, reads, single, paced, idle, profiles, env_info)


# --- reporting ----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


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
        (phase, "all: p50 / p90 / p99 / max", _lat(rd.overall)),
    ]
    if endpoints:
        table += [(phase, f"{name}: p50 / p90 / p99 / max", _lat(s)) for name, s in rd.per_endpoint.items()]
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


def _lat(s: Summary) -> str:
    return f"{ms(s.p50)} / {ms(s.p90)} / {ms(s.p99)} / {ms(s.max)}"


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


HEADERS = ("Phase", "Measure", "Value")


def print_table(r: Results, console: Console) -> None:
    table = Table(
        title=f"Registry: {r.setup.schools:,} schools, {r.imported.rows:,} teachers, "
        f"{r.reads.clients} readers"
    )
    for header in HEADERS:
        table.add_column(header, justify="right" if header == "Value" else "left")
    for row in rows(r):
        table.add_row(*row)
    console.print(table)
    for met, line in floors(r):
        console.print(line, style="bold green" if met else "bold red")
    for p in r.profiles:
        console.print(
            f"\n[bold]py-spy, {p.phase}[/bold] ({p.samples:,} samples): "
            "CPU by component (nearest package to the leaf)"
        )
        console.print("  " + ", ".join(f"{k} {v:.0%}" for k, v in p.by_package))
        console.print("  project functions (inclusive):")
        for name, share in p.by_function:
            console.print(f"    {share:5.0%}  {name}")


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
        "| " + " | ".join(HEADERS) + " |",
        "|---|---|---:|",
        *("| " + " | ".join(row) + " |" for row in rows(r)),
        "",
        *(f"**{line}**  " for _, line in floors(r)),
        "",
    ]
    for p in r.profiles:
        lines += [
            f"### Where the registry's CPU goes: {p.phase} (py-spy, {p.samples:,} samples)",
            "",
            "By component (the package nearest the innermost frame; asyncio, threading and the like "
            "are skipped): " + ", ".join(f"{k} {v:.0%}" for k, v in p.by_package) + ".",
            "",
            "| Inclusive | Project function |",
            "|---:|---|",
            *(f"| {share:.0%} | `{name}` |" for name, share in p.by_function),
            "",
        ]
    lines += [
        "Environment: " + "; ".join(f"{k} {v}" for k, v in r.environment.items()) + ".",
        "",
    ]
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
    parser.add_argument("--nats-url", default=os.environ.get("NATS_URL", DEFAULT_NATS))
    parser.add_argument("--postgres-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "registry.md")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy the registry; folded stacks here")
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
    argv, shown = sys.argv[1:], []
    while argv:  # the command line as run, without where the report went
        arg = argv.pop(0)
        if arg == "--output":
            argv = argv[1:]
        elif not arg.startswith("--output="):
            shown.append(arg)
    args.command = shlex.join(["bench/registry.py", *shown])
    if args.teachers < 5 * args.schools:
        parser.error("--teachers must be at least 5 per school")
    console = Console()
    results = asyncio.run(bench(args, console))
    print_table(results, console)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(markdown(results), encoding="utf-8")
    console.print(f"written to {args.output}")


if __name__ == "__main__":
    main()
