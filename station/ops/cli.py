"""The technician's subcommands `station doctor`, `station backup` and `station restore`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from station.config import ConfigError, StationConfig, load_config
from station.ops.backup import BackupError, backup, database_path, restore
from station.ops.doctor import DoctorOptions, daemon_answers, daemon_base, doctor_main


def _load(path: str) -> StationConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_doctor(args: argparse.Namespace) -> int:
    if args.scan:
        from station.ops.scan import scan_main

        return scan_main(args.scan)
    options = DoctorOptions(warn_free_mb=args.warn_free_mb, fail_free_mb=args.fail_free_mb)
    return doctor_main(args.config, options)


def cmd_backup(args: argparse.Namespace) -> int:
    config = _load(args.config)
    try:
        events = backup(config.station.data_dir, Path(args.out))
    except BackupError as exc:
        print(f"backup refused: {exc}", file=sys.stderr)
        return 1
    print(f"backup: {database_path(config.station.data_dir)} -> {args.out} ({events} events)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    config = _load(args.config)
    return run_restore(config, Path(args.source), force=args.force)


def run_restore(
    config: StationConfig, source: Path, *, force: bool, daemon_url: str | None = None
) -> int:
    """Restore unless the daemon answers (it would keep writing to the replaced file)."""
    url = daemon_url or daemon_base(config, DoctorOptions())
    if not force and asyncio.run(daemon_answers(url)):
        print(
            f"restore refused: the daemon is running ({url}); stop it first "
            "(systemctl stop station station-kiosk), or pass --force",
            file=sys.stderr,
        )
        return 1
    try:
        events, kept = restore(config.station.data_dir, source)
    except BackupError as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return 1
    db = database_path(config.station.data_dir)
    print(f"restore: {source} -> {db} ({events} events)")
    if kept is not None:
        print(f"restore: the previous database is kept as {kept}")
    return 0


def add_maintenance_commands(sub: Any, default_config: str) -> None:
    p = sub.add_parser("doctor", help="check config, disk, boards, GPIO, radar, clock, central")
    p.add_argument("--config", default=default_config)
    p.add_argument("--warn-free-mb", type=float, default=200.0, help="warn below this free space")
    p.add_argument("--fail-free-mb", type=float, default=50.0, help="fail below this free space")
    p.add_argument(
        "--scan",
        metavar="PORT",
        help="find the lock boards on this serial port by status reads only (daemon stopped)",
    )
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("backup", help="consistent copy of the database (safe while running)")
    p.add_argument("--config", default=default_config)
    p.add_argument("out", help="file to write (must not exist)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="replace the database with a backup (daemon stopped)")
    p.add_argument("--config", default=default_config)
    p.add_argument("--force", action="store_true", help="restore even if the daemon answers")
    p.add_argument("source", help="a file made by `station backup`")
    p.set_defaults(func=cmd_restore)
