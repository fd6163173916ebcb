"""Schemathesis against a live server over loopback HTTP: every operation of an OpenAPI document,
its boundary cases (schemathesis' coverage phase) and random cases (hypothesis), positive and
negative, each sent with every token the caller gives.

The server runs in the test's event loop and schemathesis sends with blocking `requests`, so the
fuzzer runs on a worker thread (`asyncio.to_thread`). A failure does not stop the run: every
5xx, dropped connection and unclear 4xx is collected as a Finding (hypothesis does not shrink,
which keeps the run short) and the test asserts the list is empty, showing a curl line for each.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode, Response
from schemathesis.schemas import APIOperation

from central.app import create_app
from central.auth import new_token, token_hash
from central.server import BackgroundServer
from central.storage.base import Storage
from central.storage.pg_cluster import ClusterUnavailable, ThrowawayCluster
from central.storage.sqlite import SQLiteStorage
from tests.station.conftest import PHONES, Harness

MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
TIMEOUT_S = 15.0
"""Per request: far above any honest answer on loopback, so only a hang or a crash hits it."""


@dataclass(frozen=True)
class Finding:
    operation: str
    problem: str
    curl: str

    def __str__(self) -> str:
        return f"{self.operation}: {self.problem}\n    {self.curl}"


@dataclass
class Tally:
    requests: int = 0
    server_errors: int = 0
    refused: int = 0
    """4xx answers (each checked for a clear message)."""
    operations: int = 0
    findings: list[Finding] = field(default_factory=list)

    def distinct(self, limit: int = 20) -> str:
        """One finding per operation and problem kind, for an assertion message."""
        seen: dict[tuple[str, str], Finding] = {}
        for f in self.findings:
            seen.setdefault((f.operation, f.problem.split(":")[0]), f)
        return "\n".join(str(f) for f in list(seen.values())[:limit])


def clear_message(body: bytes) -> str | None:
    """Why a 4xx body does not tell its reader what was wrong, or None when it does.

    Accepted: JSON with a non-empty string `detail`, or FastAPI's list of validation errors
    each with a `msg`.
    """
    try:
        data = json.loads(body)
    except ValueError:
        return f"4xx body is not JSON: {body[:120]!r}"
    detail = data.get("detail") if isinstance(data, dict) else None
    if isinstance(detail, str) and detail.strip():
        return None
    if isinstance(detail, list) and detail and all(_has_msg(d) for d in detail):
        return None
    return f"4xx body has no message in 'detail': {body[:120]!r}"


def _has_msg(item: object) -> bool:
    return isinstance(item, dict) and bool(item.get("msg"))


Adjust = Callable[[Case, str], None]
"""Edits a generated case before it is sent (e.g. bound a long-poll), given the token."""


@dataclass
class ApiFuzzer:
    """Fuzz one OpenAPI document against `base_url`."""

    doc: dict[str, Any]
    base_url: str
    tokens: Mapping[str, str]
    """Name (for messages) to bearer token; each case goes out with each of them."""
    adjust: Adjust = lambda case, token: None
    tally: Tally = field(default_factory=Tally)

    def __post_init__(self) -> None:
        self.schema = schemathesis.openapi.from_dict(self.doc)
        self.session = requests.Session()
        self.wedged = False

    def operations(self) -> list[APIOperation]:
        ops = [result.ok() for result in self.schema.get_all_operations()]
        assert ops, "the OpenAPI document has no operations"
        return ops

    def run(
        self,
        *,
        examples: int,
        fixed: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Tally:
        """Every operation: its coverage cases, then `examples` random cases, with each token.

        `fixed` maps an operation label to `as_strategy` arguments naming things that exist
        (path parameters of a real tool, a live session header), so random bodies also reach
        the code behind the lookup: those operations get `examples` more cases with them.
        """
        for op in self.operations():
            self.tally.operations += 1
            extra = dict((fixed or {}).get(op.label) or {})
            tokens = self.admitted(op, extra)
            self.coverage(op, tokens)
            self.random(op, examples, {}, tokens)
            if extra:
                self.random(op, examples, extra, tokens)
        return self.tally

    def admitted(self, op: APIOperation, fixed: dict[str, Any]) -> list[str]:
        """The tokens whose role the operation takes: a simple valid request with each, and
        those refused for their role (a 403 about the role or token kind) are left out, since
        every case with them would stop at the same check."""
        base = base_case(op, fixed)
        tokens = []
        for token in self.tokens.values():
            r = self.send(base, token)
            role = r is not None and r.status_code == 403 and _about_role(r.content)
            if not role:
                tokens.append(token)
        return tokens or list(self.tokens.values())

    def coverage(self, op: APIOperation, tokens: list[str]) -> None:
        config = self.schema.config.generation_for(operation=op, phase="coverage")
        cases = list(
            self.schema.iter_coverage_cases(op, generation_modes=MODES, generation_config=config)
        )
        for token in tokens:
            for case in cases:
                self.send(case, token)

    def random(
        self, op: APIOperation, examples: int, fixed: dict[str, Any], tokens: list[str]
    ) -> None:
        cases = st.one_of(*(op.as_strategy(mode, **fixed) for mode in MODES))

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(st.sampled_from(sorted(tokens)), cases)
        def one(token: str, case: Case) -> None:
            self.send(case, token)

        one()

    def send(self, case: Case, token: str) -> Response | None:
        """Send one case and check the answer; the answer, or None if the connection failed."""
        if self.wedged:
            return None
        self.adjust(case, token)
        label = case.operation.label
        try:
            response = case.call(
                base_url=self.base_url,
                session=self.session,
                headers={"Authorization": f"Bearer {token}"},
                timeout=TIMEOUT_S,
            )
        except requests.RequestException as exc:
            self.tally.findings.append(
                Finding(label, f"connection failed: {exc!r}"[:300], _curl(case, self.base_url))
            )
            # A server that let a request time out is wedged: every later request would wait
            # out its timeout too, so the run ends here with this finding.
            self.wedged = isinstance(exc, requests.Timeout)
            return None
        self.tally.requests += 1
        status = response.status_code
        if status >= 500:
            self.tally.server_errors += 1
            self.tally.findings.append(
                Finding(label, f"{status}: {response.content[:200]!r}", _curl(case, self.base_url))
            )
        elif status >= 400:
            self.tally.refused += 1
            if response.request.method != "HEAD":
                problem = clear_message(response.content)
                if problem:
                    self.tally.findings.append(
                        Finding(label, f"{status} {problem}", _curl(case, self.base_url))
                    )
        return response


def _about_role(body: bytes) -> bool:
    """A 403 that refuses the caller's role or token kind (the daemon's and central's words)."""
    try:
        detail = str(json.loads(body).get("detail", ""))
    except (ValueError, AttributeError):
        return False
    return "may not do this" in detail or ("takes a" in detail and "token" in detail)


def _curl(case: Case, base_url: str) -> str:
    try:
        return case.as_curl_command(base_url=base_url)
    except Exception as exc:  # a case curl cannot print is still a finding
        return f"(no curl line: {exc!r}) {case!r}"[:500]


# --- the fields of a document -------------------------------------------------------------------


@dataclass(frozen=True)
class ApiField:
    """One value a client sends: a path or query parameter, or a property of a JSON body."""

    method: str
    path: str
    location: str
    """"path", "query", "header" or "body"."""
    name: str
    kind: str
    """"string", "integer" or "number"."""
    array: bool = False
    """Sent as a list of such values (a body property or a repeated query parameter)."""

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def __str__(self) -> str:
        return f"{self.label} {self.location}:{self.name}"


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow `$ref` to components of the same document."""
    while "$ref" in schema:
        node: Any = doc
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def kinds(doc: dict[str, Any], schema: dict[str, Any]) -> list[tuple[str, bool]]:
    """The scalar types a schema takes, with whether each comes as an array (nullable and
    `anyOf` unions flattened)."""
    schema = resolve(doc, schema)
    out: list[tuple[str, bool]] = []
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        out += kinds(doc, branch)
    kind = schema.get("type")
    if kind in ("string", "integer", "number") and "enum" not in schema and "const" not in schema:
        out.append((kind, False))
    elif kind == "array":
        out += [(k, True) for k, arr in kinds(doc, schema.get("items", {})) if not arr]
    return out


def walk_fields(doc: dict[str, Any]) -> list[ApiField]:
    """Every free value of every operation: parameters and top-level JSON body properties."""
    found: list[ApiField] = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            m = method.upper()
            for p in op.get("parameters", []):
                for kind, array in kinds(doc, p.get("schema", {}))[:1]:
                    found.append(ApiField(m, path, p["in"], p["name"], kind, array))
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if not content:
                continue
            body = resolve(doc, content["schema"])
            for name, prop in body.get("properties", {}).items():
                for kind, array in kinds(doc, prop)[:1]:
                    found.append(ApiField(m, path, "body", name, kind, array))
    return found


def base_case(op: APIOperation, fixed: Mapping[str, Any] | None = None) -> Case:
    """A simple valid request of an operation (the first positive example hypothesis draws, which
    is its simplest), with the `fixed` as_strategy arguments: the starting point a test changes
    one value of."""
    strategy = op.as_strategy(GenerationMode.POSITIVE, **dict(fixed or {}))
    drawn: list[Case] = []

    @settings(
        max_examples=1,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(case: Case) -> None:
        drawn.append(case)

    draw()
    return drawn[0]


def with_value(case: Case, field: ApiField, value: Any) -> Case:
    """A copy of `case` with one field set to `value` (wrapped in a list for array fields)."""
    value = [value] if field.array else value
    path = dict(case.path_parameters or {})
    query = dict(case.query or {})
    headers = dict(case.headers or {})
    body = case.body
    if field.location == "path":
        path[field.name] = value
    elif field.location == "query":
        query[field.name] = value
    elif field.location == "header":
        headers[field.name] = value
    else:
        body = {**(body if isinstance(body, dict) else {}), field.name: value}
    return case.operation.Case(
        path_parameters=path,
        query=query,
        headers=headers,
        body=body,
        media_type=case.media_type,
    )


EXTREME_INTEGERS = (2**63, -(2**63) - 1, 2**70, -(2**70))
"""Past SQLite's and PostgreSQL's 64-bit integers: each must be a 422, never an overflow."""
EXTREME_PARAMETERS = ("9" * 30, "-" + "9" * 30, "1e400", "nan", "inf", "-inf")
"""The same in a URL, where floats that JSON cannot carry (NaN, infinities) also arrive."""
EXTREME_FLOATS = (1e308, -1e308, 5e-324, 2.0**63)


def extremes(field: ApiField) -> tuple[Any, ...]:
    if field.location != "body":
        return EXTREME_PARAMETERS
    return EXTREME_INTEGERS + (EXTREME_FLOATS if field.kind == "number" else ())


def run_extremes(
    fuzzer: ApiFuzzer, fixed: Mapping[str, Mapping[str, Any]] | None = None
) -> list[ApiField]:
    """Every numeric field of every operation set to values past every storage limit, in a
    request otherwise valid. Returns the fields tried."""
    ops = {op.label: op for op in fuzzer.operations()}
    tried = [f for f in walk_fields(fuzzer.doc) if f.kind in ("integer", "number")]
    bases: dict[str, Case] = {}
    for f in tried:
        if f.label not in bases:
            bases[f.label] = base_case(ops[f.label], (fixed or {}).get(f.label))
        for token in fuzzer.tokens.values():
            for value in extremes(f):
                fuzzer.send(with_value(bases[f.label], f, value), token)
    return tried


# --- the daemon's things -------------------------------------------------------------------------

MEMBER_PHONE = PHONES[0]


def bound_long_poll(case: Case, _: str) -> None:
    """A flow poll may legitimately hold for `wait` seconds: bound it (a valid number only)."""
    wait = (case.query or {}).get("wait")
    if isinstance(wait, int | float) and not isinstance(wait, bool) and wait > 0.05:
        case.query["wait"] = 0.05


async def daemon_known_ids(h: Harness) -> dict[str, dict[str, Any]]:
    """Things that exist on the station, by path parameter name, and a member session."""
    member = await h.register(MEMBER_PHONE)
    session = await h.identify(MEMBER_PHONE)
    await h.add_tool("T1", "A01")
    staff = await h.staff()
    supplies = (await staff.get("/api/v1/supplies")).json()
    throttles = (await staff.get("/api/v1/throttles")).json()
    known = {"locker_id": "A05", "tool_id": "T1", "member_id": member["member_id"]}
    if supplies:
        known["supply_id"] = supplies[0]["id"]
    if throttles:
        known["kind"] = throttles[0]["kind"]
    return {"path_parameters": known, "headers": {"x-member-session": session}}


def fixed_for(fuzzer: ApiFuzzer, known: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """as_strategy arguments per operation: real ids for its path, a live member session."""
    out: dict[str, dict[str, Any]] = {}
    for op in fuzzer.operations():
        names = {p.name for p in op.path_parameters}
        headers = {p.name.lower() for p in op.headers}
        kwargs: dict[str, Any] = {}
        if names and names <= known["path_parameters"].keys():
            kwargs["path_parameters"] = {n: known["path_parameters"][n] for n in names}
        if "x-member-session" in headers:
            kwargs["headers"] = known["headers"]
        if kwargs:
            out[op.label] = kwargs
    return out


# --- central on either backend -------------------------------------------------------------------


@dataclass
class CentralUnderTest:
    url: str
    tokens: dict[str, str]
    """"station" (station S001's token) and "office"."""


@contextlib.contextmanager
def central_server(storage: Storage) -> Iterator[CentralUnderTest]:
    """Central's real app on loopback over `storage`, with station S001 and an office token."""
    tokens = {"station": new_token(), "office": new_token()}
    storage.add_station("S001", "one", token_hash(tokens["station"]), time.time())
    storage.add_office_token("ops", token_hash(tokens["office"]), time.time())
    try:
        with BackgroundServer(create_app(storage)) as server:
            yield CentralUnderTest(server.url, tokens)
    finally:
        storage.close()


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[ThrowawayCluster]:
    """A PostgreSQL cluster for a test module (skipped where no server binary is installed)."""
    try:
        cluster = ThrowawayCluster().start()
    except ClusterUnavailable as exc:
        pytest.skip(f"PostgreSQL not available: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


_databases = itertools.count(1)


def central_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """SQLite in tmp_path, or a fresh database in the module's PostgreSQL cluster (fixture
    `pg_cluster`): the NUL-character finding only showed on PostgreSQL."""
    if request.param == "sqlite":
        return SQLiteStorage(tmp_path / "central.db")
    from central.storage.postgres import PostgresStorage

    cluster: ThrowawayCluster = request.getfixturevalue("pg_cluster")
    return PostgresStorage(cluster.create_database(f"fuzz{next(_databases)}"))


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
