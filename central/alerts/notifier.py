"""Sends the office's alert messages through Apprise, channel by channel.

One pass (`tick`) raises and clears central's own "station offline" alarms, queues reminders
for alarms nobody acknowledged, and sends every message whose time has come. Each channel is
sent to on its own worker, in the order its messages were queued, so a channel that is down
or slow holds back only its own messages: they are tried again after `retry_after_s`,
doubling up to `retry_max_s`, and are never dropped. Messages held by quiet hours wait for
the span's end. The server runs `tick` every `tick_s` on a thread; tests call it directly.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from central.alerts.config import AlertsConfig, parse_span, quiet_apprise
from central.alerts.messages import compose
from central.settings import CentralSettings
from central.storage.base import AlertMessage, Storage

log = logging.getLogger("central.alerts")


class Sender(Protocol):
    def __call__(self, url: str, title: str, body: str, timeout_s: float) -> None:
        """Deliver or raise an exception saying why not."""


def apprise_send(url: str, title: str, body: str, timeout_s: float) -> None:
    """One message to one Apprise URL; raises when the service did not take it."""
    import apprise

    quiet_apprise()
    box = apprise.Apprise()
    asset_url = url + ("&" if "?" in url else "?") + f"cto={timeout_s:g}&rto={timeout_s:g}"
    if not box.add(asset_url):
        raise RuntimeError("the channel's url is not an Apprise URL")
    if not box.notify(body=body, title=title):
        raise RuntimeError("the channel did not accept the message (see central.alerts log)")


class Notifier:
    def __init__(
        self,
        storage: Storage,
        settings: CentralSettings,
        clock: Callable[[], float],
        sender: Sender = apprise_send,
        reminders: Any = None,
    ) -> None:
        self.storage = storage
        self.reminders = reminders
        """central/reminders/service.py's Reminders, sent on the same pass (or None)."""
        self.settings = settings
        self.config: AlertsConfig = settings.alerts
        self.clock = clock
        self.sender = sender
        self._tz = ZoneInfo(settings.timezone)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.config.routes)

    @property
    def running(self) -> bool:
        """Whether passes are needed at all: alert routes or member reminders."""
        return self.enabled or self.reminders is not None

    # --- as batches arrive -------------------------------------------------------------------

    def ingested(self, station: str) -> None:
        """Fold the station's new alarm events into alerts (queueing their messages)."""
        if not self.enabled:
            return
        try:
            while self.storage.fold_alerts(station, self.config.plan, self.clock()) == 50_000:
                pass
        except Exception:
            log.exception("station %s: folding alarms failed; retried next batch", station)

    # --- one pass ----------------------------------------------------------------------------

    def tick(self) -> int:
        """Offline checks, reminders, then sending; returns how many messages went out
        (alerts and members' reminders)."""
        with self._lock:
            now = self.clock()
            sent = 0
            if self.enabled:
                self._offline(now)
                self.storage.queue_reminders(
                    now, self.config.remind_after_s, self.config.max_reminders
                )
                sent += self._send_due(now)
            if self.reminders is not None:
                sent += self.reminders.send_due(now)
            return sent

    def _offline(self, now: float) -> None:
        for record in self.storage.stations():
            if record.last_seen is None:
                continue
            silent = now - record.last_seen
            if silent > self.settings.offline_after_s:
                detail = f"not heard from for {silent / 60:.0f} min"
                self.storage.raise_central_alert(
                    record.id, "station_offline", record.id, detail, self.config.plan, now
                )
            else:
                self.storage.clear_central_alert(record.id, "station_offline", now)

    def _send_due(self, now: float) -> int:
        by_channel: dict[str, list[AlertMessage]] = defaultdict(list)
        for m in self.storage.due_messages(now):
            by_channel[m.channel].append(m)
        if not by_channel:
            return 0
        names = {r.id: r.name for r in self.storage.stations()}
        with ThreadPoolExecutor(max_workers=len(by_channel)) as pool:
            counts = pool.map(
                lambda item: self._send_channel(item[0], item[1], names, now), by_channel.items()
            )
            return sum(counts)

    def _send_channel(
        self, channel: str, messages: list[AlertMessage], names: dict[str, str], now: float
    ) -> int:
        config = self.config.channels.get(channel)
        sent = 0
        for m in messages:
            if config is None:
                self.storage.message_done(m.id, now, "not sent: channel no longer configured")
                continue
            if m.kind == "reminder" and (m.alert.acked_at or m.alert.cleared_at):
                self.storage.message_done(m.id, now, "not sent: acknowledged or cleared")
                continue
            if m.quiet:
                span = parse_span(m.quiet)
                local = datetime.fromtimestamp(now, self._tz)
                if span.holds(local):
                    self.storage.message_postponed(m.id, self._quiet_end(local, span.end))
                    continue
            title, body = compose(m, names.get(m.alert.station, ""), self.settings.timezone)
            try:
                self.sender(config.url, title, body, self.config.send_timeout_s)
            except Exception as exc:
                delay = min(self.config.retry_max_s, self.config.retry_after_s * 2**m.attempts)
                log.warning(
                    "channel %s: message %s about alert %s not sent (%s); retry in %.0f s",
                    channel,
                    m.id,
                    m.alert.id,
                    exc,
                    delay,
                )
                self.storage.message_failed(m.id, now + delay, str(exc))
                break  # keep this channel's order: later messages wait for this one
            self.storage.message_done(m.id, now)
            sent += 1
        return sent

    def _quiet_end(self, local: datetime, end: time) -> float:
        ending = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
        if ending <= local:
            ending += timedelta(days=1)
        return ending.timestamp()

    # --- in the server -----------------------------------------------------------------------

    def start(self) -> None:
        """Run `tick` every tick_s on a daemon thread (the server's lifetime)."""
        if not self.running or self._thread is not None:
            return

        def run() -> None:
            while not self._stop.wait(self.config.tick_s):
                try:
                    self.tick()
                except Exception:
                    log.exception("alert pass failed; next pass in %s s", self.config.tick_s)

        self._thread = threading.Thread(target=run, name="central-alerts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
