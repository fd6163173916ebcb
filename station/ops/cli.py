"""The technician's subcommands `station doctor`, `backup`, `restore` and `update`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from station.config import ConfigError, StationConfig, load_config
from station.ops.backup import BackupError, backup, database_path, restore
from station.ops.central_backup import auto_backup, restore_from_central
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
    if args.auto:
        return _auto_backup(config, args.keep, upload=not args.no_upload)
    if args.out is None:
        print("backup: give a file to write, or --auto for the nightly backup", file=sys.stderr)
        return 2
    try:
        events = backup(config.station.data_dir, Path(args.out))
    except BackupError as exc:
        print(f"backup refused: {exc}", file=sys.stderr)
        return 1
    print(f"backup: {database_path(config.station.data_dir)} -> {args.out} ({events} events)")
    return 0


def _auto_backup(config: StationConfig, keep: int, *, upload: bool) -> int:
    try:
        done = auto_backup(config, keep, upload=upload)
    except BackupError as exc:
        print(f"backup refused: {exc}", file=sys.stderr)
        return 1
    print(f"backup: {done.path} ({done.events} events); {len(done.deleted)} old one(s) deleted")
    if done.uploaded:
        print(f"backup: uploaded to {config.sync.url}")
        return 0
    if upload and config.sync.enabled:
        # The copy on the card is made; the timer tries again tomorrow. Non-zero so systemd
        # shows the unit failed and the office sees it in `systemctl --failed`.
        print(f"backup: upload to central failed: {done.upload_error}", file=sys.stderr)
        return 1
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if args.from_central:
        return run_restore(config, None, force=args.force)
    if args.source is None:
        print("restore: give a backup file, or --from-central", file=sys.stderr)
        return 2
    return run_restore(config, Path(args.source), force=args.force)


def run_restore(
    config: StationConfig, source: Path | None, *, force: bool, daemon_url: str | None = None
) -> int:
    """Restore unless the daemon answers (it would keep writing to the replaced file);
    `source` None: the newest backup central holds, and the events central has beyond it."""
    url = daemon_url or daemon_base(config, DoctorOptions())
    if not force and asyncio.run(daemon_answers(url)):
        print(
            f"restore refused: the daemon is running ({url}); stop it first "
            "(systemctl stop station station-kiosk), or pass --force",
            file=sys.stderr,
        )
        return 1
    if source is None:
        try:
            got = restore_from_central(config)
        except BackupError as exc:
            print(f"restore refused: {exc}", file=sys.stderr)
            return 1
        print(
            f"restore: from {config.sync.url}: {got.events} events in the backup, "
            f"{got.taken_back} newer ones taken back from central; the log continues after "
            f"seq {got.last_seq}"
        )
        if got.kept is not None:
            print(f"restore: the previous database is kept as {got.kept}")
        return 0
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


def cmd_update(args: argparse.Namespace) -> int:
    from station.ops.update import SystemdRestarter, UpdateError, UpdateOptions, Updater

    config = _load(args.config)
    options = UpdateOptions(
        root=Path(args.root),
        config_path=Path(args.config),
        daemon_url=daemon_base(config, DoctorOptions()),
        quiet_wait_s=args.quiet_wait,
        health_wait_s=args.health_wait,
        retry_failed=args.retry_failed,
    )
    try:
        done = Updater(config, options, SystemdRestarter(args.unit)).run()
    except UpdateError as exc:
        print(f"update: {exc}", file=sys.stderr)
        return 1
    words = {
        "ok": f"now running {done.version} (was {done.from_version or 'nothing'})",
        "rolled_back": f"{done.version} was not healthy, back on {done.from_version}: "
        + done.detail,
        "failed": f"{done.version} not installed, still on {done.from_version}: {done.detail}",
        "up_to_date": f"running the target {done.version}",
        "no_target": "central names no release for this station",
        "skipped": f"{done.version} skipped: {done.detail} (--retry-failed to try again)",
        "busy": f"{done.version} installed; {done.detail}",
    }
    stream = sys.stdout if done.outcome in ("ok", "up_to_date", "no_target") else sys.stderr
    print(f"update: {words[done.outcome]}", file=stream)
    if done.outcome in ("ok", "rolled_back", "failed") and not done.reported:
        print("update: central did not take the result; it is sent at the next run", file=stream)
    return 1 if done.outcome in ("rolled_back", "failed") else 0


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
    p.add_argument("out", nargs="?", help="file to write (must not exist)")
    p.add_argument(
        "--auto",
        action="store_true",
        help="the nightly backup: into <data_dir>/backups/, keep the newest --keep, upload",
    )
    p.add_argument("--keep", type=int, default=7, help="backups kept on the card (--auto)")
    p.add_argument("--no-upload", action="store_true", help="do not upload to central (--auto)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="replace the database with a backup (daemon stopped)")
    p.add_argument("--config", default=default_config)
    p.add_argument("--force", action="store_true", help="restore even if the daemon answers")
    p.add_argument("source", nargs="?", help="a file made by `station backup`")
    p.add_argument(
        "--from-central",
        action="store_true",
        help="the newest backup central holds (a replaced SD card), and the events after it",
    )
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser(
        "update", help="run the release central targets for this station; go back if unhealthy"
    )
    p.add_argument("--config", default=default_config)
    p.add_argument(
        "--root",
        default="/opt/station/releases",
        help="where the versions' environments and the current/previous links live",
    )
    p.add_argument("--unit", default="station.service", help="the daemon's systemd unit")
    p.add_argument(
        "--quiet-wait", type=float, default=600.0, help="seconds to wait for no door in use"
    )
    p.add_argument(
        "--health-wait", type=float, default=120.0, help="seconds the new version has to be healthy"
    )
    p.add_argument("--retry-failed", action="store_true", help="try a version that failed here")
    p.set_defaults(func=cmd_update)
