"""The whole system started as ``mentornet up`` starts it, once per module, and Chromium to drive it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from mentornet_spine.natsserver import free_port
from mentornet_spine.preflight import chromium_path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


@dataclass
class System:
    """A running ``mentornet up``: the pages' address (as it printed it) and the services' addresses."""

    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    pages: str = ""
    offset: int = 0
    ids: dict[str, Any] = field(default_factory=dict)

    def service(self, port: int) -> str:
        return f"http://127.0.0.1:{port + self.offset}"

    def start(self) -> None:
        nats_port = free_port()
        self.offset = free_port() - 8105  # the web's port becomes a free one; the others sit beside it
        env = os.environ | {"MENTORNET_SUBJECT_ROOT": f"web{uuid.uuid4().hex[:8]}", "PYTHONPATH": str(ROOT)}
        for name in ("NATS_URL", "DATABASE_URL", "DATABASE_SCHEMA", "MENTORNET_EXTRA_SERVICES"):
            env.pop(name, None)
        command = [sys.executable, "-m", "mentornet_spine.cli", "up", "--data-dir", str(self.data_dir)]
        command += ["--nats-port", str(nats_port), "--port-offset", str(self.offset)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while "all services healthy" not in (text := self.log.read_text(errors="replace")):
            assert self.process.poll() is None, text[-3000:]
            assert time.monotonic() < deadline, text[-3000:]
            time.sleep(0.2)
        found = re.search(r"pages for people \(web\): (http://\S+)", text)
        assert found, "mentornet up did not print the pages' address"
        self.pages = found[1].rstrip("/")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def operator_password(self) -> str:
        return (self.data_dir / "registry-operator-password.txt").read_text().split("\n")[1]


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    base = tmp_path_factory.mktemp("web-system")
    running = System(base / "data", base / "up.log")
    running.start()
    yield running
    running.stop()


class Api:
    """Direct calls for what the scenario takes as given (the network's schools and people)."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.client = httpx.Client(timeout=30)

    def login(self, username: str, password: str) -> dict[str, str]:
        answer = self.client.post(
            self.system.service(8101) + "/auth/token",
            data={"grant_type": "password", "username": username, "password": password},
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def ok(self, port: int, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
        answer = self.client.request(method, self.system.service(port) + path, headers=headers, **kwargs)
        assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None


@pytest.fixture(scope="module")
def api(system: System) -> Iterator[Api]:
    client = Api(system)
    yield client
    client.client.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield chromium
        chromium.close()


class People:
    """One browser context (its own cookies) per person, so sessions never mix."""

    def __init__(self, browser: Browser, system: System) -> None:
        self.browser = browser
        self.system = system
        self.contexts: dict[str, BrowserContext] = {}
        self.pages: dict[str, Page] = {}
        self.errors: list[str] = []

    def page(self, who: str, mobile: bool = False) -> Page:
        if who not in self.pages:
            viewport = {"width": 390, "height": 844} if mobile else {"width": 1366, "height": 900}
            context = self.browser.new_context(base_url=self.system.pages, viewport=viewport, locale="ru-RU")
            context.set_default_timeout(15_000)
            page = context.new_page()
            # a CSP violation or a script error is a failure of the page, wherever it happens (a
            # refusal's 403/404 is logged by the browser too: that one is the page doing its job)
            page.on("console", lambda m: self.errors.append(m.text) if _is_failure(m) else None)
            page.on("pageerror", lambda e: self.errors.append(str(e)))
            self.contexts[who], self.pages[who] = context, page
        return self.pages[who]

    def sign_in(self, who: str, username: str, password: str, mobile: bool = False) -> Page:
        page = self.page(who, mobile)
        page.goto("/login")
        page.get_by_label("Имя пользователя").fill(username)
        page.get_by_label("Пароль").fill(password)
        page.get_by_role("button", name="Войти").click()
        page.wait_for_load_state()
        return page

    def close(self) -> None:
        for context in self.contexts.values():
            context.close()


@pytest.fixture(scope="module")
def people(browser: Browser, system: System) -> Iterator[People]:
    found = People(browser, system)
    yield found
    found.close()


def _is_failure(message: ConsoleMessage) -> bool:
    return message.type == "error" and not REFUSAL_LOGGED.search(message.text)


REFUSAL_LOGGED = re.compile(r"^Failed to load resource: the server responded with a status of 40[34]")


def screenshot(page: Page, name: str) -> None:
    """The whole page on a laptop; on a phone the first screens (a roadmap runs to metres of cards)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone = (page.viewport_size or {"width": 1366})["width"] < 600
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=not phone)
