"""Build a bundle from the office's TOML/JSON files and check it before anything is published."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wire.bundle import Bundle, BundleError, canonical_json, parse_bundle, sha256_hex

SECTIONS = ("tools", "members", "staff", "notices", "settings")


def load_bundle_files(paths: Sequence[str | Path]) -> Bundle:
    """Merge the files' sections into one validated bundle.

    A file holds a table/object with any of the sections, or (JSON only) a bare list named by
    its file stem, e.g. members.json = [...]. A section given by two files is an error, not a
    silent overwrite.
    """
    merged: dict[str, Any] = {}
    origin: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw)
        data = _read(path)
        if isinstance(data, list):
            if path.stem not in SECTIONS:
                raise BundleError(
                    f"{path}: a bare list must be in a file named after its section "
                    f"({', '.join(s + '.json' for s in SECTIONS[:4])})"
                )
            data = {path.stem: data}
        if not isinstance(data, dict):
            raise BundleError(f"{path}: expected a table of sections, got {type(data).__name__}")
        for key, value in data.items():
            if key not in SECTIONS and key != "format":
                raise BundleError(f"{path}: unknown section '{key}'; known: {', '.join(SECTIONS)}")
            if key in merged and key != "format":
                raise BundleError(f"{path}: section '{key}' was already given by {origin[key]}")
            merged[key] = value
            origin[key] = path
    try:
        return parse_bundle(merged)
    except BundleError as exc:
        names = ", ".join(str(p) for p in paths)
        raise BundleError(f"{names}: {exc}") from None


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: cannot read: {exc}") from None
    try:
        if path.suffix.lower() == ".toml":
            return tomllib.loads(text)
        return json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, RecursionError) as exc:
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise BundleError(f"{path}: not valid {kind}: {why}") from None


def bundle_body(bundle: Bundle) -> tuple[str, str]:
    """The text central stores and serves for a bundle, and its sha256."""
    body = canonical_json(bundle)
    return body, sha256_hex(body)
