"""Storage and charging lockers: leave a bag or a phone, take it back with a one-time code.

A member or a walk-in courier asks for a locker; a free `storage` locker of a fitting size
opens; the deposit starts once the door is seen open, and once it is seen closed the station
shows a 6-digit pickup code (valid `storage.code_valid_h`, 5 tries). The code opens the door
and ends the deposit. Deposits whose code ran out are overtime and listed for staff.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from station.doors.lockers import LockerService
from station.people.codes import CodeBook, CodeMatch
from station.people.members import Member
from station.refusals import Refusal, invalid_state, not_found
from station.services.config import StorageConfig
from station.services.flows import ITEM_MISSING, Flow, FlowRunner, unsettled_flows
from station.store import Schema, Store, Tx

STORAGE_SCHEMA = Schema(
    "storage",
    [
        """
        CREATE TABLE deposits (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            locker TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('bag', 'phone_charge')),
            depositor TEXT NOT NULL,        -- member label or the kiosk actor (walk-in)
            depositor_masked TEXT,
            status TEXT NOT NULL CHECK (status IN
                ('open', 'active', 'collected', 'cleared', 'abandoned')),
            started_at REAL NOT NULL,
            code_id INTEGER,
            code_expires_at REAL,
            overtime_logged INTEGER NOT NULL DEFAULT 0,
            closed_at REAL,
            closed_by TEXT,
            note TEXT
        );
        CREATE INDEX deposits_locker ON deposits(locker, status);
        """,
    ],
)

DepositKind = Literal["bag", "phone_charge"]

_SIZES = {"S": 0, "M": 1, "L": 2}
_OCCUPYING = ("open", "active", "abandoned")


def deposit_view(row: Any, now: float) -> dict[str, Any]:
    r = dict(row)
    return {
        "id": r["id"],
        "locker": r["locker"],
        "kind": r["kind"],
        "depositor": r["depositor_masked"] or "walk-in",
        "status": r["status"],
        "started_at": r["started_at"],
        "code_expires_at": r["code_expires_at"],
        "overtime": r["status"] == "active"
        and r["code_expires_at"] is not None
        and r["code_expires_at"] <= now,
        "closed_at": r["closed_at"],
        "note": r["note"],
    }


class StorageService:
    def __init__(
        self,
        store: Store,
        cfg: StorageConfig,
        lockers: LockerService,
        flows: FlowRunner,
        codes: CodeBook,
    ) -> None:
        self._store = store
        self._cfg = cfg
        self._lockers = lockers
        self._flows = flows
        self._codes = codes
        self._storage = {v["id"] for v in lockers.snapshot() if v["purpose"] == "storage"}
        lockers.expect_items(self.expects_item)

    def expects_item(self, tx: Tx, locker: str) -> bool | None:
        """A storage locker holds something exactly while a deposit occupies it."""
        if locker not in self._storage:
            return None
        row = tx.conn.execute(
            "SELECT 1 FROM deposits WHERE locker = ? AND status IN (?, ?, ?) LIMIT 1",
            (locker, *_OCCUPYING),
        ).fetchone()
        return row is not None

    async def _free_locker(self, size: str | None) -> str:
        rows = await self._store.aquery(
            "SELECT DISTINCT locker FROM deposits WHERE status IN (?, ?, ?)", _OCCUPYING
        )
        taken = {r["locker"] for r in rows}
        need = _SIZES[size] if size else 0
        fitting = sorted(
            (
                view
                for view in self._lockers.snapshot()
                if view["purpose"] == "storage"
                and _SIZES.get(view["size"], 1) >= need
                and view["id"] not in taken
                and self._lockers.is_usable(view["id"])
                and not self._flows.busy(view["id"])
            ),
            key=lambda v: (_SIZES.get(v["size"], 1), v["id"]),
        )
        if not fitting:
            raise Refusal(
                "conflict",
                "no_free_locker",
                "no storage locker"
                + (f" of size {size} or larger" if size else "")
                + " is free now; please try again later",
                purpose="storage",
            )
        return fitting[0]["id"]

    async def deposit(
        self,
        kind: DepositKind,
        size: str | None,
        member: Member | None,
        actor: str,
        on_finish: list[Callable[[Flow], None]],
    ) -> Flow:
        locker = await self._free_locker(size)
        what = "your phone to charge" if kind == "phone_charge" else "your things"
        return self._flows.start(
            "deposit",
            locker,
            actor=member.label if member else actor,
            reason=f"deposit ({kind})",
            steps=_DepositSteps(self),
            journal={"kind": kind},
            context={
                "kind": kind,
                "member": member,
                "message_open": f"Door {locker} is open: put {what} in and close the door",
            },
            secret_keys=frozenset({"code"}),
            on_finish=on_finish,
        )

    def _start(self, tx: Tx, flow: Flow) -> int:
        member: Member | None = flow.context["member"]
        masked = member.masked if member else None
        return _insert_deposit(tx, flow.locker, flow.context["kind"], flow.actor, masked, flow.id)

    async def _issue(self, flow: Flow) -> None:
        deposit_id = flow.context["deposit_id"]
        code = await self._codes.prepare()

        def write(tx: Tx) -> float:
            code_id, expires = self._codes.issue(
                tx,
                code,
                purpose="deposit",
                ref=deposit_id,
                locker=flow.locker,
                valid_s=self._cfg.code_valid_h * 3600,
            )
            tx.conn.execute(
                "UPDATE deposits SET status = 'active', code_id = ?, code_expires_at = ?"
                " WHERE id = ?",
                (code_id, expires, deposit_id),
            )
            tx.append(
                "deposit_code_issued",
                actor="system",
                locker=flow.locker,
                payload={"deposit_id": deposit_id, "code_expires_at": expires},
            )
            return expires

        expires = await self._store.write(write)
        flow.result.update(
            {"deposit_id": deposit_id, "code": code.plain, "code_expires_at": expires}
        )
        flow.context["message_completed"] = (
            f"Locker {flow.locker} is closed. Your pickup code is shown on screen: write it down"
        )

    async def _release(self, flow: Flow) -> None:
        """The depositor says nothing went in: no code, the locker is free again."""
        deposit_id = flow.context["deposit_id"]

        def write(tx: Tx) -> None:
            tx.conn.execute(
                "UPDATE deposits SET status = 'cleared', closed_at = ?, closed_by = ?, note = ?"
                " WHERE id = ?",
                (tx.now(), flow.actor, "nothing put in (sensor and depositor agree)", deposit_id),
            )
            tx.append(
                "deposit_released",
                actor=flow.actor,
                locker=flow.locker,
                payload={"deposit_id": deposit_id, "reason": "nothing put in"},
            )

        await self._store.write(write)
        flow.result.update({"deposit_id": deposit_id, "released": True})
        flow.context["message_completed"] = (
            f"Nothing was left in locker {flow.locker}; it is free again. No code is needed"
        )

    def picked_up(self, tx: Tx, match: CodeMatch, actor: str) -> dict[str, Any]:
        now = tx.now()
        tx.conn.execute(
            "UPDATE deposits SET status = 'collected', closed_at = ?, closed_by = ? WHERE id = ?",
            (now, actor, match.ref),
        )
        tx.append(
            "deposit_collected",
            actor=actor,
            locker=match.locker,
            payload={"deposit_id": match.ref},
        )
        return {"kind": "deposit", "ref": match.ref}

    # --- staff ---------------------------------------------------------------------------------

    async def list(self, status: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM deposits", []
        if status:
            sql += " WHERE status = ?"
            params.append(status)
        rows = await self._store.aquery(sql + " ORDER BY id DESC LIMIT 500", params)
        now = self._store.clock.wall()
        return [deposit_view(r, now) for r in rows]

    async def overtime(self) -> list[dict[str, Any]]:
        """Deposits whose pickup code ran out, and those whose door was left open."""
        now = self._store.clock.wall()
        rows = await self._store.aquery(
            "SELECT * FROM deposits WHERE (status = 'active' AND code_expires_at <= ?)"
            " OR status = 'abandoned' ORDER BY started_at",
            (now,),
        )
        return [deposit_view(r, now) for r in rows]

    async def clear(self, deposit_id: int, reason: str, actor: str) -> dict[str, Any]:
        """Staff emptied the locker (after opening it with a reason through the locker API)."""

        def write(tx: Tx) -> Any:
            row = tx.conn.execute("SELECT * FROM deposits WHERE id = ?", (deposit_id,)).fetchone()
            if row is None:
                raise not_found(f"deposit {deposit_id}")
            if row["status"] not in _OCCUPYING:
                raise invalid_state(f"deposit {deposit_id} is already {row['status']}")
            self._codes.revoke(tx, "deposit", deposit_id)
            tx.conn.execute(
                "UPDATE deposits SET status = 'cleared', closed_at = ?, closed_by = ?, note = ?"
                " WHERE id = ?",
                (tx.now(), actor, reason, deposit_id),
            )
            tx.append(
                "deposit_cleared",
                actor=actor,
                locker=row["locker"],
                payload={"deposit_id": deposit_id, "reason": reason},
            )
            return tx.conn.execute("SELECT * FROM deposits WHERE id = ?", (deposit_id,)).fetchone()

        row = await self._store.write(write)
        return deposit_view(row, self._store.clock.wall())

    def sweep(self, tx: Tx) -> int:
        rows = tx.conn.execute(
            "SELECT id, locker FROM deposits WHERE status = 'active' AND code_expires_at <= ?"
            " AND overtime_logged = 0",
            (tx.now(),),
        ).fetchall()
        for r in rows:
            tx.conn.execute("UPDATE deposits SET overtime_logged = 1 WHERE id = ?", (r["id"],))
            tx.append(
                "deposit_overtime",
                actor="system",
                locker=r["locker"],
                payload={"deposit_id": r["id"]},
            )
        return len(rows)

    async def start(self) -> None:
        """Deposits whose door opened but whose flow a restart cut short are for staff: no
        code was issued, so the depositor cannot open the locker, and staff must look in it."""

        def write(tx: Tx) -> None:
            for cut in unsettled_flows(tx, "deposit", ("deposit_started", "deposit_cancelled")):
                if cut.door_opened:
                    _insert_deposit(tx, cut.locker, cut.journal["kind"], cut.actor, None, cut.flow)
                else:
                    tx.append(
                        "deposit_cancelled",
                        actor="system",
                        locker=cut.locker,
                        payload={
                            "kind": cut.journal["kind"],
                            "reason": "station restarted before the door opened",
                            "flow": cut.flow,
                        },
                    )
            rows = tx.conn.execute("SELECT id, locker FROM deposits WHERE status = 'open'")
            for deposit_id, locker in rows.fetchall():
                tx.conn.execute(
                    "UPDATE deposits SET status = 'abandoned', note = ? WHERE id = ?",
                    ("station restarted before a code was issued", deposit_id),
                )
                tx.append(
                    "deposit_abandoned",
                    actor="system",
                    locker=locker,
                    payload={"deposit_id": deposit_id, "reason": "station restarted"},
                )

        await self._store.write(write)


def _insert_deposit(
    tx: Tx, locker: str, kind: str, depositor: str, masked: str | None, flow_id: str
) -> int:
    """A deposit begins: its door has been seen open."""
    cur = tx.conn.execute(
        "INSERT INTO deposits (locker, kind, depositor, depositor_masked, status, started_at)"
        " VALUES (?, ?, ?, ?, 'open', ?)",
        (locker, kind, depositor, masked, tx.now()),
    )
    deposit_id = int(cur.lastrowid or 0)
    tx.append(
        "deposit_started",
        actor=depositor,
        locker=locker,
        payload={"deposit_id": deposit_id, "kind": kind, "flow": flow_id},
    )
    return deposit_id


class _DepositSteps:
    def __init__(self, service: StorageService) -> None:
        self._s = service

    async def opened(self, flow: Flow) -> None:
        flow.context["deposit_id"] = await self._s._store.write(lambda tx: self._s._start(tx, flow))
        flow.result["deposit_id"] = flow.context["deposit_id"]

    async def not_opened(self, flow: Flow, why: str) -> None:
        await self._s._store.write(
            lambda tx: tx.append(
                "deposit_cancelled",
                actor=flow.actor,
                locker=flow.locker,
                payload={"kind": flow.context["kind"], "reason": why, "flow": flow.id},
            )
        )

    async def closed(self, flow: Flow, runner: FlowRunner) -> None:
        if self._s._lockers.item_present(flow.locker) is False:
            # The compartment's sensor sees nothing: ask before a code ties up the locker.
            answer = await runner.ask(flow, ITEM_MISSING, self._s._cfg.answer_wait_s)
            if (answer or {}).get("choice") == "no":
                await self._s._release(flow)
                return
        await self._s._issue(flow)

    async def not_closed(self, flow: Flow) -> None:
        deposit_id = flow.context["deposit_id"]

        def write(tx: Tx) -> None:
            tx.conn.execute(
                "UPDATE deposits SET status = 'abandoned', note = ? WHERE id = ?",
                ("door left open: no code issued", deposit_id),
            )
            tx.append(
                "deposit_abandoned",
                actor="system",
                locker=flow.locker,
                payload={"deposit_id": deposit_id, "reason": "door left open"},
            )

        await self._s._store.write(write)
