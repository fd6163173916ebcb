"""Project-wide test hooks: the reliability suite's summary at the end of a run."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.reliability.report import ENV, Summary


def pytest_configure(config: pytest.Config) -> None:
    # Only the controlling process chooses the directory; xdist workers inherit it.
    if hasattr(config, "workerinput") or os.environ.get(ENV):
        return
    directory = tempfile.mkdtemp(prefix="station-reliability-")
    os.environ[ENV] = directory
    config.stash[_dir_key] = Path(directory)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    directory = terminalreporter.config.stash.get(_dir_key, None)
    if directory is None:
        return
    lines = Summary.read(directory).lines()
    if lines:
        terminalreporter.section("reliability summary")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    directory = config.stash.get(_dir_key, None)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)
        os.environ.pop(ENV, None)


_dir_key = pytest.StashKey[Path]()
