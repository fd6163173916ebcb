"""Members and staff the central office manages, taken from its downlink bundle.

Central is the authority for the accounts it lists: they are created or brought up to date
here, and the ones it made and no longer lists are switched off (members suspended, staff
deactivated), never deleted, so loans and the usage log still name them. Accounts made at
this station (`station staff add`, staff registering a member at the counter) are left alone
unless central takes them over by listing the same phone hash or staff number.

Runs inside the bundle's transaction (a `bundle_appliers` entry), so a bundle is applied whole
or not at all. Only counts reach the usage log: a phone hash never does.
"""

from __future__ import annotations

from typing import Any

from station.store import Tx
from wire.bundle import Bundle, BundleMember, BundleStaff
from wire.identity import card_label


def apply_people(tx: Tx, bundle: Bundle, version: int) -> dict[str, Any]:
    """Upsert the bundle's members and staff; switch off central's accounts it dropped."""
    members = _apply_members(tx, bundle.members)
    staff = _apply_staff(tx, bundle.staff)
    if any(members.values()) or any(staff.values()):
        tx.append(
            "people_from_central",
            actor="sync",
            payload={"version": version, "members": members, "staff": staff},
        )
    return {"applied": {"members": members, "staff": staff}, "refused": []}


def _apply_members(tx: Tx, members: list[BundleMember]) -> dict[str, int]:
    counts = {"added": 0, "updated": 0, "suspended": 0}
    listed: set[str] = set()
    for m in members:
        listed.add(m.phone_hash)
        status = "active" if m.active else "suspended"
        row = tx.conn.execute(
            "SELECT pin_hash, status, source, last4, pin_state, max_loans FROM members"
            " WHERE id = ?",
            (m.phone_hash,),
        ).fetchone()
        pin_hash, pin_state = _central_pin(m, row)
        if row is None:
            # Central sends no first digits: these members show as *******1234.
            tx.conn.execute(
                "INSERT INTO members (id, prefix3, last4, kind, pin_hash, status, source,"
                " created_at, updated_at, pin_state, max_loans)"
                " VALUES (?, '***', ?, 'resident', ?, ?, 'central', ?, ?, ?, ?)",
                (
                    m.phone_hash,
                    m.phone_last4,
                    pin_hash,
                    status,
                    tx.now(),
                    tx.now(),
                    pin_state,
                    m.max_loans,
                ),
            )
            counts["added"] += 1
        elif tuple(row) != (pin_hash, status, "central", m.phone_last4, pin_state, m.max_loans):
            tx.conn.execute(
                "UPDATE members SET pin_hash = ?, status = ?, source = 'central', last4 = ?,"
                " pin_state = ?, max_loans = ?, updated_at = ? WHERE id = ?",
                (pin_hash, status, m.phone_last4, pin_state, m.max_loans, tx.now(), m.phone_hash),
            )
            counts["updated" if m.active or row["status"] != "active" else "suspended"] += 1
        _apply_cards(tx, m)
    counts["suspended"] += _switch_off(tx, "members", "id", "status = 'suspended'", listed)
    return counts


def _central_pin(m: BundleMember, row: Any) -> tuple[str, str]:
    """The PIN hash and state to keep. A member who already chose their own PIN here keeps it
    while central only offers a first PIN or none (central cannot know the new one); a PIN
    central sets outright (a reset at the office) replaces it."""
    own = row is not None and row["pin_state"] == "set" and row["pin_hash"]
    if m.pin_hash is None or m.must_change_pin:
        if own:
            return row["pin_hash"], "set"
        if m.pin_hash is None:
            return "", "unset"
        return m.pin_hash, "must_change"
    return m.pin_hash, "set"


def _apply_cards(tx: Tx, m: BundleMember) -> None:
    """Central's cards of this member are exactly the listed ones; cards bound at the station
    stay. A listed card bound here to somebody else stays theirs (the office is told by the
    log's card_conflict event)."""
    tx.conn.execute(
        "DELETE FROM cards WHERE source = 'central' AND owner_kind = 'member' AND owner = ?",
        (m.phone_hash,),
    )
    for card in m.card_hashes:
        row = tx.conn.execute(
            "SELECT owner_kind, owner FROM cards WHERE hash = ?", (card,)
        ).fetchone()
        if row is None:
            tx.conn.execute(
                "INSERT INTO cards (hash, owner_kind, owner, source, created_at)"
                " VALUES (?, 'member', ?, 'central', ?)",
                (card, m.phone_hash, tx.now()),
            )
        elif (row[0], row[1]) != ("member", m.phone_hash):
            tx.append(
                "card_conflict",
                actor="sync",
                payload={"member": m.id, "card": card_label(card)},
            )


def _apply_staff(tx: Tx, staff: list[BundleStaff]) -> dict[str, int]:
    counts = {"added": 0, "updated": 0, "deactivated": 0}
    listed: set[str] = set()
    for s in staff:
        listed.add(s.staff_no)
        row = tx.conn.execute(
            "SELECT name, pin_hash, active, source, role FROM staff WHERE staff_no = ?",
            (s.staff_no,),
        ).fetchone()
        if row is None:
            tx.conn.execute(
                "INSERT INTO staff (staff_no, name, pin_hash, active, source, role, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, 'central', ?, ?, ?)",
                (s.staff_no, s.name, s.pin_hash, int(s.active), s.role, tx.now(), tx.now()),
            )
            counts["added"] += 1
        elif tuple(row) != (s.name, s.pin_hash, int(s.active), "central", s.role):
            tx.conn.execute(
                "UPDATE staff SET name = ?, pin_hash = ?, active = ?, source = 'central',"
                " role = ?, updated_at = ? WHERE staff_no = ?",
                (s.name, s.pin_hash, int(s.active), s.role, tx.now(), s.staff_no),
            )
            counts["updated" if s.active or not row["active"] else "deactivated"] += 1
    counts["deactivated"] += _switch_off(tx, "staff", "staff_no", "active = 0", listed)
    return counts


def _switch_off(tx: Tx, table: str, key: str, off: str, listed: set[str]) -> int:
    """Switch off the accounts central made that its bundle no longer lists; how many."""
    on = "status = 'active'" if table == "members" else "active = 1"
    rows = tx.conn.execute(f"SELECT {key} FROM {table} WHERE source = 'central' AND {on}")
    dropped = [r[0] for r in rows.fetchall() if r[0] not in listed]
    for account in dropped:
        tx.conn.execute(
            f"UPDATE {table} SET {off}, updated_at = ? WHERE {key} = ?", (tx.now(), account)
        )
    return len(dropped)
