"""Sealing a member's contact at rest: Fernet (AES-128-CBC with HMAC-SHA256, from the
`cryptography` package), so the database alone, a backup or a dump never shows it."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from central.reminders.config import RemindersConfig


class ContactSeal:
    def __init__(self, config: RemindersConfig) -> None:
        self._fernet = Fernet(config.contact_key.get_secret_value().encode())

    def seal(self, contact: str) -> str:
        return self._fernet.encrypt(contact.encode()).decode()

    def open(self, sealed: str) -> str | None:
        """The contact, or None when it was sealed with another key (then it cannot be used
        and the reminder is dropped, saying why)."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None
