"""Lending's tables: the tool catalogue, loans, and staff approvals for risky tools."""

from __future__ import annotations

from station.store import Schema

LENDING_SCHEMA = Schema(
    "lending",
    [
        """
        CREATE TABLE tools (
            id TEXT PRIMARY KEY,
            name_zh TEXT NOT NULL,
            name_en TEXT NOT NULL,
            category TEXT NOT NULL,
            condition TEXT NOT NULL DEFAULT 'good',
            accessories TEXT NOT NULL DEFAULT '[]',
            safety_notice TEXT NOT NULL DEFAULT '',
            loan_period INTEGER NOT NULL,
            loan_unit TEXT NOT NULL CHECK (loan_unit IN ('hours', 'days')),
            staff_approval_required INTEGER NOT NULL DEFAULT 0,
            locker TEXT,
            status TEXT NOT NULL CHECK (status IN
                ('available', 'on_loan', 'reserved', 'maintenance', 'missing', 'retired')),
            status_reason TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE UNIQUE INDEX tools_one_per_locker ON tools(locker)
            WHERE locker IS NOT NULL AND status != 'retired';

        CREATE TABLE loans (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tool_id TEXT NOT NULL REFERENCES tools(id),
            member_id TEXT NOT NULL,
            member_label TEXT NOT NULL,
            member_masked TEXT NOT NULL,
            locker TEXT NOT NULL,
            started_at REAL NOT NULL,
            due_at REAL NOT NULL,
            returned_at REAL,
            returned_by TEXT,
            return_condition TEXT,
            return_note TEXT,
            overdue_logged INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX loans_open_member ON loans(member_id) WHERE returned_at IS NULL;
        CREATE UNIQUE INDEX loans_open_tool ON loans(tool_id) WHERE returned_at IS NULL;

        CREATE TABLE tool_approvals (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tool_id TEXT NOT NULL REFERENCES tools(id),
            member_id TEXT NOT NULL,
            member_label TEXT NOT NULL,
            approved_by TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            used_at REAL
        );
        """,
        # Who holds a reservation, so the loan limit counts reserved and started loans
        # together; and whether a return was made by the borrower.
        """
        ALTER TABLE tools ADD COLUMN reserved_by TEXT;
        ALTER TABLE loans ADD COLUMN return_verified INTEGER;
        """,
    ],
)
