"""What the store raises: a database that cannot do what was asked, a full disk, a damaged file."""

from __future__ import annotations


class StoreError(Exception):
    """The database could not do what was asked; the message says what and what to do."""


class StoreFull(StoreError):
    """The disk is full: nothing was written, and the caller's action did not happen."""


class StoreDamaged(StoreError):
    """The database file is damaged or lost its newest data; the message says how to restore."""
