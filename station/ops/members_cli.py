"""`station members ...`: members from the station's terminal, for technicians.

add, reset-pin, bind-card, unbind-card, deactivate and list. A phone number, a PIN or a card
number is never taken from the command line, where `ps` and shell history would keep it: they
are asked for at the terminal (the PIN twice, without echo), or read one per line from standard
input with --stdin (provisioning scripts: phone, then PIN or card). `list` shows masked numbers
only. Every change is one event in the usage log with actor `cli`, exactly as when staff do it
at the maintenance screen (the same MemberService does the work).

The commands work while the daemon runs (SQLite allows one writer at a time, each change is
one short transaction). A member session already open at the kiosk lasts until its flow ends
or it idles out (90 s); the daemon's own sessions are not reachable from here.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from station.config import load_config
from station.ops.staff_cli import open_store, read_pin

T = TypeVar("T")
ACTOR = "cli"


class Inputs:
    """Secrets in order: one line each from stdin, or prompts at the terminal."""

    def __init__(self, from_stdin: bool) -> None:
        self._stdin = from_stdin

    def line(self, prompt: str, *, secret: bool = False) -> str:
        if self._stdin:
            return sys.stdin.readline().strip()
        return getpass.getpass(prompt) if secret else input(prompt).strip()

    def phone(self) -> str:
        return self.line("the member's phone number: ")

    def pin(self) -> str | None:
        return read_pin(self._stdin, "new PIN for the member (6 digits): ")

    def card(self) -> str:
        prompt = "present the card on a reader that types, or type its number: "
        return self.line(prompt, secret=True)


def add_member_commands(sub: Any, default_config: str) -> None:
    """Register `members ...` on the `station` command's subparsers."""
    members = sub.add_parser(
        "members", help="members of this station (add, reset-pin, bind-card, deactivate, list)"
    )
    actions = members.add_subparsers(dest="members_command", required=True, metavar="ACTION")

    def action(name: str, help_: str, func: Callable[[argparse.Namespace], int]) -> Any:
        p = actions.add_parser(name, help=help_)
        p.add_argument("--config", default=default_config)
        p.add_argument(
            "--stdin",
            action="store_true",
            help="read phone number, PIN or card number one per line from standard input",
        )
        p.set_defaults(func=func)
        return p

    p = action("add", "register a member (phone number and PIN asked for)", cmd_add)
    p.add_argument("--kind", choices=["resident", "courier"], default="resident")
    p.add_argument("--card", action="store_true", help="also bind a card (asked for last)")
    action("reset-pin", "set a new PIN (also ends a lockout)", cmd_reset_pin)
    action("bind-card", "bind a card or code to a member", cmd_bind_card)
    action("unbind-card", "remove every card bound to a member", cmd_unbind_card)
    p = action("deactivate", "switch a membership off (kept, refused at the kiosk)", cmd_deactivate)
    p.add_argument("--reason", required=True, help="why (kept in the usage log)")
    p = actions.add_parser("list", help="list members (masked numbers only)")
    p.add_argument("--config", default=default_config)
    p.set_defaults(func=cmd_list)


def _run(config_path: str, work: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
    """Run one MemberService call on the station's database, then close it."""
    from station.alarms import AlarmService
    from station.clock import SystemClock
    from station.people.lockout import Lockout
    from station.people.members import MemberService
    from station.people.pins import PinHasher

    store = open_store(config_path)
    people = load_config(config_path).people
    try:
        service = MemberService(
            store, people, PinHasher(), Lockout(people, AlarmService(store)), SystemClock()
        )
        return asyncio.run(work(service))
    finally:
        store.close()


def _refused(what: str, exc: Exception) -> int:
    print(f"{what}: {getattr(exc, 'message', exc)}", file=sys.stderr)
    return 1


def _guarded(what: str, config: str, work: Callable[[Any], Coroutine[Any, Any, str]]) -> int:
    from station.refusals import Refusal

    try:
        print(_run(config, work))
    except Refusal as exc:
        return _refused(what, exc)
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    inputs = Inputs(args.stdin)
    phone = inputs.phone()
    pin = inputs.pin()
    if pin is None:
        return 1
    card = inputs.card() if args.card else None

    async def work(service: Any) -> str:
        member = await service.register(phone, pin, args.kind, ACTOR, card=card)
        bound = " with a card" if card else ""
        return f"member {member.masked} ({member.kind}) registered{bound}"

    return _guarded("not registered", args.config, work)


def cmd_reset_pin(args: argparse.Namespace) -> int:
    inputs = Inputs(args.stdin)
    phone = inputs.phone()
    pin = inputs.pin()
    if pin is None:
        return 1

    async def work(service: Any) -> str:
        member = await service.lookup(phone)
        await service.reset_pin(member.id, pin, ACTOR)
        return f"member {member.masked}: new PIN set (any lockout ended)"

    return _guarded("PIN not changed", args.config, work)


def cmd_bind_card(args: argparse.Namespace) -> int:
    inputs = Inputs(args.stdin)
    phone = inputs.phone()
    card = inputs.card()

    async def work(service: Any) -> str:
        member = await service.lookup(phone)
        await service.bind_card(member.id, card, ACTOR)
        return f"member {member.masked}: card bound"

    return _guarded("card not bound", args.config, work)


def cmd_unbind_card(args: argparse.Namespace) -> int:
    phone = Inputs(args.stdin).phone()

    async def work(service: Any) -> str:
        member = await service.lookup(phone)
        gone = await service.unbind_cards(member.id, ACTOR)
        return f"member {member.masked}: {gone} card(s) unbound"

    return _guarded("cards not unbound", args.config, work)


def cmd_deactivate(args: argparse.Namespace) -> int:
    phone = Inputs(args.stdin).phone()

    async def work(service: Any) -> str:
        member = await service.lookup(phone)
        await service.set_status(member.id, "suspended", args.reason, ACTOR)
        return f"member {member.masked}: deactivated"

    return _guarded("not deactivated", args.config, work)


def cmd_list(args: argparse.Namespace) -> int:
    async def work(service: Any) -> list[tuple[Any, int]]:
        return list(await service.list())

    rows = _run(args.config, work)
    for member, cards in rows:
        extra = "" if member.pin_state == "set" else f"\tPIN {member.pin_state.replace('_', ' ')}"
        print(
            f"{member.masked}\t{member.label}\t{member.kind}\t{member.status}\t"
            f"{cards} card(s)\t{member.source}{extra}"
        )
    if not rows:
        print("no members yet: add one with `station members add`")
    return 0
