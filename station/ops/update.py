"""`station update`: run the version central targets for this station, or go back by itself.

Run by station-update.timer. The station asks central (over its sync channel's HTTP, with
its sync token: it never accepts a connection) which release it should run, downloads the
wheels, checks each against the manifest's size and SHA-256, and installs them into a new
virtual environment beside the current one:

    <root>/<version>/   one virtual environment per version (release.json inside)
    <root>/current      -> <version>, what station.service starts
    <root>/previous     -> the one before, where a failed update goes back to

The old version keeps running while all this happens. Only at a quiet moment (the daemon's
/healthz says no door is open or opening and no door flow is under way) does it switch
`current`, restart the daemon and wait, within a limit, for the new version to answer
/healthz with its own version and no fewer boards online than before, and for its doctor to
fail no check that passed before. If not, it switches back, restarts the previous version and
remembers the version as failed (it is not tried again unless asked). Either way the result
goes to central; a result central did not take is kept and sent at the next run.

`root` is on the writable data partition when the root file system is read-only
(deploy/README.md, section 6), so an update never needs the overlay turned off.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx
from pydantic import ValidationError

from station.config import StationConfig
from station.ops.central_backup import answer_error, central_client
from wire.releases import DETAIL_MAX, Manifest, Target, UpdateReport, UpdateStatus

CURRENT = "current"
PREVIOUS = "previous"
MANIFEST_FILE = "release.json"
STATE_FILE = "update-state.json"
UNSENT_FILE = "unsent-reports.jsonl"

Outcome = Literal["ok", "rolled_back", "failed", "up_to_date", "no_target", "skipped", "busy"]


class UpdateError(Exception):
    """A step of the update failed; the message says which and why."""


class Restarter(Protocol):
    """Restarts the station daemon so that it runs what `current` points at."""

    def restart(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SystemdRestarter:
    """Production: `systemctl restart station.service` (its ExecStart goes through
    `<root>/current`)."""

    unit: str = "station.service"

    def restart(self) -> None:
        # Every way this can fail is an UpdateError, so the updater rolls back and reports
        # instead of dying between the switch of `current` and the health check.
        try:
            done = subprocess.run(
                ["systemctl", "restart", self.unit], capture_output=True, text=True, timeout=180
            )
        except FileNotFoundError as exc:
            raise UpdateError(
                "systemctl not found: this host does not run systemd; "
                "restart the station service by hand"
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise UpdateError(f"systemctl restart {self.unit} did not finish in 180 s") from exc
        if done.returncode != 0:
            raise UpdateError(f"systemctl restart {self.unit}: {done.stderr.strip()[:200]}")


@dataclass(frozen=True, slots=True)
class UpdateOptions:
    root: Path
    """Holds releases/, current and previous (/opt/station/releases by default)."""
    config_path: Path
    """The station's config, given to the doctor of each version."""
    daemon_url: str
    quiet_wait_s: float = 600.0
    """How long to wait for a quiet moment before giving up until the next run."""
    health_wait_s: float = 120.0
    """How long the new version has to answer healthy after its restart."""
    poll_s: float = 1.0
    keep: int = 3
    """Release folders kept (current and previous always among them)."""
    retry_failed: bool = False
    """Try a version again that failed on this station before."""
    seed_pip: bool = True
    """Give each new environment its own pip (the next update runs from it). Off: install
    with the running interpreter's pip (`pip --python`), which is faster."""
    python: str = sys.executable
    doctor_timeout_s: float = 180.0


@dataclass(frozen=True, slots=True)
class UpdateResult:
    outcome: Outcome
    version: str = ""
    from_version: str = ""
    detail: str = ""
    reported: bool = False
    sent_earlier: int = 0
    """Results of earlier runs central took this time."""


@dataclass
class _Health:
    version: str = ""
    boards_online: int = 0
    quiet: bool = False
    answered: str = "no answer"


@dataclass
class Updater:
    config: StationConfig
    options: UpdateOptions
    restarter: Restarter
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    _client: httpx.Client | None = field(default=None, repr=False)

    # --- the run ------------------------------------------------------------------------

    def run(self) -> UpdateResult:
        if not self.config.sync.enabled:
            raise UpdateError("sync is off ([sync] url is empty): there is no central to ask")
        self.options.root.mkdir(parents=True, exist_ok=True)
        with central_client(self.config) as client:
            self._client = client
            sent = self._send_unsent()
            result = self._update()
            if result.outcome in ("ok", "rolled_back", "failed"):
                result = self._report(result)
        self._client = None
        return replace(result, sent_earlier=sent)

    def _update(self) -> UpdateResult:
        current = self.current_version()
        target = self._target()
        if target is None:
            return UpdateResult("no_target", from_version=current)
        manifest = target.manifest
        version = manifest.version
        if version == current:
            return UpdateResult("up_to_date", version, current)
        failed = self._state().get("failed", {})
        if version in failed and not self.options.retry_failed:
            return UpdateResult(
                "skipped", version, current, f"failed here before: {failed[version]}"
            )
        try:
            folder = self._install(manifest)
        except UpdateError as exc:
            self._remember_failed(version, str(exc))
            return UpdateResult("failed", version, current, str(exc))
        before = self._health()
        if not self._wait_quiet():
            return UpdateResult("busy", version, current, "no quiet moment; tried next run")
        doctor_before = self._doctor_fails(self.options.root / CURRENT)
        links = self._links()
        self._switch(folder)
        problem = self._restart_and_check(version, before, doctor_before)
        if problem is None:
            self._prune()
            return UpdateResult("ok", version, current)
        self._remember_failed(version, problem)
        back = self._roll_back(links, current, before)
        if back is None:
            shutil.rmtree(folder, ignore_errors=True)
        detail = problem if back is None else f"{problem}; going back also failed: {back}"
        return UpdateResult("rolled_back", version, current, detail)

    # --- central --------------------------------------------------------------------------

    @property
    def client(self) -> httpx.Client:
        assert self._client is not None
        return self._client

    def _target(self) -> Target | None:
        try:
            r = self.client.get("/api/v1/station/release")
        except httpx.HTTPError as exc:
            raise UpdateError(f"cannot reach central at {self.config.sync.url}: {exc}") from None
        if r.status_code == 204:
            return None
        if r.status_code != 200:
            raise UpdateError(answer_error(r))
        try:
            return Target.model_validate_json(r.content)
        except ValidationError as exc:
            raise UpdateError(f"central's target is not a valid release: {exc}") from None

    def _report(self, result: UpdateResult) -> UpdateResult:
        report = UpdateReport(
            id=secrets.token_hex(16),
            station=self.config.station.id,
            version=result.version,
            from_version=result.from_version[:64],
            status=_status(result.outcome),
            detail=result.detail[:DETAIL_MAX],
            finished_at=self.clock(),
        )
        if self._post(report):
            return replace(result, reported=True)
        with (self.options.root / UNSENT_FILE).open("a") as f:
            f.write(report.model_dump_json() + "\n")
        return result

    def _post(self, report: UpdateReport) -> bool:
        try:
            r = self.client.post(
                "/api/v1/station/update-report",
                content=report.model_dump_json(),
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError:
            return False
        return r.status_code == 200

    def _send_unsent(self) -> int:
        path = self.options.root / UNSENT_FILE
        if not path.exists():
            return 0
        left, sent = [], 0
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            try:
                report = UpdateReport.model_validate_json(line)
            except ValidationError:
                continue  # a line cut short by a power cut: nothing to send
            if self._post(report):
                sent += 1
            else:
                left.append(line)
        _write_atomic(path, "".join(line + "\n" for line in left))
        return sent

    # --- installing -------------------------------------------------------------------------

    def _install(self, manifest: Manifest) -> Path:
        """The release in its own environment under the root, its wheels downloaded and
        checked first. The environment is made where it stays (one cannot be moved);
        release.json, written last, marks it complete."""
        releases = self.options.root
        final = releases / manifest.version
        if (final / MANIFEST_FILE).exists():
            return final
        shutil.rmtree(final, ignore_errors=True)  # an install cut short: never switched to
        wheels = releases / f".{manifest.version}.wheels"
        shutil.rmtree(wheels, ignore_errors=True)
        wheels.mkdir(parents=True)
        try:
            for f in manifest.files:
                self._download(manifest.version, f.name, f.size, f.sha256, wheels / f.name)
            self._make_venv(final, [wheels / f.name for f in manifest.files])
            _write_atomic(final / MANIFEST_FILE, manifest.model_dump_json(indent=1))
        except UpdateError:
            shutil.rmtree(final, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(wheels, ignore_errors=True)
        return final

    def _download(self, version: str, name: str, size: int, sha256: str, out: Path) -> None:
        digest, got = hashlib.sha256(), 0
        try:
            with (
                self.client.stream("GET", f"/api/v1/station/releases/{version}/files/{name}") as r,
                out.open("wb") as f,
            ):
                if r.status_code != 200:
                    r.read()
                    raise UpdateError(f"download of {name}: {answer_error(r)}")
                for chunk in r.iter_bytes():
                    got += len(chunk)
                    if got > size:
                        raise UpdateError(f"{name} is larger than the manifest says")
                    digest.update(chunk)
                    f.write(chunk)
        except httpx.HTTPError as exc:
            raise UpdateError(f"download of {name} cut short: {exc}") from None
        if got != size or digest.hexdigest() != sha256:
            raise UpdateError(f"{name} does not match the manifest's SHA-256: not installed")

    def _make_venv(self, venv: Path, wheels: list[Path]) -> None:
        """A new environment seeing the system's packages (Debian's python3-lgpio,
        python3-evdev), with the release's wheels and nothing from any index."""
        make = [self.options.python, "-m", "venv", "--system-site-packages"]
        if not self.options.seed_pip:
            make.append("--without-pip")
        _run([*make, str(venv)], "creating the environment")
        python = str(venv / "bin" / "python")
        pip = (
            [python, "-m", "pip"]
            if self.options.seed_pip
            else [self.options.python, "-m", "pip", "--python", python]
        )
        _run(
            [
                *pip,
                "install",
                "--no-input",
                "--no-cache-dir",
                "--no-index",
                "--no-deps",
                "--disable-pip-version-check",
                *map(str, wheels),
            ],
            "installing the wheels",
        )

    # --- switching ----------------------------------------------------------------------------

    def current_version(self) -> str:
        """The version `current` points at ("" before anything is installed)."""
        return _version_of(self.options.root / CURRENT)

    def _links(self) -> dict[str, str]:
        """Where `current` and `previous` point now (the ones that exist)."""
        root = self.options.root
        return {n: os.readlink(root / n) for n in (CURRENT, PREVIOUS) if (root / n).is_symlink()}

    def _switch(self, folder: Path) -> None:
        root = self.options.root
        old = root / CURRENT
        if old.is_symlink():
            _point(root / PREVIOUS, os.readlink(old))
        _point(old, os.path.relpath(folder, root))

    def _roll_back(self, links: dict[str, str], version: str, before: _Health) -> str | None:
        """Both links back as they were before the switch, the old version restarted;
        what went wrong on the way back, or None."""
        root = self.options.root
        if CURRENT not in links:
            return "there is no previous version to go back to"
        for name, target in links.items():
            _point(root / name, target)
        try:
            self.restarter.restart()
        except UpdateError as exc:
            return str(exc)
        health = self._wait_healthy(version, before.boards_online)
        return None if health is None else f"the previous version {health}"

    def _restart_and_check(
        self, version: str, before: _Health, doctor_before: set[str]
    ) -> str | None:
        """Why the new version is not healthy, or None when it is."""
        try:
            self.restarter.restart()
        except UpdateError as exc:
            return str(exc)
        problem = self._wait_healthy(version, before.boards_online)
        if problem is not None:
            return problem
        new_fails = self._doctor_fails(self.options.root / CURRENT) - doctor_before
        if new_fails:
            return "its doctor fails: " + ", ".join(sorted(new_fails))
        return None

    def _prune(self) -> None:
        root = self.options.root
        keep = {
            Path(os.readlink(root / link)).name
            for link in (CURRENT, PREVIOUS)
            if (root / link).is_symlink()
        }
        folders = sorted(
            (
                p
                for p in root.iterdir()
                if p.is_dir() and not p.is_symlink() and p.name[0].isdigit()
            ),
            key=lambda p: p.stat().st_mtime,
        )
        for old in folders[: max(len(folders) - self.options.keep, 0)]:
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)

    # --- the daemon -------------------------------------------------------------------------

    def _health(self) -> _Health:
        try:
            r = httpx.get(f"{self.options.daemon_url}/healthz", timeout=5.0)
        except httpx.HTTPError as exc:
            return _Health(answered=f"no answer ({type(exc).__name__})")
        try:
            body = r.json()
        except ValueError:
            body = {}
        if r.status_code != 200 or not isinstance(body, dict):
            return _Health(answered=f"/healthz answered HTTP {r.status_code}")
        return _Health(
            version=str(body.get("version", "")),
            boards_online=int(body.get("boards_online", 0)),
            quiet=bool(body.get("quiet", False)),
            answered=f"/healthz answered {body.get('status')} as version {body.get('version')}",
        )

    def _wait_quiet(self) -> bool:
        deadline = self.clock() + self.options.quiet_wait_s
        while True:
            health = self._health()
            if health.quiet or not health.version:
                # Quiet, or no daemon answers: nobody can be using the station right now.
                return True
            if self.clock() >= deadline:
                return False
            self.sleep(self.options.poll_s)

    def _wait_healthy(self, version: str, boards: int) -> str | None:
        deadline = self.clock() + self.options.health_wait_s
        while True:
            health = self._health()
            # A version installed by hand has no release.json: any answer of it will do.
            known = version not in ("", "unknown")
            if (
                health.version
                and (health.version == version or not known)
                and (health.boards_online >= boards)
            ):
                return None
            if self.clock() >= deadline:
                return (
                    f"not healthy within {self.options.health_wait_s:g} s: {health.answered}"
                    f", {health.boards_online} board(s) online (before: {boards})"
                )
            self.sleep(self.options.poll_s)

    def _doctor_fails(self, venv: Path) -> set[str]:
        """The names of the checks that version's doctor fails (every check when it cannot
        run at all)."""
        program = venv / "bin" / "station"
        try:
            done = subprocess.run(
                [str(program), "doctor", "--config", str(self.options.config_path)],
                capture_output=True,
                text=True,
                timeout=self.options.doctor_timeout_s,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {f"doctor did not run ({type(exc).__name__})"}
        return doctor_failures(done.stdout)

    # --- state --------------------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        path = self.options.root / STATE_FILE
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def _remember_failed(self, version: str, why: str) -> None:
        state = self._state()
        state.setdefault("failed", {})[version] = why[:DETAIL_MAX]
        _write_atomic(self.options.root / STATE_FILE, json.dumps(state, indent=1))


_FAIL_LINE = re.compile(r"^FAIL\s+(.+?)(?:\s{2,}|$)")


def doctor_failures(report: str) -> set[str]:
    """The names of the failing checks in a `station doctor` report."""
    return {m.group(1) for line in report.splitlines() if (m := _FAIL_LINE.match(line))}


def _version_of(venv: Path) -> str:
    """The release a venv holds: its release.json, or for a venv installed by hand (the first
    install, before any update) the installed package's own version."""
    try:
        return Manifest.model_validate_json((venv / MANIFEST_FILE).read_text()).version
    except (OSError, ValidationError):
        pass
    if not venv.exists():
        return ""
    found = importlib.metadata.distributions(path=[str(p) for p in venv.glob(_SITE_PACKAGES)])
    versions = {d.version for d in found if d.metadata["Name"] == DISTRIBUTION}
    return versions.pop() if len(versions) == 1 else "unknown"


DISTRIBUTION = "gongxiang-yizhan"
"""The project's distribution name (pyproject.toml), as a venv's metadata records it."""
_SITE_PACKAGES = "lib/python3*/site-packages"


def _point(link: Path, target: str) -> None:
    """Make `link` point at `target` in one step (a power cut leaves the old or the new)."""
    tmp = link.with_name(f".{link.name}.new")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(target)
    os.replace(tmp, link)
    _fsync_dir(link.parent)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _run(argv: list[str], what: str) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UpdateError(f"{what}: {exc}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise UpdateError(f"{what} failed: {' | '.join(tail)[:300]}")


def _status(outcome: Outcome) -> UpdateStatus:
    if outcome == "ok":
        return "ok"
    return "rolled_back" if outcome == "rolled_back" else "failed"
