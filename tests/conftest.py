"""Project-wide test hooks: the reliability suite's summary at the end of a run, and each
test's logging left as it found it."""

from __future__ import annotations

import logging
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


@pytest.fixture(autouse=True)
def _root_logging_restored() -> object:
    """Tests that run a CLI in-process go through `configure_logging`, which replaces the root
    logger's handlers with one on the stderr pytest captures for that test, and sets DEBUG for
    `-v`. Left behind, every later test in the worker formats each bus frame at DEBUG and
    writes it to a closed file ("--- Logging error ---"); restore what the test found."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    httpx_level = logging.getLogger("httpx").level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(httpx_level)


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


LONG_MODULES = (
    "tests/ui/test_layout_walks.py",
    "tests/ui/screens/test_member_screens_grids.py",
    "tests/reliability/test_api_fuzz.py",
    "tests/reliability/test_power_cut.py",
    "tests/ui/test_snapshots.py",
    "tests/ui/test_maintenance.py",
    "tests/ui/screens/test_tap_table.py",
    "tests/reliability/test_power_cut_staff.py",
    "tests/deploy/test_lean_install.py",
    "tests/deploy/test_install.py",
    "tests/deploy/test_units.py",
)
"""The modules that take longest (`pytest --durations=0`), longest first.

xdist hands whole modules to workers in collection order (`--dist loadscope`, with
`--no-loadscope-reorder`: by default it would sort modules by their number of tests, which puts
the one-test power-cut modules last), each worker taking the next module when it is nearly
done with its own. Collected first, the long ones start side by side and the many short
modules fill the gaps (longest first is the classic way to balance); a long module collected
last would run alone at the end while the other workers idle.
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(LONG_MODULES)}

    def key(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return rank.get(path, len(LONG_MODULES))

    items.sort(key=key)  # stable: the rest keep their order
