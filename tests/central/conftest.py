"""Central's test fixtures: a throwaway PostgreSQL cluster, and storage on both backends.

The cluster is started once per test session (per xdist worker) from Debian's server binaries;
where none is installed the PostgreSQL variants report themselves skipped with the reason.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from central.storage.base import Storage
from central.storage.pg_cluster import ClusterUnavailable, ThrowawayCluster
from central.storage.sqlite import SQLiteStorage

_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[ThrowawayCluster]:
    try:
        cluster = ThrowawayCluster().start()
    except ClusterUnavailable as exc:
        pytest.skip(f"PostgreSQL not available: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: ThrowawayCluster) -> str:
    """A fresh database in the session's cluster."""
    return pg_cluster.create_database(f"t{next(_names)}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """The same tests on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        backend: Storage = SQLiteStorage(tmp_path / "central.db")
    else:
        from central.storage.postgres import PostgresStorage

        backend = PostgresStorage(request.getfixturevalue("pg_url"))
    try:
        yield backend
    finally:
        backend.close()
