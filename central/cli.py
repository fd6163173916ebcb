"""`station central ...`: serve the central API and administer stations, tokens and bundles.

Tokens are printed once, alone on stdout (so `TOKEN=$(station central register S001)` works),
with the explanation on stderr; only their hashes are stored.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import re
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from central.auth import new_token, token_hash
from central.bundles import bundle_body, load_bundle_files
from central.office_cli import OFFICE_COMMANDS, add_office_commands, run_office_command
from central.settings import CentralSettings
from central.storage import StationExists, Storage, StorageError, UnknownStation, open_storage
from wire.bundle import BundleError

DEFAULT_DB = "/var/lib/station-central/central.db"
STATION_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def cmd_serve(args: argparse.Namespace, storage: Storage) -> int:
    import uvicorn

    from central.app import create_app

    try:
        base = read_settings_file(args.config) if args.config else {}
        settings = serve_settings(args.max_body_bytes, args.max_batch_events, args.setting, base)
    except ValueError as exc:
        _say(f"error: {exc}")
        return 2
    app = create_app(storage, settings)
    app.state.notifier.start()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        proxy_headers=True,
        log_level="info",
        log_config=None,  # uvicorn's lines go through the root handler (journald priorities)
    )
    return 0


def read_settings_file(path: str) -> dict[str, Any]:
    """The settings in a TOML file (central.toml: limits, timezone, [alerts] ...)."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the settings file ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None


def serve_settings(
    max_body_bytes: int,
    max_batch_events: int,
    pairs: Sequence[str],
    base: dict[str, Any] | None = None,
) -> CentralSettings:
    """The server's settings from the file (`base`), the flags and `--setting KEY=VALUE`
    pairs, checked whole. The flags win over the file only where they were changed."""
    values: dict[str, Any] = dict(base or {})
    defaults = CentralSettings()
    for key, value in (("max_body_bytes", max_body_bytes), ("max_batch_events", max_batch_events)):
        if key not in values or value != getattr(defaults, key):
            values[key] = value
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key.strip() not in CentralSettings.model_fields:
            known = ", ".join(CentralSettings.model_fields)
            raise ValueError(f"--setting {pair!r}: expected KEY=VALUE with KEY one of {known}")
        values[key.strip()] = value.strip()
    try:
        return CentralSettings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(_problem(e) for e in exc.errors())
        raise ValueError(f"bad server setting: {problems}") from None


def _problem(error: Any) -> str:
    """One validation error; under [alerts] without the value, which may hold a channel's
    secret (a webhook key, a mail password)."""
    where = ".".join(map(str, error["loc"]))
    if error["loc"] and error["loc"][0] == "alerts":
        return f"{where}: {error['msg']}"
    return f"{where}: {error['msg']} (got {error.get('input')!r})"


def cmd_register(args: argparse.Namespace, storage: Storage) -> int:
    token = new_token()
    storage.add_station(args.station, args.name or args.station, token_hash(token), time.time())
    _say(f"station {args.station} registered. Its token follows, shown this once: put it in")
    _say('the station\'s config as [sync] token = "..." (central keeps only its hash).')
    print(token)
    return 0


def cmd_rotate(args: argparse.Namespace, storage: Storage) -> int:
    token = new_token()
    storage.rotate_station_token(args.station, token_hash(token), time.time())
    _say(f"station {args.station}: old tokens revoked; the new token follows, shown this once.")
    _say("Until the station's [sync] token is updated, its events wait safely on the station.")
    print(token)
    return 0


def cmd_revoke(args: argparse.Namespace, storage: Storage) -> int:
    n = storage.revoke_station(args.station, time.time())
    _say(f"station {args.station}: {n} token(s) revoked; it keeps its events until given a new one")
    return 0


def cmd_office_token(args: argparse.Namespace, storage: Storage) -> int:
    token = new_token()
    storage.add_office_token(args.name, token_hash(token), time.time(), args.role)
    _say(f"office token '{args.name}' ({args.role}) created; it follows, shown this once:")
    print(token)
    return 0


def cmd_revoke_office(args: argparse.Namespace, storage: Storage) -> int:
    n = storage.revoke_office_token(args.name, time.time())
    _say(f"office token '{args.name}': {n} revoked")
    return 0 if n else 1


def cmd_publish(args: argparse.Namespace, storage: Storage) -> int:
    bundle = load_bundle_files(args.files)
    body, digest = bundle_body(bundle)
    counts = ", ".join(f"{n} {what}" for what, n in bundle.counts().items())
    target = ", ".join(args.station) if args.station else "every station"
    if args.dry_run:
        _say(f"valid bundle ({counts}) for {target}; not published (--dry-run)")
        return 0
    version = storage.publish_bundle(body, digest, args.station or [], time.time())
    _say(f"published bundle version {version} ({counts}) for {target}")
    print(version)
    return 0


def cmd_stations(args: argparse.Namespace, storage: Storage) -> int:
    now = time.time()
    for s in storage.stations():
        seen = f"{now - s.last_seen:.0f}s ago" if s.last_seen else "never"
        print(f"{s.id}\t{s.name}\tacked={s.acked_seq}\tseen={seen}\ttokens={s.active_tokens}")
    return 0


def cmd_bundles(args: argparse.Namespace, storage: Storage) -> int:
    for b in storage.bundles():
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(b.published_at))
        print(f"{b.version}\t{when}\t{b.sha256[:12]}\t{', '.join(b.stations) or 'all'}")
    return 0


def cmd_members_import(args: argparse.Namespace, storage: Storage) -> int:
    from central.members_import import ImportError_, import_members, members_json, read_key

    out, letters_path = Path(args.out), Path(args.first_pins) if args.first_pins else None
    for path in (out, letters_path):
        if path is not None and path.exists():
            _say(f"error: {path} exists; choose another file (nothing was written)")
            return 1
    try:
        key = read_key(args.key_file)
        text = Path(args.file).read_text(encoding="utf-8-sig")
        result = import_members(text, key, first_pins=letters_path is not None)
    except (OSError, UnicodeDecodeError) as exc:
        _say(f"error: {args.file}: cannot read ({exc})")
        return 1
    except ImportError_ as exc:
        _say(f"{args.file}: not imported, nothing written:\n{exc}")
        return 1
    out.write_text(members_json(result.members), encoding="utf-8")
    if letters_path is not None:
        with open(letters_path, "w", encoding="utf-8", newline="", opener=_private) as f:
            csv.writer(f).writerows([("name", "phone", "first_pin"), *result.letters])
    cards = sum(len(m.card_hashes) for m in result.members)
    pins = f"first PINs in {letters_path}" if letters_path else "PINs to be set at the station"
    _say(
        f"{len(result.members)} members ({cards} with a card, {pins}) -> {out}; publish it "
        f"with `station central publish {out} ...`"
    )
    return 0


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def cmd_members_export(args: argparse.Namespace, storage: Storage) -> int:
    from central.members_import import export_csv

    bundle = load_bundle_files([args.members])
    sys.stdout.write(export_csv(bundle.members))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="station central", description=__doc__)
    parser.add_argument(
        "--db",
        default=os.environ.get("CENTRAL_DB", DEFAULT_DB),
        help="SQLite file path, or a postgresql:// URL (env CENTRAL_DB; default %(default)s)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="serve the central API with uvicorn")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8480)
    p.add_argument("--ssl-certfile", help="serve HTTPS directly (else put a TLS proxy in front)")
    p.add_argument("--ssl-keyfile")
    p.add_argument("--max-body-bytes", type=int, default=CentralSettings().max_body_bytes)
    p.add_argument("--max-batch-events", type=int, default=CentralSettings().max_batch_events)
    p.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other server setting, e.g. offline_after_s=600 or timezone=Asia/Urumqi "
        "(repeat for more; see docs/central.md)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="central's settings as TOML (limits, timezone, [alerts] channels and routes: "
        "see docs/office.md); checked whole at start, unknown keys are errors",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("register", help="register a station and print its token once")
    p.add_argument("station")
    p.add_argument("--name", default="")
    p.set_defaults(func=cmd_register)

    p = sub.add_parser("rotate", help="revoke a station's tokens and print a new one once")
    p.add_argument("station")
    p.set_defaults(func=cmd_rotate)

    p = sub.add_parser("revoke", help="revoke every token of a station")
    p.add_argument("station")
    p.set_defaults(func=cmd_revoke)

    p = sub.add_parser("office-token", help="create a token for the office's query API")
    p.add_argument("name")
    p.add_argument(
        "--role",
        choices=("viewer", "operator"),
        default="viewer",
        help="viewer reads; operator may also send stations commands (open a door, ...)",
    )
    p.set_defaults(func=cmd_office_token)

    p = sub.add_parser("revoke-office", help="revoke an office token by name")
    p.add_argument("name")
    p.set_defaults(func=cmd_revoke_office)

    p = sub.add_parser("publish", help="validate TOML/JSON files and publish them as a bundle")
    p.add_argument("files", nargs="+")
    p.add_argument(
        "--station", action="append", default=[], help="only for this station (repeatable)"
    )
    p.add_argument("--dry-run", action="store_true", help="validate only")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("stations", help="list stations: acknowledged sequence, last seen")
    p.set_defaults(func=cmd_stations)

    p = sub.add_parser("bundles", help="list published bundles")
    p.set_defaults(func=cmd_bundles)

    members = sub.add_parser("members", help="the office's member list (import, export)")
    actions = members.add_subparsers(dest="members_command", required=True, metavar="ACTION")
    p = actions.add_parser(
        "import", help="CSV (phone, name, card, max_loans) -> members.json for publish"
    )
    p.add_argument("file", help="CSV with a header row: phone,name[,card][,max_loans]")
    p.add_argument("--key-file", required=True, help="file holding the fleet-wide hash key")
    p.add_argument("--out", default="members.json", help="members section to publish")
    p.add_argument(
        "--first-pins",
        metavar="FILE",
        help="draw a first PIN per member (changed at the station before any use) and write "
        "the letters to hand out to FILE; without it members set a PIN at the station",
    )
    p.set_defaults(func=cmd_members_import)
    p = actions.add_parser("export", help="members.json -> CSV for the office (no phone numbers)")
    p.add_argument("members", help="a members.json written by `members import`")
    p.set_defaults(func=cmd_members_export)
    add_office_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # `station central` arrives with logging set up for the terminal or journald already;
    # basicConfig is then a no-op and only the level follows -v.
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.verbose:
        logging.getLogger().setLevel(logging.DEBUG)
    if args.command in OFFICE_COMMANDS:
        return run_office_command(args)  # over HTTP to a running central: no database
    station = getattr(args, "station", None)
    if isinstance(station, str) and not _valid_station(station):
        _say(f"error: station id '{station}' must be 1-64 letters, digits, '_' or '-'")
        return 2
    try:
        storage = open_storage(args.db)
    except StorageError as exc:
        _say(f"error: {exc}")
        return 1
    try:
        return int(args.func(args, storage))
    except (StationExists, UnknownStation, BundleError, StorageError) as exc:
        _say(f"error: {exc}")
        return 1
    finally:
        storage.close()


def _valid_station(station: str) -> bool:
    return re.fullmatch(STATION_ID, station) is not None


if __name__ == "__main__":
    raise SystemExit(main())
