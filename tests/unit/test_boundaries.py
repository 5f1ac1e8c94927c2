"""Services share contracts only: none imports another service, and libs import no service."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "src").is_dir())


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_service_imports_another() -> None:
    for service in SERVICES:
        others = set(SERVICES) - {service}
        for path in (ROOT / "services" / service / "src").rglob("*.py"):
            crossing = imported_packages(path) & others
            assert not crossing, f"{path.relative_to(ROOT)} imports {crossing}: share events, not code"


def test_libs_import_no_service() -> None:
    for path in (ROOT / "libs").rglob("*.py"):
        crossing = imported_packages(path) & set(SERVICES)
        assert not crossing, f"{path.relative_to(ROOT)} imports service code {crossing}"


def test_the_checker_sees_imports() -> None:
    sample = ROOT / "tests" / "unit" / "test_boundaries.py"
    assert {"ast", "pathlib", "__future__"} <= imported_packages(sample)
