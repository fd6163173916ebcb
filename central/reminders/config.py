"""[reminders] in central's settings: the sealing key, the fleet's phone-hash key, and the
alert channel (central/alerts/config.py) that carries reminders to members."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

CONTACT_SCHEMES = ("json://", "jsons://", "mailto://", "mailtos://")
"""Channels that can address one person: a JSON webhook (the office's SMS gateway, the
contact in a payload field) or e-mail (the contact as the recipient)."""


class RemindersConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    contact_key: SecretStr
    """A Fernet key (`python -c "from cryptography.fernet import Fernet;
    print(Fernet.generate_key().decode())"`): contacts are sealed with it at rest."""
    phone_hash_key: SecretStr
    """The fleet's `people.phone_hash_key`, so a member's number given at the office names the
    same member as the stations' usage logs (the number itself is never stored)."""
    channel: str
    """The [alerts.channels] entry reminders go through (json://... or mailto://...)."""
    contact_field: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,32}$")] = "to"
    """For a JSON channel: the payload field that carries the contact."""
    remind_before_s: Annotated[float, Field(gt=0)] = 86_400.0
    """"Due tomorrow" goes out this long before the due time."""
    overdue_after_s: Annotated[float, Field(ge=0)] = 3600.0
    retry_after_s: Annotated[float, Field(gt=0)] = 300.0

    @field_validator("contact_key")
    @classmethod
    def _fernet(cls, value: SecretStr) -> SecretStr:
        try:
            from cryptography.fernet import Fernet
        except ImportError:
            raise ValueError(
                "reminders need the 'cryptography' package on the central server"
            ) from None
        try:
            Fernet(value.get_secret_value().encode())
        except (ValueError, TypeError):
            raise ValueError(
                "contact_key is not a Fernet key (32 url-safe base64 bytes): generate one with "
                "cryptography's Fernet.generate_key()"
            ) from None
        return value
