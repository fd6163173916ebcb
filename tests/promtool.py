"""`promtool check metrics` on a /metrics body, for the station's and central's suites.

promtool comes from Debian's `prometheus` package, which `.ci/run` installs; where it is absent
the checks skip with that reason (the series themselves are still asserted by the tests).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest


def promtool_check(text: str) -> None:
    """Fail with promtool's own words if it finds anything in `text`."""
    tool = shutil.which("promtool")
    if tool is None:
        pytest.skip("promtool not installed (Debian package 'prometheus'); .ci/run installs it")
    done = subprocess.run(
        [tool, "check", "metrics"],
        input=text.encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    problems = (done.stdout + done.stderr).decode(errors="replace").strip()
    assert done.returncode == 0, f"promtool check metrics: {problems}"
