"""The office's commands against a running central over HTTP: commands to stations,
releases, rollouts, updates.

They need no database, only central's address (`--url` or $CENTRAL_URL) and an office token
($CENTRAL_TOKEN or `--token-file`; never on the command line, where `ps` would show it).
Issuing commands, uploading and rolling out take an operator token.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from wire.bundle import describe_errors
from wire.commands import CommandRequest
from wire.releases import Manifest, ReleaseFile, RolloutRequest

PROJECT_WHEEL = re.compile(r"^gongxiang_yizhan-([^-]+)-")


class OfficeError(Exception):
    """What went wrong, in words for the operator."""


def _client(args: argparse.Namespace) -> httpx.Client:
    url = args.url or os.environ.get("CENTRAL_URL", "")
    if not url:
        raise OfficeError("give central's address with --url or $CENTRAL_URL")
    if args.token_file:
        token = Path(args.token_file).read_text().strip()
    else:
        token = os.environ.get("CENTRAL_TOKEN", "").strip()
    if not token:
        raise OfficeError("give an office token in $CENTRAL_TOKEN or with --token-file")
    return httpx.Client(
        base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=300.0
    )


def _answer(r: httpx.Response) -> Any:
    if r.status_code >= 400:
        try:
            detail = r.json().get("detail", "")
        except ValueError:
            detail = r.text[:200]
        raise OfficeError(f"central answered HTTP {r.status_code}: {detail}")
    return r.json() if r.content else None


def manifest_of(wheelhouse: Path, version: str | None, notes: str = "") -> Manifest:
    """The manifest of every wheel in `wheelhouse`; the version is the project wheel's
    unless given."""
    wheels = sorted(wheelhouse.glob("*.whl"))
    if not wheels:
        raise OfficeError(f"{wheelhouse} holds no wheels: build them with `pip wheel`")
    if version is None:
        found = [m.group(1) for w in wheels if (m := PROJECT_WHEEL.match(w.name))]
        if len(found) != 1:
            raise OfficeError("give --version: no single gongxiang_yizhan wheel to read it from")
        version = found[0]
    files = [ReleaseFile(name=w.name, size=w.stat().st_size, sha256=_sha256(w)) for w in wheels]
    try:
        return Manifest(version=version, files=tuple(files), notes=notes)
    except ValidationError as exc:
        raise OfficeError(f"cannot make a manifest: {describe_errors(exc)}") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def upload_release(client: httpx.Client, wheelhouse: Path, manifest: Manifest) -> None:
    for f in manifest.files:
        with (wheelhouse / f.name).open("rb") as body:
            _answer(
                client.put(
                    f"/api/v1/releases/{manifest.version}/files/{f.name}",
                    content=body,
                    headers={"X-File-SHA256": f.sha256},
                )
            )
    _answer(
        client.put(
            f"/api/v1/releases/{manifest.version}",
            content=manifest.model_dump_json(),
            headers={"Content-Type": "application/json"},
        )
    )


def cmd_release_upload(args: argparse.Namespace) -> int:
    wheelhouse = Path(args.wheelhouse)
    manifest = manifest_of(wheelhouse, args.version, args.notes)
    with _client(args) as client:
        upload_release(client, wheelhouse, manifest)
    size = sum(f.size for f in manifest.files)
    print(f"release {manifest.version}: {len(manifest.files)} file(s), {size} bytes uploaded")
    return 0


def cmd_rollout(args: argparse.Namespace) -> int:
    try:
        order = RolloutRequest(
            version=args.version, stations=tuple(args.stations), canary=tuple(args.canary)
        )
    except ValidationError as exc:
        raise OfficeError(f"rollout refused: {describe_errors(exc)}") from None
    with _client(args) as client:
        got = _answer(client.post("/api/v1/rollouts", json=order.model_dump(mode="json")))
    first = ", ".join(order.canary) or "none: every station at once"
    print(f"rollout {got['id']}: {order.version} to {', '.join(order.stations)}; first {first}")
    return 0


def cmd_updates(args: argparse.Namespace) -> int:
    params = {"station": args.station} if args.station else {}
    with _client(args) as client:
        got = _answer(client.get("/api/v1/updates", params=params))
    if args.json:
        print(json.dumps(got, ensure_ascii=False, indent=1))
        return 0
    for station, view in sorted(got["stations"].items()):
        last = view["last"]
        result = (
            "no update yet"
            if last is None
            else (
                f"last {last['from_version'] or '-'} -> {last['version']}: {last['status']}"
                + (f" ({last['detail']})" if last["detail"] else "")
            )
        )
        held = f"; {view['held']} {view['held_stage']}" if view["held"] else ""
        print(f"{station}  target {view['target'] or '-'} {view['stage']}{held}  {result}")
    return 0


def _setting(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise OfficeError(f"--set {text!r}: write KEY=VALUE, e.g. timeouts.left_open_s=300")
    try:
        value = json.loads(raw)  # 300, 2.5, true, "12345": as JSON reads them
    except ValueError:
        value = raw  # anything else is text: 0755-12345678
    return key.strip(), value


def command_request(args: argparse.Namespace) -> CommandRequest:
    """The command the operator described on the command line, checked as central will."""
    action: dict[str, Any] = {"kind": args.kind}
    if args.kind in ("open_door", "release_locker"):
        action["locker"] = args.locker
    if args.kind == "open_door" and args.force:
        action["force"] = True
    if args.kind == "lift_lockout":
        action |= {"member": args.member, "staff": args.staff}
    if args.kind == "apply_settings":
        action["settings"] = dict(_setting(s) for s in args.set)
    if args.kind == "diagnostics":
        action["log_lines"] = args.log_lines
    body = {"action": action, "reason": args.reason, "expires_in_s": args.expires_in}
    try:
        return CommandRequest.model_validate(body)
    except ValidationError as exc:
        raise OfficeError(f"command refused: {describe_errors(exc)}") from None


def cmd_commands_issue(args: argparse.Namespace) -> int:
    request = command_request(args)
    with _client(args) as client:
        got = _answer(
            client.post(
                f"/api/v1/stations/{args.station}/commands",
                content=request.model_dump_json(exclude_none=True),
                headers={"Content-Type": "application/json"},
            )
        )
    command = got["command"]
    print(command["id"])
    print(
        f"queued for {args.station} by {command['issuer']}: {args.kind}; it expires in "
        f"{args.expires_in:g} s (follow it: station central commands list --station "
        f"{args.station})",
        file=sys.stderr,
    )
    return 0


def cmd_commands_list(args: argparse.Namespace) -> int:
    params = {k: v for k, v in (("station", args.station), ("status", args.status)) if v}
    with _client(args) as client:
        got = _answer(client.get("/api/v1/commands", params=params | {"limit": args.limit}))
    if args.json:
        print(json.dumps(got, ensure_ascii=False, indent=1))
        return 0
    for c in got["commands"]:
        print(
            f"{c['id'][:8]}  {c['station']}  {c['kind']:<14}  {c['status']:<8}  "
            f"by {c['issuer']}: {c['reason']}" + (f"  -> {c['detail']}" if c["detail"] else "")
        )
    return 0


OFFICE_COMMANDS = {"commands", "release", "rollout", "updates"}


def add_office_commands(sub: Any) -> None:
    def connection(p: argparse.ArgumentParser) -> None:
        p.add_argument("--url", help="central's address (default $CENTRAL_URL)")
        p.add_argument("--token-file", help="file holding the office token ($CENTRAL_TOKEN)")

    commands = sub.add_parser("commands", help="commands to stations (issue, list)")
    actions = commands.add_subparsers(dest="commands_command", required=True, metavar="ACTION")
    p = actions.add_parser("issue", help="queue a command for a station (operator token)")
    p.add_argument("station")
    p.add_argument(
        "kind",
        choices=("open_door", "release_locker", "lift_lockout", "apply_settings", "diagnostics"),
    )
    p.add_argument("--reason", required=True, help="why: written in both usage logs")
    p.add_argument("--locker", help="open_door, release_locker: e.g. A03")
    p.add_argument("--force", action="store_true", help="open_door: even a faulty locker")
    p.add_argument("--member", help="lift_lockout: the member's id")
    p.add_argument("--staff", help="lift_lockout: the staff number")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="apply_settings")
    p.add_argument("--log-lines", type=int, default=200, help="diagnostics: newest log lines")
    p.add_argument("--expires-in", type=float, default=900.0, help="seconds (default 900)")
    connection(p)
    p.set_defaults(func=cmd_commands_issue)
    p = actions.add_parser("list", help="commands, newest first, with their results")
    p.add_argument("--station")
    p.add_argument("--status", choices=("pending", "done", "refused", "failed"))
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    connection(p)
    p.set_defaults(func=cmd_commands_list)

    release = sub.add_parser("release", help="software releases for the stations (upload)")
    actions = release.add_subparsers(dest="release_command", required=True, metavar="ACTION")
    p = actions.add_parser("upload", help="upload a wheelhouse (operator token)")
    p.add_argument("wheelhouse", help="folder of wheels: the project's and all it needs")
    p.add_argument("--version", help="default: the gongxiang_yizhan wheel's version")
    p.add_argument("--notes", default="", help="what changed, shown to the office")
    connection(p)
    p.set_defaults(func=cmd_release_upload)

    p = sub.add_parser("rollout", help="order a release onto stations, canaries first")
    p.add_argument("version")
    p.add_argument("--stations", nargs="+", required=True, help="station ids, or '*' for every one")
    p.add_argument(
        "--canary", nargs="*", default=[], help="these update first; the rest once they are ok"
    )
    connection(p)
    p.set_defaults(func=cmd_rollout)

    p = sub.add_parser("updates", help="per station: target, stage, newest update result")
    p.add_argument("--station")
    p.add_argument("--json", action="store_true")
    connection(p)
    p.set_defaults(func=cmd_updates)


def run_office_command(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args))
    except OfficeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except httpx.HTTPError as exc:
        print(f"error: cannot reach central: {exc}", file=sys.stderr)
        return 1
