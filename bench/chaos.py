"""The rehearsal under faults, region-sized: the medium region's year (up to today) through all four
services on PostgreSQL and a private three-node JetStream cluster, while a seeded scheduler injects
rounds of every fault kind (kill -9 of each service, kill -9 of the stream leader, SIGSTOP/SIGCONT
of a node, PostgreSQL backends terminated, a node's client connections made silent) and one broker
data loss; then the checker of ``mentornet_simulator.chaos`` compares the end with the plan.

    .venv/bin/python bench/chaos.py [--preset medium] [--rounds 4] [--seed 17] [--gap 4 10]

Prints (and writes to bench/results/chaos.md) the faults injected by kind, the commands and events,
the time and each check's result; exits 1 if a check fails. The CI-sized run is
tests/integration/test_chaos.py (the demo region, one round). PostgreSQL from DATABASE_URL
(default: the local one, database ``test``).
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent  # bench/monitoring.py would shadow the service's package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
from dataclasses import replace  # noqa: E402
from datetime import date  # noqa: E402

from mentornet_simulator.chaos import rehearse  # noqa: E402
from mentornet_simulator.plan import PRESETS, Preset, academic_year, make_plan  # noqa: E402
from mentornet_spine.natsserver import NatsCluster  # noqa: E402

DEFAULT_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", choices=[p.value for p in Preset], default=Preset.MEDIUM.value)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--rounds", type=int, default=4, help="rounds of every fault kind (9 faults each)")
    parser.add_argument("--gap", type=float, nargs=2, default=(4.0, 10.0), help="seconds between faults")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--budget", type=float, default=3600.0, help="seconds before it says where it stalled"
    )
    parser.add_argument("--keep", action="store_true", help="leave the schemas for a post-mortem")
    parser.add_argument("--postgres-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--output", type=Path, default=_HERE / "results" / "chaos.md")
    args = parser.parse_args()
    today = date.today()
    plan = make_plan(replace(PRESETS[Preset(args.preset)], year=academic_year(today), until=today), args.seed)
    head = (
        f"{platform.node()}: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}\n"
        f"region {args.preset} (seed {args.seed}): {len(plan.schools)} schools, the year up to {today}; "
        f"{args.rounds} rounds of faults, {args.gap[0]:g}-{args.gap[1]:g} s apart"
    )
    print(head, flush=True)
    with tempfile.TemporaryDirectory(prefix="mentornet-chaos-") as base:
        cluster = await NatsCluster(Path(base) / "cluster").start()
        try:
            report = await rehearse(
                plan,
                cluster,
                args.postgres_url,
                Path(base) / "system",
                seed=args.seed,
                rounds=args.rounds,
                gap=tuple(args.gap),  # type: ignore[arg-type]
                concurrency=args.concurrency,
                settle_s=180.0,
                budget_s=args.budget,
                keep=args.keep,
            )
        finally:
            cluster.stop()
    lines = [
        json.dumps(report.as_dict(), ensure_ascii=False, indent=1),
        f"\n{sum(report.faults.values())} faults of {report.fault_kinds} kinds, {report.steps} commands, "
        f"{report.events} events, {report.seconds:.0f} s",
        *(f"  {'ok  ' if held else 'FAIL'} {check}" for check, held in report.checks.items()),
    ]
    print("\n".join(lines))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    args.output.write_text(f"# bench/chaos.py, {today}\n\n{head}\n\n```\n{text}\n```\n")
    return 0 if report.exact else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
