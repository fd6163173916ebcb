"""The `station` command: run the daemon, the UI, the central server, the demo and tools."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from launcher.logs import configure_logging, under_journald
from station.config_paths import default_config_path

if TYPE_CHECKING:
    from station.config import StationConfig

DEFAULT_CONFIG = str(default_config_path())
"""Without --config: $STATION_CONFIG, the installed station's file, or the demo's."""


def _config(path: str) -> StationConfig:
    from station.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        prefix = "<3>" if under_journald(sys.stderr) else ""  # an error in `journalctl -p err`
        print(prefix + f"config error: {exc}".replace("\n", "\n" + prefix), file=sys.stderr)
        raise SystemExit(2) from None


def without_pydantic_v1() -> None:
    """Keep pydantic.v1 out of this process (the daemon's, before its routes are built).

    FastAPI imports the whole of pydantic.v1 (1.5 MB of the daemon's RSS, docs/benchmarks.md)
    the first time a route has a response model, only to refuse v1 models; the station has
    none. With the import blocked, FastAPI's check answers "not v1", as it does under a
    pydantic that has no v1 (fastapi/_compat/shared.py catches the ImportError)."""
    sys.modules.setdefault("pydantic.v1", None)  # type: ignore[arg-type]


def cmd_run(args: argparse.Namespace) -> int:
    without_pydantic_v1()
    from station.daemon import run
    from station.store import StoreDamaged

    config = _config(args.config)
    try:
        return asyncio.run(run(config))
    except StoreDamaged as exc:
        # What is wrong and how to restore, not a traceback (store/integrity.py).
        prefix = "<2>" if under_journald(sys.stderr) else ""
        print(prefix + f"station database: {exc}", file=sys.stderr)
        return 3


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
    # The UI reads the sections it uses itself (ui/settings.py): the kiosk's process loads
    # neither pydantic nor the daemon's config models; `station run` checks the whole file.
    from ui.app import main as ui_main

    return ui_main(args.config, web=args.web, silent=args.silent)


def add_run_command(sub: Any) -> None:
    p = sub.add_parser("run", help="run the station daemon (owns the hardware, serves the API)")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.set_defaults(func=cmd_run)


def add_ui_command(sub: Any) -> None:
    p = sub.add_parser("ui", help="the touchscreen UI (a client of the daemon's API)")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.add_argument("--web", action="store_true", help="serve it to browsers via textual-serve")
    p.add_argument("--silent", action="store_true", help="no spoken prompts or key clicks")
    p.set_defaults(func=cmd_ui)


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
    from station.ops.cli import add_maintenance_commands
    from station.ops.members_cli import add_member_commands
    from station.ops.staff_cli import add_staff_commands

    parser = argparse.ArgumentParser(prog="station", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    add_run_command(sub)

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

    add_ui_command(sub)

    sub.add_parser(
        "central", help="the central server and its admin commands (`station central --help`)"
    )

    add_staff_commands(sub, DEFAULT_CONFIG)
    add_member_commands(sub, DEFAULT_CONFIG)
    add_maintenance_commands(sub, DEFAULT_CONFIG)
    return parser


SERVICES = {"run": add_run_command, "ui": add_ui_command}
"""The commands systemd runs for as long as the station is up."""


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["central"]:
        # The central server has its own command tree; hand it everything after `central`.
        from central.cli import main as central_main

        configure_logging()
        return central_main(argv[1:])
    if argv[:1] and argv[0] in SERVICES:
        # The daemon's and the kiosk's processes (deploy/systemd/): a parser of that command
        # alone, since building the whole one imports every maintenance command's modules (the
        # config's models, the store, the doctor, backups: 20 MB the touchscreen never uses,
        # 2 MB the daemon would carry for as long as it runs).
        parser = argparse.ArgumentParser(prog="station", description=__doc__)
        parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
        SERVICES[argv[0]](parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    else:
        parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
