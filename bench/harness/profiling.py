"""py-spy attached to a process for a phase; its raw folded stacks summarised afterwards."""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

#: packages that only carry control (the loop, threads, context managers): a sample is charged to
#: the nearest caller outside them, so socket writes count for asyncpg or h11, not asyncio
GENERIC = {
    "asyncio", "selectors", "threading", "contextlib", "functools", "inspect", "typing", "abc",
    "enum", "weakref", "collections", "queue", "runpy", "concurrent", "greenlet", "?",
}  # fmt: skip
STDLIB = re.compile(r"/lib/python3\.\d+/([^/]+)")


@dataclass
class ProfileSummary:
    phase: str
    samples: int
    by_package: list[tuple[str, float]]  # component nearest the leaf frame, share of samples
    by_function: list[tuple[str, float]]  # project functions, inclusive share


class PySpy:
    """``py-spy record`` attached to one process at a time (nothing happens without a directory)."""

    def __init__(self, directory: Path | None, rate: int = 100) -> None:
        self.directory = directory
        self.rate = rate
        self.proc: subprocess.Popen[bytes] | None = None
        self.path: Path | None = None

    async def start(self, pid: int, filename: str, settle_s: float = 0.0) -> None:
        """Raw folded stacks of ``pid`` into ``directory/filename``; ``settle_s`` to be attached."""
        if self.directory is None:
            return
        spy = Path(sys.executable).parent / "py-spy"
        exe = str(spy) if spy.exists() else shutil.which("py-spy")
        if exe is None:
            raise RuntimeError("--profile needs py-spy (pip install py-spy)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / filename
        command = [exe, "record", "--nonblocking", "--nolineno", "--full-filenames", "-f", "raw"]
        self.proc = await asyncio.to_thread(
            subprocess.Popen,
            [*command, "-r", str(self.rate), "-o", str(self.path), "-p", str(pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if settle_s:
            await asyncio.sleep(settle_s)

    async def stop(self, missing_ok: bool = False) -> Path | None:
        """The stacks' file (None when not profiling); raises if py-spy wrote none, unless ``missing_ok``."""
        if self.proc is None or self.path is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # py-spy writes the file on Ctrl-C
        _, err = await asyncio.to_thread(self.proc.communicate, None, 120)
        self.proc = None
        if self.path.exists():
            return self.path
        if missing_ok:
            return None
        raise RuntimeError(f"py-spy wrote nothing: {err.decode(errors='replace')}")


def frame_of(frame: str) -> tuple[str, str]:
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


def summarise_profile(
    phase: str,
    path: Path,
    project: tuple[str, ...],
    idle: tuple[str, ...],
    roots: tuple[str, ...] = (),
    top: int = 16,
) -> ProfileSummary:
    """CPU samples by component (nearest non-generic package from the leaf), ``project`` functions
    inclusive; samples whose leaf starts with one of ``idle`` are left out, frames ending with one
    of ``roots`` (the server's entry points) are charged to nothing."""
    by_package: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = [frame_of(f) for f in stack.split(";") if " (" in f]
        if not frames or not count_text.isdigit() or frames[-1][1].startswith(idle):
            continue
        count = int(count_text)
        total += count
        owners = (pkg for pkg, name in reversed(frames) if pkg not in GENERIC and not name.endswith(roots))
        by_package[next(owners, "event loop")] += count
        for name in {name for pkg, name in frames if pkg in project and not name.endswith(roots)}:
            by_function[name] += count
    if total == 0:
        return ProfileSummary(phase, 0, [], [])
    return ProfileSummary(
        phase,
        total,
        [(k, v / total) for k, v in by_package.most_common(top)],
        [(k, v / total) for k, v in by_function.most_common(top)],
    )
