"""`station staff ...`: staff accounts from the command line, with no central server needed.

This is how the first staff account of a new station is made (`station staff add S001 王芳`).
The PIN is asked for twice at the terminal (or read from standard input with --pin-stdin for
provisioning scripts), never taken from the command line, where `ps` and shell history would
show it.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from station.config import ConfigError, load_config


def add_staff_commands(sub: Any, default_config: str) -> None:
    """Register `staff add`, `list`, `bind-card` and `release-guessing` on `station`."""
    staff = sub.add_parser("staff", help="staff accounts of this station (add, list, bind-card)")
    actions = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")

    p = actions.add_parser("add", help="create a staff account (also the first one)")
    p.add_argument("staff_no", help="staff number: 1-16 letters, digits, - or _")
    p.add_argument("name", help="the staff member's name as shown on the maintenance screen")
    p.add_argument("--config", default=default_config)
    p.add_argument(
        "--pin-stdin",
        action="store_true",
        help="read the 6-digit PIN from standard input instead of asking twice",
    )
    p.set_defaults(func=cmd_staff_add)

    p = actions.add_parser("list", help="list staff accounts (numbers and names)")
    p.add_argument("--config", default=default_config)
    p.set_defaults(func=cmd_staff_list)

    p = actions.add_parser(
        "bind-card", help="bind a staff badge (card or code): badge + PIN log in"
    )
    p.add_argument("staff_no")
    p.add_argument("--config", default=default_config)
    p.add_argument("--stdin", action="store_true", help="read the card number from stdin")
    p.set_defaults(func=cmd_staff_bind_card)

    p = actions.add_parser(
        "release-guessing",
        help="end a station-wide guessing pause, e.g. when staff logins are paused",
    )
    p.add_argument("kind", choices=["member_pin", "staff_pin", "code", "claim"])
    p.add_argument("--reason", required=True, help="why (kept in the usage log)")
    p.add_argument("--config", default=default_config)
    p.set_defaults(func=cmd_release_guessing)


def open_store(config_path: str) -> Any:
    from station.clock import SystemClock
    from station.services.registry import SERVICE_SCHEMAS
    from station.store import Store

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    return Store(config.station.data_dir / "station.db", SystemClock(), schemas=SERVICE_SCHEMAS)


def read_pin(from_stdin: bool, prompt: str = "PIN for the new account (6 digits): ") -> str | None:
    """A PIN from one line of stdin, or asked twice at the terminal (None if they differ)."""
    if from_stdin:
        return sys.stdin.readline().strip()
    if not sys.stdin.isatty():
        print(
            "no terminal to ask the PIN on: run this at a terminal, or pipe the PIN in with "
            "--pin-stdin (e.g. from a provisioning script)",
            file=sys.stderr,
        )
        return None
    try:
        first = getpass.getpass(prompt)
        second = getpass.getpass("the same PIN again: ")
    except (EOFError, KeyboardInterrupt):
        print("\nno PIN given; nothing was saved", file=sys.stderr)
        return None
    if first != second:
        print("the two PINs differ; nothing was saved", file=sys.stderr)
        return None
    return first


def cmd_staff_add(args: argparse.Namespace) -> int:
    from station.people.staff import add_staff
    from station.refusals import Refusal

    pin = read_pin(args.pin_stdin)
    if pin is None:
        return 1
    store = open_store(args.config)
    try:
        staff = add_staff(store, args.staff_no, args.name, pin)
    except Refusal as refusal:
        print(f"not added: {refusal.message}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"staff {staff.staff_no} ({staff.name}) added; log in at the maintenance screen")
    return 0


def cmd_staff_list(args: argparse.Namespace) -> int:
    store = open_store(args.config)
    try:
        rows = store.query("SELECT staff_no, name, active FROM staff ORDER BY staff_no")
    finally:
        store.close()
    for row in rows:
        state = "" if row["active"] else "  (inactive)"
        print(f"{row['staff_no']}\t{row['name']}{state}")
    if not rows:
        print("no staff accounts yet: add one with `station staff add <number> <name>`")
    return 0


def cmd_staff_bind_card(args: argparse.Namespace) -> int:
    """A badge for a staff account: at the login screen it stands for the typed staff number
    (the PIN is still asked). Its number is read without echo and kept as a keyed hash only."""
    import asyncio

    from station.people.cards import CardBook, CardOwner
    from station.refusals import Refusal

    if args.stdin:
        raw = sys.stdin.readline().strip()
    else:
        raw = getpass.getpass("present the badge on a reader that types, or type its number: ")
    store = open_store(args.config)
    key = load_config(args.config).people.phone_hash_key
    try:
        rows = store.query("SELECT 1 FROM staff WHERE staff_no = ?", (args.staff_no,))
        if not rows:
            print(f"no staff account {args.staff_no}; add it first", file=sys.stderr)
            return 1
        owner, label = CardOwner("staff", args.staff_no), f"staff:{args.staff_no}"
        asyncio.run(CardBook(store, key).bind(raw, owner, label, "cli"))
    except Refusal as refusal:
        print(f"not bound: {refusal.message}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"staff {args.staff_no}: badge bound")
    return 0


def cmd_release_guessing(args: argparse.Namespace) -> int:
    """The way back in when an attacker has spent the staff-login budget: nobody can log in to
    release it at the screen, but a technician at the station's terminal can (the daemon counts
    from the usage log, so it sees the release at its next check)."""
    from station.alarms import AlarmService
    from station.people.throttle import KINDS, GuessThrottle

    store = open_store(args.config)
    people = load_config(args.config).people
    limits = {
        "member_pin": people.station_member_pin_failures,
        "staff_pin": people.station_staff_pin_failures,
        "code": people.station_code_failures,
    }
    throttle = GuessThrottle(
        store, AlarmService(store), KINDS[args.kind], limits[args.kind], people.guess_window_s
    )
    try:
        held = store.write_now(lambda tx: throttle.release(tx, "cli", args.reason))
    finally:
        store.close()
    print(
        f"{args.kind}: released; guesses are checked again"
        if held
        else f"{args.kind} was not paused; the release is logged anyway"
    )
    return 0
