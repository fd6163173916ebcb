"""The import rules of docs/architecture.md, checked on every module (lazy imports included).

Dependencies point down: `drivers` and `wire` import nothing of ours; `station` imports them
but never `ui` or `central`; `central` imports `wire` and never `station`, `drivers` or `ui`;
`ui` is a client and never touches `drivers` or `central`; `launcher` (the `station`
command) sits above them all and nothing imports it. Inside `station` the lower rooms
(store, doors, people, occupancy) never import the rooms built on them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("central", "drivers", "launcher", "station", "ui", "wire")

FORBIDDEN: dict[str, tuple[str, ...]] = {
    "drivers": ("station", "ui", "central", "wire", "launcher"),
    "wire": ("station", "ui", "central", "drivers", "launcher"),
    "station": ("ui", "central", "launcher"),
    "central": ("station", "ui", "drivers", "launcher"),
    "ui": ("central", "drivers", "launcher"),
    "launcher": (),  # the `station` command: above everything, imported by nothing
    # Inside the station: a room never imports a room that is built on it.
    "station.store": (
        "station.remote",
        "station.doors",
        "station.services",
        "station.people",
        "station.sync",
        "station.api",
        "station.ops",
        "station.telemetry",
        "station.daemon",
    ),
    "station.doors": (
        "station.remote",
        "station.services",
        "station.people",
        "station.sync",
        "station.api",
        "station.telemetry",
        "station.daemon",
    ),
    "station.people": (
        "station.remote",
        "station.services",
        "station.api",
        "station.daemon",
        "station.doors",
    ),
    "station.occupancy": (
        "station.remote",
        "station.services",
        "station.api",
        "station.daemon",
        "station.sync",
    ),
    "station.services": ("station.api", "station.daemon", "station.ops", "station.telemetry"),
    "station.sync": (
        "station.remote",
        "station.api",
        "station.daemon",
        "station.services",
        "station.telemetry",
    ),
    "station.telemetry": ("station.remote", "station.api", "station.daemon", "station.runtime"),
    "station.remote": ("station.api", "station.daemon"),
}


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _violations() -> list[str]:
    problems: list[str] = []
    for top in OURS:
        for path in sorted((ROOT / top).rglob("*.py")):
            module = _module_of(path)
            rules = [
                (owner, banned) for owner, banned in FORBIDDEN.items() if _within(module, owner)
            ]
            for lineno, name in _imports(path):
                for owner, banned in rules:
                    for bad in banned:
                        if _within(name, bad) and not _within(module, bad):
                            problems.append(
                                f"{path.relative_to(ROOT)}:{lineno}: {module} ({owner}) "
                                f"imports {name}"
                            )
    return sorted(set(problems))


def test_dependencies_point_down() -> None:
    assert _violations() == []


@pytest.mark.parametrize(
    ("module", "imported", "expected"),
    [
        ("drivers.lockboard.cu", "station.config", True),
        ("central.app", "station.store", True),
        ("station.store.db", "station.services.lending", True),
        ("station.api.app", "station.services.registry", False),
        ("ui.app", "station.config", False),
    ],
)
def test_rules_catch_what_they_should(module: str, imported: str, expected: bool) -> None:
    """The rules themselves: a lower room importing a higher one is caught, the reverse is not."""
    caught = any(
        _within(module, owner) and any(_within(imported, b) for b in banned)
        for owner, banned in FORBIDDEN.items()
    )
    assert caught is expected


def test_every_package_has_a_rule() -> None:
    assert set(OURS) <= set(FORBIDDEN)
