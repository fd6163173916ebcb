"""The central office's tool catalogue, taken from its downlink bundle.

Central may add tools, rename them, change their loan period, give a tool a locker, and change
a status where nothing has to move: `maintenance` or `retired` for a tool that is not lent or
reserved, `available` again for one staff had stocked. What needs hands at the station is
refused item by item, with the reason, and listed in `bundle_applied`: moving a stocked tool
to another locker, a locker that is not a tool locker here or holds another tool, a status
change during a loan. A new tool starts as "maintenance: new, not yet stocked", as one added
at the station does, until staff put it in its locker. Tools central does not list are left
alone: the catalogue made at the station stays the station's.
"""

from __future__ import annotations

from typing import Any

from station.doors.lockers import LockerService
from station.refusals import Refusal
from station.services.lending.service import check_tool_locker
from station.store import Tx
from wire.bundle import Bundle, BundleTool

NEW_TOOL_REASON = "new: not yet stocked"
_BUSY = ("on_loan", "reserved")


def tools_applier(lockers: LockerService) -> Any:
    """A bundle applier (sync's `bundle_appliers`) for the catalogue of this station."""

    def apply_tools(tx: Tx, bundle: Bundle, version: int) -> dict[str, Any]:
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        refused: list[dict[str, str]] = []
        for tool in bundle.tools:
            try:
                counts[_apply_tool(tx, lockers, tool)] += 1
            except _Refused as exc:
                refused.append({"section": "tools", "id": tool.id, "reason": str(exc)})
            except Refusal as exc:
                refused.append({"section": "tools", "id": tool.id, "reason": exc.message})
        if counts["added"] or counts["updated"] or refused:
            tx.append(
                "tools_from_central",
                actor="sync",
                payload={"version": version, **counts, "refused": len(refused)},
            )
        return {"applied": {"tools": counts}, "refused": refused}

    return apply_tools


class _Refused(Exception):
    pass


def _apply_tool(tx: Tx, lockers: LockerService, t: BundleTool) -> str:
    row = tx.conn.execute(
        "SELECT name_zh, name_en, category, loan_period, loan_unit, locker, status, status_reason"
        " FROM tools WHERE id = ?",
        (t.id,),
    ).fetchone()
    if t.locker is not None:
        check_tool_locker(tx, lockers, t.locker, t.id)
    now = tx.now()
    if row is None:
        status, reason = "maintenance", NEW_TOOL_REASON
        if t.status == "retired":
            status, reason = "retired", "retired by the central office"
        tx.conn.execute(
            "INSERT INTO tools (id, name_zh, name_en, category, loan_period, loan_unit, locker,"
            " status, status_reason, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, 'days', ?, ?, ?, ?, ?)",
            (t.id, t.name, t.name_en, t.category, t.loan_days, t.locker, status, reason, now, now),
        )
        return "added"
    locker = row["locker"]
    if t.locker is not None and t.locker != locker:
        if locker is not None and row["status"] not in ("on_loan", "retired"):
            raise _Refused(
                f"moving tool {t.id} from locker {locker} to {t.locker} needs staff at the "
                "station (the tool is in its locker)"
            )
        locker = t.locker
    status, reason = row["status"], row["status_reason"]
    if t.status is not None and t.status != status:
        if status in _BUSY:
            raise _Refused(f"tool {t.id} is {status}: its status changes when it comes back")
        if t.status == "available" and reason == NEW_TOOL_REASON:
            raise _Refused(f"tool {t.id} is not stocked yet: staff make it available")
        status = t.status
        reason = None if status == "available" else f"{status} by the central office"
    new = (t.name, t.name_en, t.category, t.loan_days, "days", locker, status, reason)
    if tuple(row) == new:
        return "unchanged"
    tx.conn.execute(
        "UPDATE tools SET name_zh = ?, name_en = ?, category = ?, loan_period = ?,"
        " loan_unit = ?, locker = ?, status = ?, status_reason = ?, updated_at = ? WHERE id = ?",
        (*new, now, t.id),
    )
    return "updated"
