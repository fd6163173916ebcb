"""Reminders to members: contacts given at the office, reminders folded from the log, and
sending through the reminder channel (one of the alert channels, addressed to the member).

Nothing here logs a contact or a channel URL with one in it; failures are logged with the
reminder's id and kind only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from central.alerts.notifier import Sender, apprise_send
from central.reminders.config import RemindersConfig
from central.reminders.seal import ContactSeal
from central.settings import CentralSettings
from central.storage.base import MemberReminder, Storage
from wire.identity import national_number, phone_hash

log = logging.getLogger("central.reminders")


class ContactRefused(ValueError):
    """The phone number or contact given cannot be used; the message never repeats them."""


def member_label(hash_hex: str, last4: str) -> str:
    """How the usage log names a member (station/people/phone.py's `label`, which the
    contract test in tests/central/test_reminders.py holds this to)."""
    return f"member:{hash_hex[:8]}/{last4}"


class Reminders:
    def __init__(
        self,
        storage: Storage,
        settings: CentralSettings,
        clock: Callable[[], float],
        sender: Sender = apprise_send,
    ) -> None:
        assert settings.reminders is not None
        self.config: RemindersConfig = settings.reminders
        self.storage = storage
        self.settings = settings
        self.clock = clock
        self.sender = sender
        self._seal = ContactSeal(self.config)
        self._url = settings.alerts.channels[self.config.channel].url
        self._tz = ZoneInfo(settings.timezone)

    # --- contacts ---------------------------------------------------------------------------

    def member_of(self, phone: str) -> str:
        national = national_number(phone)
        if national is None:
            raise ContactRefused(
                "the member's phone number is not a mainland China mobile number: "
                "give the 11 digits starting with 13 to 19"
            )
        key = self.config.phone_hash_key.get_secret_value()
        return member_label(phone_hash(key, national), national[-4:])

    def add_contact(self, phone: str, contact: str) -> str:
        """Keep the member's contact, sealed; returns the member's label."""
        member = self.member_of(phone)
        contact = contact.strip()
        if not contact or len(contact) > 254 or any(ord(c) < 32 for c in contact):
            raise ContactRefused("the contact is empty, too long or holds control characters")
        if self._url.startswith("mailto") and "@" not in contact:
            raise ContactRefused("reminders go by e-mail: the contact must be an e-mail address")
        self.storage.put_contact(member, self._seal.seal(contact), self.clock())
        return member

    def delete_contact(self, member: str) -> bool:
        return self.storage.delete_contact(member)

    # --- as batches arrive and on each pass ------------------------------------------------

    def ingested(self, station: str) -> None:
        c = self.config
        try:
            while (
                self.storage.fold_reminders(station, c.remind_before_s, c.overdue_after_s) == 50_000
            ):
                pass
        except Exception:
            log.exception("station %s: folding reminders failed; retried next batch", station)

    def send_due(self, now: float) -> int:
        sent = 0
        names: dict[str, str] | None = None
        for r in self.storage.due_reminders(now):
            if r.sealed is None:
                self.storage.reminder_done(r.id, now, "no contact held")
                continue
            contact = self._seal.open(r.sealed)
            if contact is None:
                self.storage.reminder_done(r.id, now, "contact sealed with another key")
                continue
            if names is None:
                names = {s.id: s.name for s in self.storage.stations()}
            title, body = self.compose(r, names.get(r.station, r.station))
            try:
                self.sender(self._addressed(contact), title, body, 10.0)
            except Exception:
                delay = min(3600.0, self.config.retry_after_s * 2**r.attempts)
                log.warning("reminder %s (%s) not sent; retry in %.0f s", r.id, r.kind, delay)
                self.storage.reminder_failed(r.id, now + delay)
                continue
            self.storage.reminder_done(r.id, now)
            sent += 1
        return sent

    def _addressed(self, contact: str) -> str:
        """The reminder channel's URL addressed to one member."""
        sep = "&" if "?" in self._url else "?"
        if self._url.startswith("mailto"):
            return f"{self._url}{sep}to={quote(contact, safe='@')}"
        return f"{self._url}{sep}:{self.config.contact_field}={quote(contact, safe='')}"

    def compose(self, r: MemberReminder, station: str) -> tuple[str, str]:
        f = r.facts
        if r.kind == "claim_approved":
            until = self._local(f.get("until"))
            return (
                "共享益站 失物可领取 Your item is ready",
                f"您认领的失物 {f.get('number')} 已通过审核，请于 {until} 前到{station} "
                f"{f.get('locker')} 号柜，凭工作人员给您的取件码领取。\n"
                f"Your claim for found item {f.get('number')} is approved: collect it from "
                f"locker {f.get('locker')} at {station} before {until}, with the code staff "
                "gave you.",
            )
        tool, due = f.get("tool_id"), self._local(f.get("due_at"))
        if r.kind == "due_soon":
            return (
                "共享益站 借用提醒 Loan due soon",
                f"您借用的工具 {tool} 将于 {due} 到期，请按时归还到{station}。\n"
                f"The tool {tool} you borrowed at {station} is due {due}: please return it on "
                "time.",
            )
        return (
            "共享益站 逾期提醒 Loan overdue",
            f"您借用的工具 {tool} 已于 {due} 到期，请尽快归还到{station}。\n"
            f"The tool {tool} you borrowed at {station} was due {due}: please return it soon.",
        )

    def _local(self, t: object) -> str:
        if not isinstance(t, int | float):
            return "?"
        return datetime.fromtimestamp(t, self._tz).strftime("%Y-%m-%d %H:%M")
