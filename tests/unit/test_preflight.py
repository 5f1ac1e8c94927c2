"""``./mn test`` checks the machine before pytest: what is missing is named in one line, no traceback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mentornet_spine import preflight
from mentornet_spine.natsserver import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_unreachable_postgresql_stops_mn_test_with_one_clear_message() -> None:
    env = os.environ | {"DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test"}
    done = subprocess.run(
        [str(ROOT / "mn"), "test", "tests/unit/test_preflight.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "PostgreSQL is not reachable at 127.0.0.1:" in done.stderr
    assert "set DATABASE_URL=" in done.stderr
    assert "Traceback" not in output
    assert "passed" not in output and "collected" not in output  # pytest never started
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_missing_chromium_named_by_the_variable_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTORNET_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(preflight.Missing, match="MENTORNET_CHROMIUM=/nonexistent/chromium"):
        preflight.check_chromium()


def test_without_rights_to_install_chromium_the_message_says_how(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MENTORNET_CHROMIUM", raising=False)
    monkeypatch.setattr(preflight, "DEFAULT_CHROMIUM", str(tmp_path / "chromium"))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(preflight.Missing, match=r"sudo apt-get install chromium"):
        preflight.check_chromium()


def test_the_machine_here_has_everything_the_suite_needs() -> None:
    assert preflight.main() == 0
