"""How long a full garbage collection stalls a service process, with and without ``gc.freeze()``.

Imports every service as ``mentornet_spine.serve`` would and builds its app (the objects that live
from start-up to the end), then times ``gc.collect()``: what every request under way waits for
when the collector decides on a full collection. The runtime freezes these objects after start-up
(``ServiceRuntime.start``); this prints what that saves.

    .venv/bin/python bench/gc_pause.py
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

# bench/ is first on sys.path, where bench/monitoring.py would shadow the ``monitoring`` service
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from mentornet_spine.services import discover_services  # noqa: E402
from mentornet_spine.settings import SpineSettings  # noqa: E402


def full_collections(times: int = 5) -> list[float]:
    """Milliseconds of ``times`` full collections in a row."""
    taken = []
    for _ in range(times):
        began = time.perf_counter()
        gc.collect()
        taken.append((time.perf_counter() - began) * 1000)
    return taken


def main() -> None:
    apps = [spec.create_app(SpineSettings(service=spec.name)) for spec in discover_services()]
    tracked = len(gc.get_objects())
    before = full_collections()
    gc.freeze()
    after = full_collections()
    print(f"services imported and built: {len(apps)}; objects tracked by the collector: {tracked:,}")
    print(f"full collection, median of 5: {statistics.median(before):.1f} ms without freeze")
    print(f"full collection, median of 5: {statistics.median(after):.2f} ms after gc.freeze()")


if __name__ == "__main__":
    main()
