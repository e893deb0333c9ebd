"""The sources file: read and checked whole before anything is fetched.

A bad entry raises ConfigError with a message that names the file, the entry and the key.
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from schemas.codes import ACTOR_CODES, ISO_639_1
from schemas.records import Source
from transforms.urls import canonical_url, url_host

_NAME = re.compile(r"^[a-z0-9-]+$")
_HOST = re.compile(r"^[a-z0-9.-]+$|^[0-9a-f:.]*:[0-9a-f:.]*$")  # a name, IPv4, or bare IPv6 (no port)
KEYS = {"name", "kind", "url", "country", "language", "allowed_hosts", "max_concurrency", "min_delay_s", "title",
        "schedule", "expected_every_h"}
DEFAULT_MAX_CONCURRENCY = 2
DEFAULT_MIN_DELAY_S = 1.0


class ConfigError(ValueError):
    """Unusable configuration (exit status 2)."""


def read_toml(path: Path, what: str) -> dict:
    """A TOML file's content, or a ConfigError naming the file (and, for bad TOML, the line)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load_sources(path: Path | str) -> list[Source]:
    path = Path(path)
    return parse_sources(read_toml(path, "sources file"), str(path))


def parse_sources(data: dict, origin: str = "sources file") -> list[Source]:
    entries = data.get("sources")
    unknown_top = set(data) - {"sources"}
    if unknown_top:
        raise ConfigError(f"{origin}: unknown top-level key(s) {sorted(unknown_top)}; expected [[sources]] entries")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{origin}: no [[sources]] entries")
    sources: list[Source] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        label = f"{origin}: [[sources]] entry {number}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{label}: must be a table")
        name = entry.get("name")
        if isinstance(name, str):
            label = f"{origin}: source {name!r} (entry {number})"
        sources.append(_parse_entry(entry, label))
        if sources[-1].name in seen:
            raise ConfigError(f"{label}: key 'name': {name!r} is used by an earlier entry; names must be unique")
        seen.add(sources[-1].name)
        twin = next((s.name for s in sources[:-1] if canonical_url(s.url) == canonical_url(sources[-1].url)), None)
        if twin:
            raise ConfigError(f"{label}: key 'url': the same URL as source {twin!r}; list each feed once")
    return sources


def _parse_entry(entry: dict, label: str) -> Source:
    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{label}: key {key!r}: {problem}")

    unknown = set(entry) - KEYS
    if unknown:
        raise fail(sorted(unknown)[0], f"unknown key (known: {', '.join(sorted(KEYS))})")
    for key in ("name", "kind", "url", "country", "language"):
        if key not in entry:
            raise fail(key, "missing")
        if not isinstance(entry[key], str):
            raise fail(key, f"must be a string, not {type(entry[key]).__name__}")
    name, kind, url = entry["name"], entry["kind"], entry["url"].strip()
    if not _NAME.match(name):
        raise fail("name", f"{name!r} must match [a-z0-9-]+")
    # Imported here: the CLI reads this module before it starts Prefect's API, and the kinds
    # bring in their parsers of feeds, sitemaps and API documents (not trafilatura: pages are
    # read by flows.kinds.base.extract_html, which imports it on the first page).
    from flows.kinds import KINDS

    if kind not in KINDS:
        raise fail("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    host = url_host(url)
    if not url.lower().startswith(("http://", "https://")) or not host:
        raise fail("url", f"{url!r} is not an http(s) URL with a host")
    if any(c.isspace() for c in url):
        raise fail("url", f"{url!r} has a space in it (write a space in a path as %20)")
    try:
        parts = urlsplit(url)
        _port = parts.port  # raises for a port out of range
    except ValueError as exc:
        raise fail("url", f"{url!r}: {exc}") from None
    if parts.username is not None or parts.password is not None:  # never echo them back
        raise fail("url", "must not carry a user name or password: URLs are logged and stored, and socwatch "
                          "reads public feeds only")
    if entry["country"] not in ACTOR_CODES:
        hint = " (the United Kingdom is GB)" if entry["country"].upper() == "UK" else ""
        raise fail("country", f"{entry['country']!r} is not an ISO 3166-1 alpha-2 code in capitals (or EU){hint}")
    if entry["language"] not in ISO_639_1:
        raise fail("language", f"{entry['language']!r} must be an ISO 639-1 code in lower case (en, nl, ...)")
    allowed = entry.get("allowed_hosts", [host])
    if not isinstance(allowed, list) or not allowed or not all(isinstance(h, str) for h in allowed):
        raise fail("allowed_hosts", "must be a non-empty list of host names")
    allowed = [h.strip().lower() for h in allowed]
    for h in allowed:
        if not _HOST.match(h):
            raise fail("allowed_hosts", f"{h!r} is not a host name (give names without scheme or port)")
    if host not in allowed:
        raise fail("allowed_hosts", f"does not include the host of url ({host})")
    concurrency = entry.get("max_concurrency", DEFAULT_MAX_CONCURRENCY)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 16:
        raise fail("max_concurrency", f"{concurrency!r} must be a whole number from 1 to 16")
    delay = entry.get("min_delay_s", DEFAULT_MIN_DELAY_S)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 600:
        raise fail("min_delay_s", f"{delay!r} must be a number of seconds from 0 to 600")
    title = entry.get("title")
    if title is not None and not isinstance(title, str):
        raise fail("title", "must be a string")
    schedule = entry.get("schedule")
    if schedule is not None:
        problem = cron_problem(schedule)
        if problem:
            raise fail("schedule", problem)
    expected = entry.get("expected_every_h")
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int | float) or not 0 < expected <= 24 * 366):
        raise fail("expected_every_h", f"{expected!r} must be a number of hours from above 0 to 8784 (a year)")
    return Source(
        name=name, kind=kind, url=url, country=entry["country"], language=entry["language"],
        allowed_hosts=tuple(allowed), max_concurrency=concurrency, min_delay_s=float(delay), title=title,
        listed_hosts=tuple(allowed) if "allowed_hosts" in entry else (),
        schedule=schedule, expected_every_h=float(expected) if expected is not None else None,
    )


def cron_problem(expression: object) -> str | None:
    """Why `expression` is not a five-field cron expression, or None when it is one."""
    from cronsim import CronSim, CronSimError

    if not isinstance(expression, str) or len(expression.split()) != 5:
        return f"{expression!r} must be a cron expression of five fields, e.g. \"*/30 * * * *\""
    try:
        CronSim(expression, datetime.now(UTC))
    except CronSimError as exc:
        return f"{expression!r} is not a valid cron expression: {exc}"
    return None
