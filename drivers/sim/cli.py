"""`python -m drivers.sim`: serve a virtual lock board on a pty for manual testing.

Prints the serial port path on the first line of output, then reads one command per line on
stdin (type `help`). Point a station config at the path (`protocol = "cu"`, `port = "<path>"`)
or at `--link` for a path that survives restarts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from drivers.sim.lockboard import LockBoardSimulator, SimBoardSpec

HELP = """commands (ADDR may be left out when one board is simulated):
  show [ADDR]               door states
  close CH [ADDR]           close a door
  force CH [ADDR]           force a door open without an unlock
  jam CH [ADDR] | unjam CH [ADDR]
  item CH on|off [ADDR]     item-present sensor (cu)
  silent on|off [ADDR]      stop / resume answering
  delay SECONDS             answer this late
  answers status|ack|none [SECONDS]  what answers an unlock (cu), and how late
  garbage HEX               put bytes on the line now, e.g. garbage 02ff31
  prefix HEX                send bytes before every answer ('prefix' alone clears)
  unplug | replug           pull / reinsert the adapter
  heard                     commands received so far
  quit"""


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m drivers.sim", description=__doc__.split("\n")[0])
    p.add_argument("--protocol", choices=("cu", "dip8", "modbus"), default="cu")
    p.add_argument(
        "--boards", default="0", help="comma-separated board addresses on the bus (default 0)"
    )
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--feedback", choices=("closed", "open"), default="closed")
    p.add_argument("--auto-close", type=float, default=6.0, metavar="SECONDS")
    p.add_argument(
        "--unlock-answer",
        choices=("status", "ack", "none"),
        default="ack",
        help="what a cu board sends back to an unlock",
    )
    p.add_argument("--link", help="serial port path to create (a symlink to the pty)")
    p.add_argument("--wire-baud", type=int, help="delay answers by their wire time at this baud")
    return p.parse_args(argv)


def _optional_address(args: list[str], index: int) -> int | None:
    return int(args[index]) if len(args) > index else None


def run_command(sim: LockBoardSimulator, line: str, out: TextIO) -> bool:
    """Apply one console line; False when the console should end."""
    words = line.split()
    if not words:
        return True
    cmd, args = words[0].lower(), words[1:]
    door_ops: dict[str, Callable[[int, int | None], None]] = {
        "close": sim.close_door,
        "force": sim.force_open,
        "jam": lambda ch, addr: sim.set_jammed(ch, True, addr),
        "unjam": lambda ch, addr: sim.set_jammed(ch, False, addr),
    }
    try:
        if cmd in ("quit", "exit"):
            return False
        if cmd == "help":
            print(HELP, file=out)
        elif cmd in door_ops:
            door_ops[cmd](int(args[0]), _optional_address(args, 1))
        elif cmd == "item":
            sim.set_item(int(args[0]), args[1] == "on", _optional_address(args, 2))
        elif cmd == "silent":
            sim.set_silent(args[0] == "on", _optional_address(args, 1))
        elif cmd == "delay":
            sim.set_answer_delay(float(args[0]))
        elif cmd == "answers":
            sim.set_unlock_answer(args[0], float(args[1]) if len(args) > 1 else 0.0)  # type: ignore[arg-type]
        elif cmd == "garbage":
            sim.inject_garbage(bytes.fromhex(args[0]))
        elif cmd == "prefix":
            sim.set_answer_prefix(bytes.fromhex(args[0]) if args else b"")
        elif cmd == "unplug":
            sim.unplug()
        elif cmd == "replug":
            sim.replug()
        elif cmd == "show":
            print(sim.describe(_optional_address(args, 0)), file=out)
        elif cmd == "heard":
            for rx in sim.received():
                print(f"{rx.at:.6f} {rx.command}", file=out)
        else:
            print(f"unknown command {cmd!r}; type 'help'", file=out)
            return True
    except (IndexError, ValueError) as exc:
        print(f"cannot do {line.strip()!r}: {exc or 'missing argument'}; type 'help'", file=out)
        return True
    if cmd not in ("help", "show", "heard"):
        print("ok", file=out)
    return True


def main(
    argv: Sequence[str] | None = None, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout
) -> int:
    args = _parse_args(argv)
    try:
        specs = [
            SimBoardSpec(
                address=int(a),
                channels=args.channels,
                feedback=args.feedback,
                auto_close_s=args.auto_close,
                unlock_answer=args.unlock_answer,
            )
            for a in args.boards.split(",")
        ]
        sim = LockBoardSimulator(
            args.protocol, specs, link_path=args.link, wire_baud=args.wire_baud
        )
        path = sim.start()
    except (ValueError, OSError) as exc:
        print(f"cannot start the simulator: {exc}", file=sys.stderr)
        return 2
    try:
        print(path, file=out, flush=True)
        print(
            f"serving {args.protocol} board(s) {args.boards} on {path}; type 'help'",
            file=sys.stderr,
        )
        for line in stdin:
            if not run_command(sim, line, out):
                break
            out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0
