"""The `station` command: run the daemon, the UI, the central server, the demo and tools."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from launcher.logs import configure_logging, under_journald
from station.config import ConfigError, StationConfig, default_config_path, load_config
from station.ops.cli import add_maintenance_commands
from station.ops.members_cli import add_member_commands
from station.ops.staff_cli import add_staff_commands

DEFAULT_CONFIG = str(default_config_path())
"""Without --config: $STATION_CONFIG, the installed station's file, or the demo's."""


def _config(path: str) -> StationConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        prefix = "<3>" if under_journald(sys.stderr) else ""  # an error in `journalctl -p err`
        print(prefix + f"config error: {exc}".replace("\n", "\n" + prefix), file=sys.stderr)
        raise SystemExit(2) from None


def cmd_run(args: argparse.Namespace) -> int:
    from station.daemon import run

    config = _config(args.config)
    return asyncio.run(run(config))


def cmd_check_config(args: argparse.Namespace) -> int:
    from station.ops.config_audit import secret_problems

    config = _config(args.config)
    problems = secret_problems(config)
    if problems:
        print(f"{args.config}: {len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(
        f"{args.config}: ok: station {config.station.id}, {len(config.boards)} board(s), "
        f"{len(config.lockers)} locker(s)"
    )
    if not config.people.phone_hash_key:
        print(
            "warning: [people] phone_hash_key is not set: the station will not recognise "
            "members (member routes answer 503); set the fleet-wide key from the central office",
            file=sys.stderr,
        )
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from ui.app import main as ui_main

    _config(args.config)
    return ui_main(args.config, web=args.web)


def cmd_demo(args: argparse.Namespace) -> int:
    from launcher.demo import run_demo

    return run_demo(
        Path(args.dir),
        headless=args.headless,
        web=args.web,
        api_port=args.port,
        central_port=args.central_port,
        modbus=args.modbus,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="station", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run the station daemon (owns the hardware, serves the API)")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check-config", help="read and check a config file, then exit")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser(
        "demo", help="run a whole station on simulated hardware with a local central server"
    )
    p.add_argument("--dir", default="var/demo", help="where the demo keeps its config and data")
    p.add_argument("--port", type=int, help="the station API's port (default 8470)")
    p.add_argument("--central-port", type=int, help="the demo central's port (default 8480)")
    p.add_argument("--headless", action="store_true", help="no touchscreen UI; serve the API only")
    p.add_argument("--web", action="store_true", help="serve the UI to a browser instead")
    p.add_argument(
        "--modbus",
        action="store_true",
        help="put lockers A13-A16 on a simulated Modbus RTU board (a new --dir only)",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("ui", help="the touchscreen UI (a client of the daemon's API)")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.add_argument("--web", action="store_true", help="serve it to browsers via textual-serve")
    p.set_defaults(func=cmd_ui)

    sub.add_parser(
        "central", help="the central server and its admin commands (`station central --help`)"
    )

    add_staff_commands(sub, DEFAULT_CONFIG)
    add_member_commands(sub, DEFAULT_CONFIG)
    add_maintenance_commands(sub, DEFAULT_CONFIG)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["central"]:
        # The central server has its own command tree; hand it everything after `central`.
        from central.cli import main as central_main

        configure_logging()
        return central_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
