"""What importing the daemon loads: its own rooms and the libraries it runs on, nothing else.

The daemon's memory and start-up are mostly import cost (docs/benchmarks.md), so tools and
code for other programs stay out of a fresh interpreter that imports `station.daemon`: the
central server, the `station` command, the UI, tests, the doctor, and the backends and
drivers of hardware a station may not have (they are imported where a config builds them).
Checked in a subprocess, since this test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

NOT_AT_START = (
    "central",
    "launcher",
    "ui",
    "tests",
    "textual",
    "station.ops.doctor",
    "drivers.sim",
    "drivers.lockboard.modbus_board",
    "pymodbus",
    "drivers.gpio",
    "gpiozero",
    "drivers.radar",
    "httpx",
    "rich",
    "sqlite_utils",
)
"""Packages (and their submodules) a bare `import station.daemon` must not load."""


def within(loaded: list[str], packages: tuple[str, ...]) -> list[str]:
    """The loaded modules that are one of `packages` or inside one."""
    return sorted(
        name
        for name in loaded
        for package in packages
        if name.split(".")[: package.count(".") + 1] == package.split(".")
    )


def test_importing_the_daemon_loads_no_central_cli_test_or_unused_driver_code() -> None:
    code = "import json, sys, station.daemon; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(out.stdout)
    assert "station.daemon" in loaded
    assert within(loaded, NOT_AT_START) == []


def test_the_station_command_loads_no_central_ui_or_http_client_before_running() -> None:
    """`station run` is `launcher.main`: its subcommands' modules are imported to build the
    parser, so they too keep what only one subcommand needs (httpx for backups) inside it."""
    code = "import json, sys, launcher.main; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(out.stdout)
    banned = ("central", "ui", "textual", "httpx", "rich", "tests")
    assert within(loaded, banned) == []


def test_station_run_builds_its_routes_without_pydantic_v1() -> None:
    """FastAPI imports all of pydantic.v1 (1.5 MB) on the first route with a response model,
    only to refuse v1 models; `station run` blocks that import, and its routes still build
    (tests/station/test_daemon_process.py runs the daemon so)."""
    code = (
        "import json, sys; from launcher.main import without_pydantic_v1; "
        "without_pydantic_v1(); import station.daemon; "
        "from station.api.routes import ROUTERS; "
        "print(json.dumps([sys.modules.get('pydantic.v1') is None, "
        "sum(len(r.routes) for r in ROUTERS)]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    blocked, routes = json.loads(out.stdout)
    assert blocked and routes > 50


def test_the_touchscreen_process_loads_no_pydantic_nor_the_daemon(tmp_path: Path) -> None:
    """`station ui` (the kiosk unit) as far as its app: launcher.main, the config read the
    kiosk's way and the app built, without pydantic, the config's models, the store or the
    doctor (20 MB of the UI's RSS when it loaded them), nor httpx's models and CLI."""
    import tomli_w

    from tests.simstation import sim_config_data

    config = tmp_path / "station.toml"
    config.write_text(tomli_w.dumps(sim_config_data(tmp_path)), encoding="utf-8")
    code = (
        "import json, sys; import launcher.main; from ui.app import build_app; "
        "from ui.settings import read_kiosk_config; "
        "build_app(read_kiosk_config(sys.argv[1]), silent=True); "
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(out.stdout)
    assert "ui.app" in loaded
    banned = ("pydantic", "station.config", "station.store", "station.ops", "httpx", "click")
    assert within(loaded, banned) == []
