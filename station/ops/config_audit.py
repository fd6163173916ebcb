"""What `station check-config` and `station doctor` refuse in a config that loads: secrets a
stranger could guess or that give one role another's powers, and settings that undo a limit.

A config with the example's `CHANGE-ME` tokens starts (the demo and the tests run on it), but
a station in the street must not: these checks say which key is wrong and what to do, and
never print the secret itself.
"""

from __future__ import annotations

from collections.abc import Iterator

from station.config import StationConfig

MIN_DISTINCT = 10
"""A token or key with fewer different characters is refused (`"a" * 16`, `0123012301230123`)."""
PLACEHOLDERS = ("change-me", "changeme", "example", "secret", "password")


def weakness(value: str) -> str | None:
    """Why a secret is too easy to guess, or None. Never includes the secret."""
    lowered = value.lower()
    for word in PLACEHOLDERS:
        if word in lowered:
            return f"it contains '{word}': it is the example's placeholder, not a secret"
    if len(set(value)) < MIN_DISTINCT:
        return f"it has fewer than {MIN_DISTINCT} different characters"
    return None


def _secrets(config: StationConfig) -> Iterator[tuple[str, str]]:
    for i, t in enumerate(config.api.tokens):
        if t.token is not None:
            yield f"api.tokens[{i}] ({t.name}, role {t.role}).token", t.token
    if config.sync.enabled:
        token = config.sync.read_token()
        if token:
            yield "sync.token", token
    if config.people.phone_hash_key:
        yield "people.phone_hash_key", config.people.phone_hash_key


def secret_problems(config: StationConfig) -> list[str]:
    """Every problem with the config's secrets and guessing limits, one sentence each."""
    problems = []
    fix = "make one with `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`"
    seen: dict[str, str] = {}
    for where, value in _secrets(config):
        why = weakness(value)
        if why:
            problems.append(f"{where}: {why}; {fix}")
        if value in seen:
            problems.append(
                f"{where} is the same as {seen[value]}: one secret for two roles gives "
                f"whoever holds it both; give each its own ({fix})"
            )
        seen.setdefault(value, where)
    digests: dict[str, str] = {}
    for i, t in enumerate(config.api.tokens):
        digest = t.token_sha256 or ""
        if digest and digest in digests:
            problems.append(
                f"api.tokens[{i}].token_sha256 is the same as {digests[digest]}: each role "
                "needs its own token"
            )
        digests.setdefault(digest, f"api.tokens[{i}]")
    retention_s = config.sync.retention_days * 86_400
    if config.sync.retention_days and retention_s < config.people.guess_window_s:
        problems.append(
            f"sync.retention_days ({config.sync.retention_days:g}) is shorter than "
            f"people.guess_window_s ({config.people.guess_window_s:g} s): pruning would forget "
            "wrong guesses inside the window and give back the guessing budget; keep "
            "retention_days above guess_window_s / 86400"
        )
    return problems
