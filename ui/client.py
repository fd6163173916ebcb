"""The touchscreen's only way to the station: the daemon's HTTP API and its live stream.

Every failure to reach the daemon becomes one exception type, `DaemonUnreachable`, so screens
need a single rule: show "the station is restarting" and wait for the stream to come back.
Refusals by the daemon (wrong PIN, no free locker) are `ApiError` with the daemon's words and
any structured fields it sent, for screens to turn into plain-language errors.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import httpcore
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, WebSocketException

log = logging.getLogger(__name__)

Json = Any
Message = dict[str, Any]


class DaemonUnreachable(Exception):
    """The daemon did not answer (stopped, restarting, or the connection broke)."""


class ApiError(Exception):
    """The daemon answered with a refusal; `body` holds every field it sent."""

    def __init__(self, status: int, detail: str, body: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.body: Mapping[str, Any] = body or {}

    @property
    def code(self) -> str | None:
        """A machine-readable reason when the daemon gives one (e.g. `wrong_pin`)."""
        value = self.body.get("code") or self.body.get("error")
        return value if isinstance(value, str) else None


class StationClient:
    """Thin async wrapper over the daemon's HTTP API.

    Calls take an optional `token` so a staff session (a short-lived staff token from the
    daemon) can be used for one call without changing the kiosk's own token.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        slow_timeout: float = 40.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._timeout = timeout
        self._slow_timeout = slow_timeout
        self._http: httpcore.AsyncConnectionPool | None = None

    def _client(self) -> httpcore.AsyncConnectionPool:
        # httpcore (httpx's own transport) rather than httpx: this client sends JSON to one
        # daemon and needs none of httpx's models, cookies or redirects, which were 1.9 MB of
        # the touchscreen's RSS (docs/benchmarks.md). The daemon is on this machine or the
        # LAN over plain HTTP: an https daemon_url gets its certificate checked against
        # certifi's CA bundle as before; a plain one loads no bundle (3.3 MB for a TLS
        # context it would never use).
        if self._http is None:
            tls = None
            if urlsplit(self.base_url).scheme == "https":
                import ssl

                import certifi

                tls = ssl.create_default_context(cafile=certifi.where())
            self._http = httpcore.AsyncConnectionPool(
                ssl_context=tls,
                max_connections=20,
                # Idle connections are dropped well before the daemon drops them (15 s), so a
                # tap never goes out on a connection the daemon is closing.
                keepalive_expiry=5.0,
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        wait_s: float,
    ) -> _Answer:
        # As httpx did: whatever in the path is not URL-safe is percent-encoded (UTF-8),
        # escapes already there are kept.
        url = self.base_url + quote(path, safe="/%:@!$&'()*+,;=-._~")
        if params:
            url += "?" + urlencode({k: _query_value(v) for k, v in params.items()}, doseq=True)
        sent = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
        if body is not None:
            sent.append((b"Content-Type", b"application/json"))
        response = await self._client().request(
            method,
            url,
            headers=sent,
            content=body,
            extensions={
                "timeout": {"connect": wait_s, "read": wait_s, "write": wait_s, "pool": wait_s}
            },
        )
        reason = response.extensions.get("reason_phrase", b"")
        return _Answer(response.status, response.content, reason.decode("ascii", "replace"))

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Json = None,
        params: Mapping[str, Any] | None = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        slow: bool = False,
    ) -> Json:
        """One API call; `slow` allows for routes that hold the answer (a flow long-poll)."""
        headers = {**(headers or {}), "Authorization": f"Bearer {token or self.token}"}
        body = None
        if json_body is not None:  # as httpx sent it: compact UTF-8, no NaN
            text = json.dumps(json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            body = text.encode("utf-8")
        # A read may go again once when the connection broke under it (the daemon closed
        # a kept-alive connection, or restarted): only a second failure means it is away.
        # Anything else goes once: an unlock must not be sent twice.
        tries = 2 if method == "GET" else 1
        for attempt in range(1, tries + 1):
            try:
                response = await self._send(
                    method,
                    path,
                    body=body,
                    params=params,
                    headers=headers,
                    wait_s=self._slow_timeout if slow else self._timeout,
                )
                break
            except (httpcore.RemoteProtocolError, httpcore.ReadError) as exc:
                if attempt == tries:
                    raise DaemonUnreachable(_unreachable(method, path, exc)) from None
            except TRANSPORT_ERRORS as exc:
                raise DaemonUnreachable(_unreachable(method, path, exc)) from None
        if response.status_code >= 400:
            raise _api_error(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(response.status_code, "the daemon's answer is not JSON") from None

    async def get(
        self,
        path: str,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        slow: bool = False,
        **params: Any,
    ) -> Json:
        clean = {k: v for k, v in params.items() if v is not None}
        return await self.request(
            "GET", path, params=clean, token=token, headers=headers, slow=slow
        )

    async def post(
        self,
        path: str,
        body: Json = None,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        slow: bool = False,
    ) -> Json:
        return await self.request(
            "POST",
            path,
            json_body={} if body is None else body,
            token=token,
            headers=headers,
            slow=slow,
        )

    # --- core routes (station/api/routes/core.py) ------------------------------------------

    async def health(self) -> Json:
        try:
            response = await self._send("GET", "/healthz", wait_s=self._timeout)
        except TRANSPORT_ERRORS as exc:
            raise DaemonUnreachable(f"GET /healthz: {exc}") from None
        if response.status_code >= 400:
            raise _api_error(response)
        return response.json()

    async def lockers(self) -> list[dict[str, Any]]:
        return await self.get("/api/v1/lockers")

    async def open_locker(self, locker_id: str, reason: str, token: str) -> Json:
        return await self.post(
            f"/api/v1/lockers/{locker_id}/open", {"reason": reason}, token=token, slow=True
        )

    async def release_locker(self, locker_id: str, note: str, token: str) -> Json:
        return await self.post(f"/api/v1/lockers/{locker_id}/release", {"note": note}, token=token)

    async def alarms(self, token: str | None = None) -> list[dict[str, Any]]:
        return await self.get("/api/v1/alarms", token=token)

    async def ack_alarm(self, alarm_id: int, token: str, note: str = "") -> Json:
        return await self.post(f"/api/v1/alarms/{alarm_id}/ack", {"note": note}, token=token)

    # --- services (docs/api-services.md) -------------------------------------------------------

    async def identify(self, phone: str, pin: str) -> Json:
        return await self.post("/api/v1/members/identify", {"phone": phone, "pin": pin})

    async def card_identify(self, purpose: str, wait_s: float = 20.0) -> Json:
        """Wait (bounded) for a card on the station's reader: a member session, a staff number
        (purpose "staff") or kind "none"; the card's number never comes here."""
        body = {"purpose": purpose, "wait_s": wait_s}
        return await self.post("/api/v1/cards/identify", body, slow=True)

    async def card_cancel(self) -> Json:
        return await self.post("/api/v1/cards/cancel")

    async def staff_login(self, staff_no: str, pin: str) -> Json:
        return await self.post("/api/v1/staff/login", {"staff_no": staff_no, "pin": pin})

    async def flow(
        self, flow_id: str, *, wait: float = 0, state: str | None = None, key: str | None = None
    ) -> Json:
        """A door flow; with `wait`, held until its state differs from `state`. `key` (from
        the POST that started it) brings its secret result, once."""
        return await self.get(
            f"/api/v1/flows/{flow_id}",
            wait=int(wait) or None,
            state=state,
            slow=bool(wait),
            headers={"X-Flow-Key": key} if key else None,
        )

    async def answer_return(self, flow_id: str, condition: str, key: str | None = None) -> Json:
        return await self.post(
            f"/api/v1/flows/{flow_id}/answer",
            {"condition": condition, "note": ""},
            headers={"X-Flow-Key": key} if key else None,
        )

    async def answer_choice(self, flow_id: str, choice: str, key: str | None = None) -> Json:
        """An item-sensor question's answer (see station/api/models_services.AnswerRequest);
        `key` is the flow's, from the POST that started it."""
        return await self.post(
            f"/api/v1/flows/{flow_id}/answer",
            {"choice": choice, "note": ""},
            headers={"X-Flow-Key": key} if key else None,
        )

    async def tools(self, status: str | None = None) -> list[dict[str, Any]]:
        return await self.get("/api/v1/tools", status=status)

    async def borrow(self, tool_id: str, member_session: str) -> Json:
        return await self.post(
            "/api/v1/loans", {"tool_id": tool_id}, headers={"X-Member-Session": member_session}
        )

    async def give_back(self, tool_id: str, member_session: str | None = None) -> Json:
        headers = {"X-Member-Session": member_session} if member_session else None
        return await self.post("/api/v1/returns", {"tool_id": tool_id}, headers=headers)

    async def found_options(self) -> Json:
        return await self.get("/api/v1/found/options")

    async def hand_in(self, item: dict[str, Any]) -> Json:
        return await self.post("/api/v1/found", item)

    async def found(self, category: str | None = None, since: float | None = None) -> Json:
        return await self.get("/api/v1/found", category=category, since=since)

    async def claim(
        self,
        number: str,
        phone: str | None,
        description: str,
        member_session: str | None = None,
    ) -> Json:
        """A claim by the phone number typed, or by the member of `member_session` (a card)."""
        body = {"description": description, **({"phone": phone} if phone else {})}
        headers = {"X-Member-Session": member_session} if member_session else None
        return await self.post(f"/api/v1/found/{number}/claims", body, headers=headers)

    async def change_own_pin(self, pin: str, member_session: str) -> Json:
        """A member replaces the first PIN from the office; the daemon ends the session."""
        return await self.post(
            "/api/v1/members/me/pin", {"pin": pin}, headers={"X-Member-Session": member_session}
        )

    async def deposit(self, kind: str, size: str | None, member_session: str | None) -> Json:
        headers = {"X-Member-Session": member_session} if member_session else None
        return await self.post("/api/v1/deposits", {"kind": kind, "size": size}, headers=headers)

    async def pickup_lockers(self) -> list[dict[str, Any]]:
        return await self.get("/api/v1/pickups/lockers")

    async def pickup(self, code: str) -> Json:
        """The code alone opens the door of its locker."""
        return await self.post("/api/v1/pickups", {"code": code})

    async def pickups_waiting(self, token: str) -> list[dict[str, Any]]:
        """Staff: what waits to be picked up, and where each code stands (never the code)."""
        return await self.get("/api/v1/pickups", token=token)

    async def reissue_code(self, locker: str, reason: str, token: str) -> Json:
        """Staff: a new code for what waits in `locker`; the old one stops working."""
        return await self.post(f"/api/v1/pickups/{locker}/reissue", {"reason": reason}, token=token)

    async def supplies(self) -> list[dict[str, Any]]:
        return await self.get("/api/v1/supplies")

    async def occupancy(self) -> Json:
        return await self.get("/api/v1/occupancy")

    async def notices(self) -> list[dict[str, Any]]:
        return await self.get("/api/v1/notices")

    async def notice_shown(self, notice_id: str, count: int) -> None:
        await self.post(f"/api/v1/notices/{quote(notice_id, safe='')}/shown", {"count": count})

    # --- staff routes (a staff session token on every call) --------------------------------------

    async def staff_get(self, path: str, token: str, **params: Any) -> Json:
        return await self.get(f"/api/v1/{path}", token=token, **params)

    async def staff_post(self, path: str, token: str, body: Json = None) -> Json:
        return await self.post(f"/api/v1/{path}", body, token=token)

    async def sync_status(self, token: str) -> Json:
        """The sync service's status, from the station's telemetry snapshot (staff role)."""
        snapshot = await self.get("/api/v1/telemetry", token=token)
        status = snapshot.get("sync") if isinstance(snapshot, dict) else None
        if not isinstance(status, dict) or status.get("present") is False:
            raise ApiError(404, "this daemon reports no sync status")
        return status


TRANSPORT_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
    OSError,
)
"""What httpcore raises when the daemon cannot be reached or answers no HTTP."""


class _Answer:
    """The daemon's answer, read whole."""

    __slots__ = ("content", "reason_phrase", "status_code")

    def __init__(self, status_code: int, content: bytes, reason_phrase: str) -> None:
        self.status_code = status_code
        self.content = content
        self.reason_phrase = reason_phrase

    def json(self) -> Any:
        return json.loads(self.content)


def _query_value(value: Any) -> Any:
    """A query parameter as httpx wrote it: true/false for booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return [_query_value(v) for v in value]
    return value


def _api_error(response: _Answer) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {"detail": body}
    detail = body.get("detail")
    if not isinstance(detail, str):
        detail = json.dumps(detail, ensure_ascii=False) if detail else response.reason_phrase
    return ApiError(response.status_code, detail, body)


def stream_url(base_url: str) -> str:
    """The WebSocket address of the live stream for an http(s) API address."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    path = parts.path.rstrip("/") + "/api/v1/stream"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def _unreachable(method: str, path: str, exc: Exception) -> str:
    return f"{method} {path}: {exc.__class__.__name__}: {exc}"


class LiveStream:
    """Keeps one WebSocket to the daemon's live stream open, reconnecting with a back-off.

    `on_state(True)` is called once the daemon's first message (the locker snapshot) arrived
    on a new connection, `on_state(False)` each time a connection cannot be made (a dropped
    connection is retried once at once first), so the UI can show a "restarting" screen
    exactly while the daemon is away.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        reconnect_min_s: float = 0.2,
        reconnect_max_s: float = 3.0,
    ) -> None:
        self.url = stream_url(base_url)
        self._token = token
        self._min = reconnect_min_s
        self._max = reconnect_max_s
        self.connected = False
        self.refused = False
        """True while the daemon turns the stream's token away (a wrong [ui] token)."""
        self.connection: ClientConnection | None = None
        """The WebSocket open now, if any."""

    async def run(
        self, on_message: Callable[[Message], None], on_state: Callable[[bool], None]
    ) -> None:
        delay = self._min
        while True:
            delivered = False
            try:
                async with connect(
                    self.url,
                    additional_headers={"Authorization": f"Bearer {self._token}"},
                    open_timeout=5,
                    ping_interval=10,
                    ping_timeout=20,
                    max_size=4 * 1024 * 1024,
                ) as ws:
                    self.connection = ws
                    async for raw in ws:
                        message = _decode(raw)
                        if message is None:
                            continue
                        delivered = True
                        if not self.connected:
                            self.connected = True
                            self.refused = False
                            delay = self._min
                            on_state(True)
                        on_message(message)
            except asyncio.CancelledError:
                raise
            except InvalidStatus as exc:
                self.refused = exc.response.status_code in (401, 403)
                log.warning("live stream refused: %s", exc)
            except (OSError, TimeoutError, WebSocketException) as exc:
                log.info("live stream lost: %s", exc)
            self.connection = None
            if delivered:
                # A connection that worked has dropped: try again at once before telling the
                # UI, which would end the person's session. A busy daemon that missed a ping
                # takes the retry; one that restarted refuses it, or its snapshot names a new
                # run (`daemon`), which the app checks.
                continue
            self._lost(on_state)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max)

    def _lost(self, on_state: Callable[[bool], None]) -> None:
        # Report every failed attempt while away, not only the first: the UI uses it to
        # keep its "restarting" screen up even if it had not yet seen the daemon at all.
        self.connected = False
        on_state(False)


def _decode(raw: str | bytes) -> Message | None:
    try:
        message = json.loads(raw)
    except ValueError:
        log.warning("live stream: ignored a message that is not JSON")
        return None
    if not isinstance(message, dict):
        return None
    return message
