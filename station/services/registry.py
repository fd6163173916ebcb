"""The resident and staff services, built together from the config by the composition root.

`build_services` is called by station/daemon.py (the one composition root) with the parts it
already built; it wires the services to each other so the daemon needs only a few lines. The
housekeeping loop runs each service's sweep (overdue loans, expired items and codes, lockouts
that ran out, idle staff sessions) every `sweep_s`, each sweep in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from station.alarms import AlarmService
from station.clock import Clock
from station.config import StationConfig
from station.doors.lockers import LockerService
from station.live import LiveHub
from station.people.card_desk import CardDesk
from station.people.codes import CODES_SCHEMA, CodeBook
from station.people.lockout import Lockout
from station.people.members import MemberService
from station.people.pins import PinHasher
from station.people.schema import PEOPLE_SCHEMA
from station.people.staff import StaffService
from station.people.throttle import GuessThrottles
from station.services.deposits.schema import STORAGE_SCHEMA
from station.services.deposits.service import StorageService
from station.services.flows import Flow, FlowRunner
from station.services.lending.schema import LENDING_SCHEMA
from station.services.lending.service import LendingService
from station.services.lostfound.schema import LOSTFOUND_SCHEMA
from station.services.lostfound.service import LostFoundService
from station.services.pickup.service import PickupService
from station.services.supplies.schema import SUPPLIES_SCHEMA
from station.services.supplies.service import SupplyService
from station.store import Schema, Store, Tx

log = logging.getLogger(__name__)

SERVICE_SCHEMAS: Sequence[Schema] = (
    PEOPLE_SCHEMA,
    CODES_SCHEMA,
    LENDING_SCHEMA,
    LOSTFOUND_SCHEMA,
    STORAGE_SCHEMA,
    SUPPLIES_SCHEMA,
)
"""Pass to Store(..., schemas=SERVICE_SCHEMAS) (with any other components' schemas)."""


@dataclass
class Services:
    store: Store
    flows: FlowRunner
    lockout: Lockout
    members: MemberService
    staff: StaffService
    codes: CodeBook
    lending: LendingService
    lostfound: LostFoundService
    storage: StorageService
    pickups: PickupService
    supplies: SupplyService
    throttles: GuessThrottles
    cards: CardDesk
    """The card reader's reads, for the screen waiting for one (people/card_desk.py)."""
    sweep_s: float = 15.0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def start(self) -> None:
        """Repair what a restart cut short, sync supplies with the config, start housekeeping."""
        if not self.members.available:
            log.warning(
                "[people] phone_hash_key is not set: members cannot identify at this station "
                "(member routes answer 503); set the fleet-wide key from the central office"
            )
        await self.lending.start()
        await self.storage.start()
        await self.lostfound.start()
        await self.supplies.start()
        await self.sweep()
        self._task = asyncio.create_task(self._loop(), name="services-housekeeping")
        await self.cards.start()

    async def stop(self) -> None:
        await self.cards.stop()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flows.stop()

    async def sweep(self) -> None:
        """One round of housekeeping; tests call it after moving a fake clock."""

        def write(tx: Tx) -> None:
            self.lockout.sweep(tx)
            self.throttles.sweep(tx)
            self.lending.sweep(tx)
            self.lostfound.sweep(tx)
            self.codes.expire(tx)
            self.storage.sweep(tx)

        await self.store.write(write)
        await self.staff.expire_sessions()
        self.members.sessions.expire()
        self.flows.prune()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_s)
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("services housekeeping failed; will retry")

    def end_member_session_when_done(self, token: str) -> list[Callable[[Flow], None]]:
        """A finish callback ending a member's kiosk session once their flow completed."""

        def done(flow: Flow) -> None:
            if flow.state == "completed":
                self.members.end_session(token)

        return [done]


def build_services(
    config: StationConfig,
    store: Store,
    alarms: AlarmService,
    lockers: LockerService,
    live: LiveHub,
    clock: Clock,
    hasher: PinHasher | None = None,
    reader: Any = None,
) -> Services:
    """`reader`: the card reader's driver (built by the composition root from `[reader]`)."""
    hasher = hasher or PinHasher()
    svc = config.services
    flows = FlowRunner(
        lockers,
        store,
        clock,
        open_window_s=config.timeouts.open_window_s,
        close_wait_s=svc.close_wait_s,
        publish=live.publish,
    )
    lockout = Lockout(config.people, alarms)
    people = config.people
    throttles = GuessThrottles(
        store,
        alarms,
        member_pin=people.station_member_pin_failures,
        staff_pin=people.station_staff_pin_failures,
        code=people.station_code_failures,
        claim=people.station_claims,
        window_s=people.guess_window_s,
    )
    members = MemberService(store, people, hasher, lockout, clock, throttles.member_pin)
    staff = StaffService(store, people, hasher, lockout, clock, throttles.staff_pin)
    codes = CodeBook(store, hasher, lockout, throttles.code)
    lending = LendingService(store, svc.lending, lockers, flows)
    lostfound = LostFoundService(
        store, svc.lost_found, lockers, flows, codes, members.phone_id, throttles.claim
    )
    storage = StorageService(store, svc.storage, lockers, flows, codes)
    pickups = PickupService(
        store,
        codes,
        lockers,
        flows,
        handlers={"deposit": storage, "claim": lostfound},
        answer_wait_s=svc.storage.answer_wait_s,
    )
    supplies = SupplyService(store, list(svc.supplies), alarms)
    return Services(
        store=store,
        flows=flows,
        lockout=lockout,
        members=members,
        staff=staff,
        codes=codes,
        lending=lending,
        lostfound=lostfound,
        storage=storage,
        pickups=pickups,
        supplies=supplies,
        throttles=throttles,
        cards=CardDesk(
            store,
            alarms,
            members,
            throttles.member_pin,
            people,
            config.reader,
            clock,
            reader,
        ),
    )
