"""Staff accounts and their short login sessions.

Staff log in at the maintenance screen with a staff number and PIN; the session token they get
acts as a `staff` bearer token until 2 minutes pass without a request. The first account of a
new station is made with `station staff add` (see `add_staff`), without any central server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from station.people.config import PeopleConfig
from station.people.credentials import Holder, PinAccounts, PinTable
from station.people.pins import PinHasher, check_new_pin
from station.people.sessions import Session
from station.refusals import Refusal, invalid, invalid_state
from station.store import Store, Tx, record

_STAFF_NO = re.compile(r"^[A-Za-z0-9_-]{1,16}$")

STAFF_PINS = PinTable("staff", "staff_no", "staff number or PIN")


@dataclass(frozen=True, slots=True)
class StaffMember:
    staff_no: str
    name: str
    active: bool
    role: str = "staff"
    """`staff` or `admin`, as the central office's bundle says (station-made accounts: staff)."""

    @property
    def actor(self) -> str:
        return f"staff:{self.staff_no}"

    @classmethod
    def from_row(cls, row: Any) -> StaffMember:
        return record(cls, row, active=bool(row["active"]))


def check_staff_no(staff_no: str) -> None:
    if not _STAFF_NO.fullmatch(staff_no or ""):
        raise invalid("staff_no", "a staff number is 1 to 16 letters, digits, - or _")


def _insert_staff(tx: Tx, staff_no: str, name: str, pin_hash: str, actor: str, role: str) -> bool:
    exists = tx.conn.execute("SELECT 1 FROM staff WHERE staff_no = ?", (staff_no,)).fetchone()
    if exists:
        return False
    now = tx.now()
    tx.conn.execute(
        "INSERT INTO staff (staff_no, name, pin_hash, active, role, created_at, updated_at)"
        " VALUES (?, ?, ?, 1, ?, ?, ?)",
        (staff_no, name, pin_hash, role, now, now),
    )
    tx.append(
        "staff_added", actor=actor, payload={"staff_no": staff_no, "name": name, "role": role}
    )
    return True


def may_add_staff(role: str) -> bool:
    """What a role decides at the maintenance screen: only an `admin` adds staff accounts.
    Everything else (doors, alarms, lockers, members) is the same for `staff` and `admin`,
    so a restocker given `staff` by the office cannot make accounts for others."""
    return role == "admin"


def _check_new_staff(staff_no: str, name: str, pin: str) -> str:
    """The name to store, after refusing a bad staff number, an empty name or a weak PIN."""
    check_staff_no(staff_no)
    if not name.strip():
        raise invalid("name", "give the staff member's name")
    check_new_pin(pin)
    return name.strip()


def _added(added: bool, staff_no: str, name: str, role: str) -> StaffMember:
    if not added:
        raise Refusal("conflict", "already_registered", f"staff number {staff_no} already exists")
    return StaffMember(staff_no=staff_no, name=name, active=True, role=role)


def add_staff(
    store: Store, staff_no: str, name: str, pin: str, hasher: PinHasher | None = None
) -> StaffMember:
    """Create a staff account from the command line (no event loop, no central server).

    Raises Refusal (invalid or already there) with a message for the person at the terminal.
    """
    name = _check_new_staff(staff_no, name, pin)
    pin_hash = (hasher or PinHasher()).hash_sync(pin)
    # The technician at the terminal (root on the Pi) makes the first account: an admin.
    added = store.write_now(lambda tx: _insert_staff(tx, staff_no, name, pin_hash, "cli", "admin"))
    return _added(added, staff_no, name, "admin")


class StaffService(PinAccounts):
    def _idle_s(self, cfg: PeopleConfig) -> float:
        return cfg.staff_idle_s

    def _max_age_s(self, cfg: PeopleConfig) -> float:
        return cfg.staff_session_max_s

    async def add(
        self, staff_no: str, name: str, pin: str, actor: str, role: str = "staff"
    ) -> StaffMember:
        name = _check_new_staff(staff_no, name, pin)
        pin_hash = await self._hasher.hash(pin)
        added = await self._store.write(
            lambda tx: _insert_staff(tx, staff_no, name, pin_hash, actor, role)
        )
        return _added(added, staff_no, name, role)

    async def unlock(self, staff_no: str, reason: str, actor: str) -> None:
        """End a staff number's PIN lockout (the office's `lift_lockout`). Staff numbers are
        locked whether or not they exist, so this does not say whether one does."""
        check_staff_no(staff_no)
        subject = f"staff:{staff_no}"
        released = await self._store.write(
            lambda tx: self._lockout.release(tx, subject, subject, actor, reason)
        )
        if not released:
            raise invalid_state(f"staff {staff_no} is not locked out")

    async def login(self, staff_no: str, pin: str, via: str) -> tuple[str, StaffMember]:
        """Check staff number and PIN; a session token, or a refusal (unknown = wrong PIN)."""
        check_staff_no(staff_no)
        subject = f"staff:{staff_no}"

        async def load() -> Holder[StaffMember] | None:
            rows = await self._store.aquery(
                "SELECT * FROM staff WHERE staff_no = ? AND active = 1", (staff_no,)
            )
            return (
                Holder(rows[0]["pin_hash"], staff_no, StaffMember.from_row(rows[0]))
                if rows
                else None
            )

        def succeeded(tx: Tx, staff: StaffMember) -> None:
            tx.append("staff_login", actor=staff.actor, payload={"via": via})

        staff = await self._pins.check(STAFF_PINS, subject, subject, via, pin, load, succeeded)
        token, _ = self.sessions.create(staff.staff_no, staff.actor, staff=staff)
        return token, staff

    def _still_active(self, session: Session) -> bool:
        rows = self._store.query(
            "SELECT 1 FROM staff WHERE staff_no = ? AND active = 1", (session.subject,)
        )
        return bool(rows)

    async def logout(self, token: str) -> bool:
        session = self.sessions.end(token)
        if session is None:
            return False
        await self._store.write(
            lambda tx: tx.append("staff_logout", actor=session.label, payload={})
        )
        return True

    async def expire_sessions(self) -> int:
        """End idle sessions and log each end, so the log shows when staff stopped acting."""
        gone = self.sessions.expire()
        if gone:

            def write(tx: Tx) -> None:
                for s in gone:
                    tx.append(
                        "staff_session_expired",
                        actor="system",
                        payload={"staff": s.label, "idle_s": self.sessions.idle_s},
                    )

            await self._store.write(write)
        return len(gone)

    async def list(self) -> list[StaffMember]:
        rows = await self._store.aquery("SELECT * FROM staff ORDER BY staff_no")
        return [StaffMember.from_row(r) for r in rows]
