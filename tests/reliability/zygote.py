"""A pre-imported station that forks daemons on demand, so a test can kill -9 hundreds of them.

A fresh `station run` spends most of a second importing; the power-cut suite needs 200+ starts.
This process imports everything once, then for each `spawn CONFIG` line on stdin forks a child
that runs the real Daemon from that config file and writes `ready PID PORT` to stdout once it
serves. The zygote itself starts no threads, so forking it is safe. Children are reaped by the
kernel (SIGCHLD ignored), so a killed daemon's pid disappears as soon as it is dead.

Usage: python -m tests.reliability.zygote   (driven by tests/reliability/powercutkit.py)
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import uvicorn.loops.auto
import uvicorn.protocols.http.auto
import uvicorn.protocols.websockets.auto  # noqa: F401

from station.config import load_config
from station.daemon import Daemon


def _say(line: str) -> None:
    """One write per line: lines from the zygote and its children never interleave."""
    os.write(1, (line + "\n").encode())


async def _serve(config_path: Path) -> None:
    daemon = Daemon(load_config(config_path), port=0)
    await daemon.start()
    _say(f"ready {os.getpid()} {daemon.bound_port}")
    await asyncio.Event().wait()


def _child(config_path: Path) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    sys.stdin.close()
    try:
        asyncio.run(_serve(config_path))
    except BaseException as exc:  # the test reads this line and fails with it
        _say(f"failed {os.getpid()} {type(exc).__name__}: {exc}")
        os._exit(1)
    os._exit(0)


def main() -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    _say("zygote ready")
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command != "spawn":
            _say(f"error unknown command {command!r}")
            continue
        pid = os.fork()
        if pid == 0:
            _child(Path(arg))
        _say(f"spawned {pid}")


if __name__ == "__main__":
    main()
