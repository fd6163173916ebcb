"""`station ui` and `python -m ui`: from the config file to a running app, or a clear refusal."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomli_w

from station.config import ConfigError, load_config
from tests.simstation import SimStation
from tests.ui.conftest import station_data
from tests.ui.kiosk import Kiosk
from ui.app import build_app, main, web_server
from ui.settings import UiConfig, UiConfigError, connection_of, read_kiosk_config

ROOT = Path(__file__).resolve().parents[2]


def write_config(path: Path, data: dict) -> Path:
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


async def test_the_app_built_from_the_config_file_reaches_the_daemon(
    station: SimStation, tmp_path: Path
) -> None:
    data = station_data(tmp_path)
    data["ui"] = {"daemon_url": station.url, "language": "en"}
    app = build_app(load_config(write_config(tmp_path / "station.toml", data)))
    async with app.run_test(size=(120, 40)) as pilot:
        kiosk = Kiosk(app, pilot, station)
        await kiosk.home()
        await kiosk.sees("Welcome. Tap a service.")
        await kiosk.sees("Taoyuan Street Station 1")


def test_a_config_the_ui_cannot_use_stops_it_with_the_reason(tmp_path: Path, capsys) -> None:
    data = station_data(tmp_path)
    data["ui"] = {"idle_timeout_s": 60, "langauge": "en"}
    assert main(str(write_config(tmp_path / "typo.toml", data))) == 2
    assert "ui.langauge: unknown key" in capsys.readouterr().err
    data["ui"] = {}
    data["api"]["tokens"] = [t for t in data["api"]["tokens"] if t["role"] != "kiosk"]
    assert main(str(write_config(tmp_path / "notoken.toml", data)), web=True) == 2
    assert "set [ui] token" in capsys.readouterr().err
    assert main(str(tmp_path / "missing.toml")) == 2
    assert "no such file" in capsys.readouterr().err


def test_the_kiosk_reads_what_the_daemon_reads_and_judges_ui_alike(tmp_path: Path) -> None:
    """The touchscreen reads its sections without pydantic (ui/settings.py); what it gets is
    what the daemon's whole-config parse gets, and a bad [ui] is refused by both, the same
    key named for the same reason."""
    data = station_data(tmp_path)
    data["ui"] = {"language": "en", "idle_timeout_s": 30, "staff_no_prefix": "S"}
    path = write_config(tmp_path / "station.toml", data)
    kiosk, full = read_kiosk_config(path), load_config(path, kiosk=True)
    assert kiosk.ui == full.ui
    assert connection_of(kiosk) == connection_of(full)
    assert (kiosk.station.name, kiosk.station.name_en, kiosk.station.help_phone) == (
        full.station.name,
        full.station.name_en,
        full.station.help_phone,
    )
    assert [lk.id for lk in kiosk.lockers] == [lk.id for lk in full.lockers]
    assert (kiosk.reader is None) == (full.reader is None)
    for bad, named in [
        ({"volume": 101}, "ui.volume: must be at least 0 and at most 100"),
        ({"mute": "yes"}, "ui.mute: must be true or false"),
        ({"idle_timeout_s": "60"}, "ui.idle_timeout_s: must be a number"),
        ({"timezone": "Mars/Olympus"}, "ui.timezone: unknown time zone 'Mars/Olympus'"),
        ({"langauge": "en"}, "ui.langauge: unknown key"),
        ({"token": "short"}, "ui.token: must be at least 16 characters"),
        ({"daemon_url": "ftp://x"}, "ui.daemon_url: must match"),
    ]:
        data["ui"] = bad
        path = write_config(tmp_path / "bad.toml", data)
        with pytest.raises(UiConfigError, match=re.escape(named)):
            read_kiosk_config(path)
        with pytest.raises(ConfigError, match=re.escape(named)):
            load_config(path, kiosk=True)


def test_web_serves_the_same_app_per_browser_tab(tmp_path: Path) -> None:
    config = write_config(tmp_path / "station.toml", station_data(tmp_path))
    server = web_server(str(config), UiConfig(web_bind="0.0.0.0", web_port=8999))
    # The tabs' apps are silent: their prompts would come out of this machine, not the browser.
    assert server.command.endswith(f"-m ui --silent --config {config.resolve()}")
    assert server.command.startswith(sys.executable)
    assert (server.host, server.port) == ("0.0.0.0", 8999)


def test_python_dash_m_ui_explains_itself() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ui", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0
    assert "--config" in done.stdout and "--web" in done.stdout
