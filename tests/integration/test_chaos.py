"""A region's year under faults: every figure exact, nothing lost, nobody told twice (issue 17).

The demo region's year (up to today) through all four services on PostgreSQL and a private
three-node JetStream cluster, one round of every fault kind plus one broker data loss
(mentornet_simulator.chaos says which); bench/chaos.py runs the medium region with more rounds.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from mentornet_simulator.chaos import SERVICES, rehearse
from mentornet_simulator.plan import PRESETS, Preset, academic_year, make_plan
from mentornet_spine.natsserver import NatsCluster

SEED = 17


@pytest.mark.timeout(180)
async def test_a_region_s_year_under_faults_ends_exact(
    nats_cluster: NatsCluster, postgres_url: str, tmp_path: Path
) -> None:
    today = date.today()
    year = academic_year(today - timedelta(days=30))
    plan = make_plan(replace(PRESETS[Preset.DEMO], year=year, until=today), SEED)
    report = await rehearse(plan, nats_cluster, postgres_url, tmp_path / "system", seed=SEED, budget_s=150)
    shown = json.dumps(report.as_dict(), ensure_ascii=False, indent=1)
    print(shown)
    assert sum(report.faults.values()) >= 6 and report.fault_kinds >= 6, shown
    assert {f"kill -9 {name}" for name in SERVICES} <= set(report.faults), shown
    assert report.backends_ended > 0, shown  # the terminations met the services' connections
    assert report.exact, shown
