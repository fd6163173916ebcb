"""A throwaway PostgreSQL cluster in a temporary directory, for tests and benchmarks.

It uses Debian's server binaries (/usr/lib/postgresql/<version>/bin) directly: initdb, then
pg_ctl on a unix socket inside the directory (no TCP port, nothing shared with a system
cluster). PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres`
user and every command runs through runuser.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path


class ClusterUnavailable(Exception):
    """No PostgreSQL server binary, or it could not start; the message says which and why."""


def find_bin_dir() -> Path | None:
    """The newest installed server's bin directory, or None if no initdb is installed."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class ThrowawayCluster:
    def __init__(self, base: Path | None = None, durable: bool = False) -> None:
        """durable=False turns fsync off: right for tests, wrong for a benchmark of ingest."""
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise ClusterUnavailable(
                "no PostgreSQL server binary (initdb) under /usr/lib/postgresql/*/bin: "
                "apt-get install postgresql"
            )
        self.bin_dir = bin_dir
        self._as_root = os.geteuid() == 0
        self.user = "postgres" if self._as_root else pwd.getpwuid(os.geteuid()).pw_name
        if self._as_root:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise ClusterUnavailable(
                    "running as root and there is no 'postgres' user to own the cluster"
                ) from None
        self.dir = Path(tempfile.mkdtemp(prefix="pgtmp-", dir=base))
        self.data = self.dir / "data"
        self.socket_dir = self.dir
        self._started = False
        self._durable = durable

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise ClusterUnavailable(
                f"{args[0]} failed ({result.returncode}): {result.stderr.strip()[-500:]}"
            )

    def start(self) -> ThrowawayCluster:
        if self._as_root:
            shutil.chown(self.dir, user="postgres", group="postgres")
        os.chmod(self.dir, 0o700)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            self.user,
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        options = f"-c listen_addresses='' -k {self.socket_dir} -c max_connections=50"
        if not self._durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        self._started = True
        return self

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host={self.socket_dir} user={self.user} dbname={dbname}"

    def create_database(self, name: str) -> str:
        """A fresh, empty database; returns its connection string."""
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.conninfo(name)

    def stop(self) -> None:
        if self._started:
            with contextlib.suppress(ClusterUnavailable):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self._started = False
        shutil.rmtree(self.dir, ignore_errors=True)
