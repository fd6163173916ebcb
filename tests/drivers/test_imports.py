"""The drivers import nothing of ours: they take their own specs, the station maps onto them."""

from __future__ import annotations

import ast
from pathlib import Path

DRIVERS = Path(__file__).resolve().parents[2] / "drivers"
OURS = ("station", "ui", "central", "wire", "deploy", "bench", "tests")


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_driver_imports_a_higher_package() -> None:
    offenders = {
        f"{path.relative_to(DRIVERS.parent)}: {name}"
        for path in DRIVERS.rglob("*.py")
        for name in _imported(path)
        if name.split(".")[0] in OURS
    }
    assert sorted(offenders) == []
    assert any(DRIVERS.rglob("*.py"))
