"""Which reminders the usage log calls for: a pure function of a station's events.

A loan (`loan_started`, its borrower the event's actor) calls for "due tomorrow" before its
due time and "overdue" after it; its return (`tool_returned`) cancels both. An approved claim
waiting in a locker (`claim_approved` with a code) calls for "collect it" at once. Only members
(actors named `member:...`) are reminded; whether one opted in is asked when the reminder is
due, so a contact given later still covers loans already out, and one deleted stops them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Planned:
    member: str
    kind: str
    ref: str
    due_at: float
    facts: dict[str, Any]


@dataclass
class Plan:
    add: list[Planned] = field(default_factory=list)
    cancel: list[tuple[str, str]] = field(default_factory=list)
    """(kind, ref) of reminders no longer owed."""


PLAN_TYPES = ("loan_started", "tool_returned", "claim_approved")


def plan(rows: list[dict[str, Any]], remind_before_s: float, overdue_after_s: float) -> Plan:
    out = Plan()
    for row in rows:
        p = row["payload"]
        if isinstance(p, str):
            p = json.loads(p)
        kind, when = row["type"], float(row["time"])
        shift = when - float(row["ts"])  # the station's clock to central's
        if kind == "loan_started" and str(row["actor"]).startswith("member:"):
            try:
                due = float(p["due_at"]) + shift
            except (KeyError, TypeError, ValueError):
                continue
            ref = str(p.get("loan_id", ""))
            facts = {"tool_id": str(p.get("tool_id", "")), "due_at": due}
            out.add.append(Planned(row["actor"], "due_soon", ref, due - remind_before_s, facts))
            out.add.append(Planned(row["actor"], "overdue", ref, due + overdue_after_s, facts))
        elif kind == "tool_returned":
            ref = str(p.get("loan_id", ""))
            out.cancel += [("due_soon", ref), ("overdue", ref)]
        elif kind == "claim_approved" and "code_expires_at" in p:
            claimant = str(p.get("claimant", ""))
            if not claimant.startswith("member:"):
                continue
            try:
                until = float(p["code_expires_at"]) + shift
            except (TypeError, ValueError):
                continue
            facts = {"locker": row.get("locker") or "", "number": p.get("number"), "until": until}
            out.add.append(Planned(claimant, "claim_approved", str(p.get("claim_id")), when, facts))
    return out
