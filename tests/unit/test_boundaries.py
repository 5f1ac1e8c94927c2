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


#: what a layer's modules may not import from their own service
FORBIDDEN = {
    "domain": {"application", "adapters", "consumers", "api", "bootstrap"},
    "application": {"consumers", "api", "bootstrap"},
    "adapters": {"application", "consumers", "api", "bootstrap"},
    "consumers": {"api", "bootstrap"},
    "api": {"consumers", "bootstrap"},
}
#: packages that do I/O or bind a framework: none of them in domain/
IO_PACKAGES = {"sqlalchemy", "fastapi", "starlette", "httpx", "nats", "faststream", "aiosmtplib", "openpyxl"}


def layer_breaches(service: str, layer: str, path: Path) -> list[str]:
    """The imports of one module that go against its layer's direction."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] == service and len(parts) > 1 and parts[1] in FORBIDDEN[layer]:
                found.append(f"{layer}/ imports {module}")
            if layer == "domain" and parts[0] in IO_PACKAGES:
                found.append(f"domain/ imports {module}: the domain does no I/O")
    return found


def test_layers_inside_each_service_point_one_way() -> None:
    breaches = []
    for service in SERVICES:
        package = ROOT / "services" / service / "src" / service
        for path in package.rglob("*.py"):
            layer = path.relative_to(package).parts[0]
            if layer in FORBIDDEN:
                breaches += [f"{path.relative_to(ROOT)}: {b}" for b in layer_breaches(service, layer, path)]
    assert not breaches, "\n".join(breaches)


def test_the_layer_check_finds_a_breach(tmp_path: Path) -> None:
    sample = tmp_path / "fanout.py"
    sample.write_text("from programs.application.pairs import form\nfrom programs.domain import pair\n")
    assert layer_breaches("programs", "consumers", sample) == []
    assert layer_breaches("programs", "adapters", sample) == ["adapters/ imports programs.application.pairs"]
    sample.write_text("import sqlalchemy\n")
    [breach] = layer_breaches("programs", "domain", sample)
    assert breach == "domain/ imports sqlalchemy: the domain does no I/O"


def test_the_checker_sees_imports() -> None:
    sample = ROOT / "tests" / "unit" / "test_boundaries.py"
    assert {"ast", "pathlib", "__future__"} <= imported_packages(sample)
