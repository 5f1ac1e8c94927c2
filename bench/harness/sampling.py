"""What a process and the servers spend, read from /proc (Linux)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Usage:
    """A process over a phase, as shares of the wall time."""

    on_cpu: float  # CPU seconds per second (1.0 = one core busy)
    waiting: float  # seconds runnable but waiting for a core, per second (the host is oversubscribed)
    cpu_s: float  # CPU seconds in all


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

    def reset_peak(self) -> bool:
        """Reset VmHWM to the current RSS (Linux ≥ 4.0); the poller covers kernels without it."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

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
        return Usage(cpu / wall, wait / wall, cpu)


class RssPoller:
    """The process's largest RSS seen while the block runs, polled every ``every_s``."""

    def __init__(self, stats: ProcessStats, every_s: float = 0.1) -> None:
        self.stats = stats
        self.every_s = every_s
        self.peak = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, self.stats.rss_mb())
            await asyncio.sleep(self.every_s)

    def __enter__(self) -> RssPoller:
        self.peak = self.stats.rss_mb()
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        self.peak = max(self.peak, self.stats.rss_mb())


def server_cpu_s(name: str) -> float:
    """CPU seconds of every process with this name, reaped children included (Linux /proc)."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as comm:
                if comm.read().strip() != name:
                    continue
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")
