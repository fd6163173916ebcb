"""deploy/prometheus/: the example scrape config and alert rules, checked by promtool itself.

promtool comes from Debian's `prometheus` package (installed by .ci/run); without it these
tests skip with that reason.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PROM = REPO / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (Debian package 'prometheus')"
)


def promtool(*args: str, cwd: Path) -> str:
    assert PROMTOOL is not None
    done = subprocess.run(
        [PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


@needs_promtool
def test_scrape_config_is_valid(tmp_path: Path) -> None:
    """Checked as an operator would deploy it: the token files exist where it points."""
    text = (PROM / "prometheus.yml").read_text()
    for name in re.findall(r"credentials_file: (\S+)", text):
        local = tmp_path / Path(name).name
        local.write_text("gxyz_example-token\n")
        text = text.replace(name, str(local))
    (tmp_path / "prometheus.yml").write_text(text)
    shutil.copy(PROM / "alerts.yml", tmp_path / "alerts.yml")
    out = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert "SUCCESS" in out


@needs_promtool
def test_alert_rules_are_valid_and_fire_as_intended() -> None:
    assert "SUCCESS" in promtool("check", "rules", "alerts.yml", cwd=PROM)
    assert "SUCCESS" in promtool("test", "rules", "alerts_test.yml", cwd=PROM)


def test_rules_name_only_series_the_exporters_produce() -> None:
    """A renamed metric must not leave an alert that can never fire."""
    rules = yaml.safe_load((PROM / "alerts.yml").read_text())
    sources = {
        "station_": (REPO / "station" / "telemetry" / "metrics.py").read_text(),
        "central_": (REPO / "central" / "metrics.py").read_text(),
    }
    alerts = [r for g in rules["groups"] for r in g["rules"]]
    wanted = {"StationOffline", "DoorForcedOpen", "SyncLagging", "SupplyLow"}
    assert wanted <= {r["alert"] for r in alerts}
    for rule in alerts:
        for name in re.findall(r"\b((?:station|central)_[a-z0-9_]+)", rule["expr"]):
            prefix = name[: name.index("_") + 1]
            stem = name[len(prefix) :]
            assert f'"{stem}"' in sources[prefix], f"{rule['alert']}: no series {name}"
