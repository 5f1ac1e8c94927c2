"""``mentornet up`` runs the embedded system; ``status`` and ``replay`` work against it; Ctrl-C stops all."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mentornet_spine.natsserver import free_port

ROOT = Path(__file__).resolve().parents[2]
MENTORNET = [sys.executable, "-m", "mentornet_spine.cli"]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class System:
    def __init__(self, tmp_path: Path, *flags: str, command: list[str] = MENTORNET) -> None:
        self.flags = flags
        self.command = command
        self.data_dir = tmp_path / "data"
        self.nats_port = free_port()
        self.offset = free_port() - 18950
        self.port = 18950 + self.offset
        self.env = os.environ | {
            "MENTORNET_EXTRA_SERVICES": "tests.integration.sample_service:SPEC",
            "MENTORNET_SUBJECT_ROOT": f"up{self.nats_port}",
            "PYTHONPATH": str(ROOT),
            "COLUMNS": "300",  # the log keeps each line whole
        }
        self.env.pop("NATS_URL", None)
        self.env.pop("DATABASE_URL", None)
        self.log = tmp_path / "up.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    *self.command,
                    "up",
                    "--data-dir",
                    str(self.data_dir),
                    "--nats-port",
                    str(self.nats_port),
                    "--port-offset",
                    str(self.offset),
                    *self.flags,
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 180
        while "all services healthy" not in self.log.read_text(errors="replace"):
            assert self.process.poll() is None, self.log.read_text(errors="replace")
            assert time.monotonic() < deadline, self.log.read_text(errors="replace")
            time.sleep(0.2)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                *MENTORNET,
                *args,
                "--nats-url",
                f"nats://127.0.0.1:{self.nats_port}",
                "--data-dir",
                str(self.data_dir),
            ],
            cwd=ROOT,
            env=self.env | {"COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=120,
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    running = System(tmp_path)
    running.start()
    yield running
    if running.process and running.process.poll() is None:
        running.process.send_signal(signal.SIGINT)  # stops its services and broker too
        try:
            running.process.wait(60)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait()


def _figures(system: System, login: tuple[str, str], period: str) -> dict[str, Any]:
    registry, monitoring = (f"http://127.0.0.1:{port + system.offset}" for port in (8101, 8103))
    form = {"grant_type": "password", "username": login[0], "password": login[1]}
    token = httpx.post(f"{registry}/auth/token", data=form).raise_for_status().json()["access_token"]
    answer = httpx.get(
        f"{monitoring}/indicators/region",
        params={"period": period},
        headers={"Authorization": f"Bearer {token}", "Cache-Control": "no-cache"},
    )
    figures: dict[str, Any] = answer.raise_for_status().json()["figures"]
    return figures


ROLE_LINE = re.compile(
    r"^  (regional operator|municipal operator|school curator|mentor|mentee) +(\S+) / (\S+)  — ", re.M
)
#: where each role's pages start, and a word that page shows
LANDING = {
    "regional operator": ("/dashboard", "Мониторинг"),
    "municipal operator": ("/dashboard/municipalities/", "Мониторинг"),
    "school curator": ("/schools/", "Программы"),
    "mentor": ("/my", "Мои пары"),
    "mentee": ("/my", "Мои пары"),
}


def _sign_in_on_the_pages(pages: str, username: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=pages, follow_redirects=True, timeout=30) as browser:
        csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/login").text)
        assert csrf, "the login page carries no CSRF token"
        form = {"csrf": csrf[1], "username": username, "password": password}
        return browser.post("/login", data=form)


def _first_five_minutes() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^## First five minutes\n(.*?)^## ", readme, re.S | re.M)
    assert found, "README.md has no 'First five minutes' section"
    return found[1]


def test_up_demo_shows_a_living_region_within_a_minute(tmp_path: Path) -> None:
    """A new user's first steps (README, First five minutes): `./mn up --demo`, then each role signs in."""
    demo = System(tmp_path, "--demo", command=[str(ROOT / "mn")])
    demo.env.pop("MENTORNET_EXTRA_SERVICES")
    began = time.monotonic()
    try:
        demo.start()  # "all services healthy" is printed once the demo region is in
        filled_in = time.monotonic() - began
        log = demo.log.read_text(errors="replace")
        before_ready = log[: log.index("all services healthy")]
        assert not re.search(r'^\{"time"|^WARNING|^DEBUG|Traceback|pip', before_ready, re.M), before_ready
        assert log.startswith("MentorNet: starting NATS"), log[:500]
        assert (demo.data_dir / "logs" / "registry.log").read_text().count('"service": "registry"') > 0
        region = re.search(r"демо-регион: (\d+) организаций, (\d+) шагов, (\S+)", log)
        logins = {role: (user, password) for role, user, password in ROLE_LINE.findall(log)}
        assert region and set(logins) == set(LANDING), log
        assert int(region[1]) == 12 and int(region[2]) > 200  # the year up to today
        figures = _figures(demo, logins["regional operator"], region[3])
        assert figures["schools"] == 12
        assert figures["pairs"]["formed"] > 0 and figures["feedback"]["meetings"] > 0
        assert figures["roadmaps"]["completed"] > 0
        assert filled_in < 60, f"the demo region took {filled_in:.0f} s"
        pages = f"http://127.0.0.1:{8105 + demo.offset}"
        assert f"open {pages}/ and sign in" in log and f"{pages}/dashboard" in log
        for role, (path, word) in LANDING.items():
            landed = _sign_in_on_the_pages(pages, *logins[role])
            assert landed.status_code == 200 and landed.url.path.startswith(path), (role, landed.url)
            assert word in landed.text, (role, landed.text[:2000])
        mentor_page = _sign_in_on_the_pages(pages, *logins["mentor"])
        assert "/pairs/" in mentor_page.text, "the demo mentor has no pair to open"
        guide = _first_five_minutes()
        assert "./mn up --demo" in guide
        for role in LANDING:
            assert role in guide, f"README's First five minutes says nothing of the {role}"
    finally:
        if demo.process and demo.process.poll() is None:
            demo.process.send_signal(signal.SIGINT)
            demo.process.wait(60)


def _wait_applied(system: System, n: int) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while True:
        body: dict[str, object] = httpx.get(system.url("/counts")).json()
        if body["applied"] == n or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_up_status_replay_and_clean_stop(system: System) -> None:
    assert httpx.get(system.url("/health")).json()["ok"] is True
    httpx.post(system.url("/pairs"), json={"school": "s1", "count": 3}).raise_for_status()
    httpx.post(system.url("/pairs"), json={"school": "s2", "count": 2}).raise_for_status()
    body = _wait_applied(system, 5)
    assert body == {"counts": {"s1/PairFormed": 3, "s2/PairFormed": 2}, "applied": 5}

    status = system.cli("status")
    assert status.returncode == 0, status.stderr
    root = f"UP{system.nats_port}"
    assert f"{root}_PROGRAMS" in status.stdout
    assert "sample-event-counts" in status.stdout
    # committed 5, relayed to 5, the stream holds all 5, nothing waiting or parked
    assert re.search(r"sample\W+5\W+5\W+5\W+0\W+0", status.stdout), status.stdout
    assert "Applied downstream" in status.stdout
    again = system.cli("relay", "sample", "--from", "0")
    assert again.returncode == 0 and "publishes again from position 1 (5 events)" in again.stdout, again
    time.sleep(1.0)  # the stream's duplicate window drops the five: nothing changes
    assert _wait_applied(system, 5) == body

    replayed = system.cli("replay", "sample")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "5 events replayed, generation 2" in replayed.stdout
    assert httpx.get(system.url("/counts")).json() == body  # identical after the swap
    httpx.post(system.url("/pairs"), json={"school": "s1", "count": 1}).raise_for_status()
    assert _wait_applied(system, 6)["counts"] == {"s1/PairFormed": 4, "s2/PairFormed": 2}

    unknown = system.cli("replay", "nothing-like-this")
    assert unknown.returncode == 2 and "sample-event-counts" in unknown.stdout

    assert system.process is not None
    system.process.send_signal(signal.SIGINT)
    assert system.process.wait(60) == 0
    assert "stopped" in system.log.read_text()
    assert not _port_open(system.nats_port)
    assert not _port_open(system.port)


def test_conflicting_command_is_a_409(system: System) -> None:
    created = httpx.post(system.url("/pairs"), json={"stream_id": "pair-fixed", "expected_version": 0})
    assert created.status_code == 201
    again = httpx.post(system.url("/pairs"), json={"stream_id": "pair-fixed", "expected_version": 0})
    assert again.status_code == 409
    assert "ожидалась версия 0, сейчас 1" in again.json()["detail"]
