"""Versioned schema migrations, one list per component.

Each concern (core, lending, occupancy, sync, ...) owns its tables and registers its own
numbered steps; the store records the version each component has reached. Components added
later never renumber each other's steps.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Step = str | Callable[[sqlite3.Connection], None]


@dataclass(frozen=True)
class Schema:
    component: str
    steps: Sequence[Step]
    """Step N (1-based) takes the component from version N-1 to N. Never edit a shipped step."""

    @property
    def version(self) -> int:
        return len(self.steps)


def migrate(conn: sqlite3.Connection, schemas: Sequence[Schema]) -> dict[str, int]:
    """Bring every component up to date, each step in its own transaction."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_versions ("
        " component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )
    reached: dict[str, int] = {}
    for schema in schemas:
        row = conn.execute(
            "SELECT version FROM schema_versions WHERE component = ?", (schema.component,)
        ).fetchone()
        current = row[0] if row else 0
        if current > schema.version:
            raise RuntimeError(
                f"database has {schema.component} schema v{current}, this software knows only "
                f"v{schema.version}: it was written by a newer release; upgrade the software"
            )
        for number in range(current + 1, schema.version + 1):
            step = schema.steps[number - 1]
            with conn:
                if callable(step):
                    step(conn)
                else:
                    for statement in _statements(step):
                        conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_versions(component, version) VALUES (?, ?)"
                    " ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                    (schema.component, number),
                )
        reached[schema.component] = schema.version
    return reached


def _statements(script: str) -> list[str]:
    """Split a migration script at semicolons that end complete statements (triggers included)."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
