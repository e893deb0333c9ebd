"""Watchlists from the command line and the watchlists file, checked whole; and the delivery of
their new hits after a run: an Atom feed file, a signed webhook, a Prefect event.

Delivery is at least once. What is due is worked out from the warehouse, not remembered: every
run with hits of a watchlist that has no delivered row of a channel in watch_deliveries. A run
killed after its load committed (or a receiver that was down) is delivered by the next run,
under the same idempotency key, so a receiver can drop what it already has.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import duckdb
import httpx
from prefect.events import emit_event

from flows.http import USER_AGENT
from flows.sources import ConfigError, read_toml
from schemas.codes import ACTOR_CODES, ISO_639_1, not_a_country, partner_pair
from schemas.records import ANNOUNCEMENT_TYPES
from warehouse import watch
from warehouse.db import now, transaction
from warehouse.watch import NAME, Watchlist, feeds_folder

log = logging.getLogger("socwatch.watch")
EVENT = "socwatch.watch.hits"
SIGNATURE_HEADER = "X-Socwatch-Signature"
DELIVERY_HEADER = "X-Socwatch-Delivery"
FEED_ENTRIES = 50  # entries of a watchlist's Atom feed: its latest hits
MAX_ATTEMPTS = 30  # a webhook delivery is given up after this many attempts, over all runs
MAX_DUE = 20  # deliveries of one watchlist and channel tried per run (the oldest first)
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")  # used with fullmatch
FILE_KEYS = {"name", "themes", "countries", "partners", "types", "languages", "sources", "bilateral", "query", "feed",
             "webhook", "secret_env"}


# ----------------------------------------------------------------------------------------------
# Making a watchlist: every field checked, the culprit named.

def make(name: str, *, themes: Sequence[str] = (), countries: Sequence[str] = (), partners: Sequence[str] = (),
         types: Sequence[str] = (), languages: Sequence[str] = (), sources: Sequence[str] = (), bilateral: bool = False,
         query: str | None = None, feed: bool = True, webhook: str | None = None, secret_env: str | None = None,
         origin: str = "cli", known_themes: Sequence[str] = (), label: Callable[[str], str] = lambda f: f"--{f}") -> Watchlist:
    """A checked Watchlist; a ConfigError naming the field (`label(field)`) otherwise."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ConfigError(f"{label('name')}: {name!r} is not a watchlist name (lower-case letters, digits and dashes, "
                          "at most 63, starting with a letter or digit)")
    unknown = sorted(set(themes) - set(known_themes))
    if unknown:
        raise ConfigError(f"{label('theme')}: unknown theme(s) {', '.join(map(repr, unknown))}; themes: {', '.join(sorted(known_themes))}")
    countries = tuple(c.strip().upper() for c in countries)
    if bad := [c for c in countries if c not in ACTOR_CODES]:
        raise ConfigError(f"{label('country')}: {', '.join(map(repr, bad))} {not_a_country(bad)}")
    pairs = []
    for pair in partners:
        try:
            pairs.append(partner_pair(pair))
        except ValueError as exc:
            raise ConfigError(f"{label('partners')}: {exc}") from None
    if bad := [t for t in types if t not in ANNOUNCEMENT_TYPES]:
        raise ConfigError(f"{label('type')}: unknown type(s) {', '.join(map(repr, bad))}; types: {', '.join(ANNOUNCEMENT_TYPES)}")
    languages = tuple(lang.strip().lower() for lang in languages)
    if bad := [lang for lang in languages if lang not in ISO_639_1]:
        raise ConfigError(f"{label('language')}: {', '.join(map(repr, bad))} not a language code (ISO 639-1)")
    terms: tuple[str, ...] = ()
    if query is not None:
        query = " ".join(query.split())
        with duckdb.connect() as scratch:  # stems by the fts extension's stemmer, as the warehouse matches them
            terms = watch.query_terms(scratch, query)
        if not terms:
            raise ConfigError(f"{label('query')}: {query!r} has no word to look for (letters; every word must appear)")
    if webhook is not None:
        parts = urlsplit(webhook)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{label('webhook')}: {webhook!r} is not an http(s) URL")
        if secret_env is None:
            raise ConfigError(f"{label('secret-env')}: a webhook needs the name of the environment variable that holds "
                              "its signing secret")
    if secret_env is not None:
        if not _ENV_NAME.fullmatch(secret_env):
            raise ConfigError(f"{label('secret-env')}: {secret_env!r} is not an environment variable name (the name, "
                              "never the secret)")
        if webhook is None:
            raise ConfigError(f"{label('secret-env')}: given without a webhook")
    return Watchlist(name, tuple(dict.fromkeys(themes)), tuple(dict.fromkeys(countries)), tuple(dict.fromkeys(pairs)),
                     tuple(dict.fromkeys(types)), tuple(dict.fromkeys(languages)), tuple(dict.fromkeys(sources)),
                     bool(bilateral), query, terms, bool(feed), webhook, secret_env, origin)


def load_file(path: Path | str, known_themes: Sequence[str], known_sources: Sequence[str] | None = None) -> list[Watchlist]:
    """The watchlists a file declares ([[watchlists]] entries), checked whole (their sources
    against `known_sources`, the sources file's names, where given)."""
    path = Path(path)
    data = read_toml(path, "watchlists file")
    if set(data) - {"watchlists"}:
        raise ConfigError(f"{path}: unknown top-level key(s) {sorted(set(data) - {'watchlists'})}; expected [[watchlists]] entries")
    entries = data.get("watchlists", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: watchlists must be [[watchlists]] entries")
    out, seen = [], set()
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: [[watchlists]] entry {number}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be a table")
        name = entry.get("name")
        where = f"{where} ({name})" if isinstance(name, str) else where
        if unknown := sorted(set(entry) - FILE_KEYS):
            raise ConfigError(f"{where}: unknown key(s) {unknown}; known: {sorted(FILE_KEYS)}")
        keys = {"theme": "themes", "country": "countries", "type": "types", "language": "languages"}  # option -> key
        for key in ("themes", "countries", "partners", "types", "languages", "sources"):
            value = entry.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: {key} must be a list of strings")
        for key in ("bilateral", "feed"):
            if not isinstance(entry.get(key, key == "feed"), bool):
                raise ConfigError(f"{where}: {key} must be true or false")
        for key in ("query", "webhook", "secret_env"):
            if key in entry and not isinstance(entry[key], str):
                raise ConfigError(f"{where}: {key} must be a string")
        watchlist = make(name, themes=entry.get("themes", []), countries=entry.get("countries", []),
                         partners=entry.get("partners", []), types=entry.get("types", []),
                         languages=entry.get("languages", []), sources=entry.get("sources", []),
                         bilateral=entry.get("bilateral", False), query=entry.get("query"), feed=entry.get("feed", True),
                         webhook=entry.get("webhook"), secret_env=entry.get("secret_env"), origin=str(path.resolve()),
                         known_themes=known_themes,
                         label=lambda f, where=where: f"{where}: {keys.get(f, f).replace('-', '_')}")
        if known_sources is not None and (unknown := sorted(set(watchlist.sources) - set(known_sources))):
            raise ConfigError(f"{where}: sources: unknown source(s) {', '.join(map(repr, unknown))}; "
                              f"the sources file has {', '.join(sorted(known_sources))}")
        if watchlist.name in seen:
            raise ConfigError(f"{where}: a second watchlist named {watchlist.name!r}")
        seen.add(watchlist.name)
        out.append(watchlist)
    return out


# ----------------------------------------------------------------------------------------------
# Delivery after a run.

@dataclass(frozen=True)
class DeliveryOptions:
    feeds: str | None = "feeds"  # the folder of the Atom files (one per watchlist); None: no feeds
    timeout_s: float = 10.0  # a webhook attempt's time limit for each of connect, send and the answer's headers
    attempts: int = 3  # webhook attempts per run, with backoff between them
    backoff_s: float = 1.0  # the first wait; doubled after each failed attempt
    prefect_events: bool = True  # emit socwatch.watch.hits events (when a Prefect API is there)
    deadline_s: float = 120.0  # a run spends at most this long on webhooks (it holds the warehouse meanwhile)


def delivery_id(watchlist: str, run_id: str, channel: str) -> str:
    return hashlib.sha256(f"{watchlist}\x1f{run_id}\x1f{channel}".encode()).hexdigest()[:32]


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: sha256= and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(con: duckdb.DuckDBPyConnection, run_id: str, options: DeliveryOptions = DeliveryOptions(),
            emit: Callable[..., object] | None = None) -> dict[str, int]:
    """Deliver what is due after run `run_id`: the feeds older than their newest hit, then
    every webhook and Prefect event not yet delivered, oldest run first. Never raises for a
    delivery that fails: it is recorded and due again next run. A channel that fails is not
    tried again in the same run, and webhooks stop at the run's deadline (the rest wait for
    the next run). `emit`: prefect.events.emit_event, or None for no events."""
    counts = {"hits": 0, "feeds": 0, "delivered": 0, "failed": 0}
    lists = watch.watchlists(con)
    if not lists:
        return counts
    counts["hits"] = con.execute("SELECT count(*) FROM watch_hits WHERE run_id = ?", [run_id]).fetchone()[0]
    newest = dict(con.execute("SELECT watchlist, max(found_at) FROM watch_hits GROUP BY 1").fetchall())
    deadline = time.monotonic() + options.deadline_s
    for w in lists:
        changed = max(filter(None, (newest.get(w.name), w.created_at)), default=None)
        feed = Path(options.feeds) / f"{w.name}.atom" if w.feed and options.feeds is not None else None
        if feed is not None and _feed_is_stale(feed, changed):
            try:
                write_feed(feed, w, watch.hits(con, w.name, limit=FEED_ENTRIES))
                counts["feeds"] += 1
            except OSError as exc:  # written again at the next run: the file stays older than the hits
                log.warning("watchlist=%s feed not written: %s", w.name, exc.strerror or exc)
        channels = (["webhook"] if w.webhook_url else []) + (["prefect_event"] if emit is not None and options.prefect_events else [])
        for channel in channels:
            for due_run, n_hits in _due(con, w, channel):
                if channel == "webhook" and time.monotonic() > deadline:
                    log.warning("watchlist=%s webhook: the run's delivery time (%.0f s) is spent; the rest is due next run",
                                w.name, options.deadline_s)
                    break
                ok = (_post if channel == "webhook" else _emit)(con, w, due_run, n_hits, options, emit)
                if ok is None:  # no such channel here (no Prefect API to send events to)
                    break
                counts["delivered" if ok else "failed"] += 1
                if not ok:
                    break  # the next run tries again, oldest first
    return counts


def _feed_is_stale(path: Path, changed: datetime | None) -> bool:
    """Whether a feed file is missing or older than its watchlist's newest hit or filter (a run
    killed after its load, a write that failed, a new filter)."""
    try:
        written = path.stat().st_mtime
    except OSError:
        return True
    return changed is not None and changed.timestamp() >= written


def _due(con: duckdb.DuckDBPyConnection, w: Watchlist, channel: str) -> list[tuple[str, int]]:
    """Runs with hits of `w` (found since it was made or changed) not yet delivered on `channel`."""
    return con.execute(
        "SELECT h.run_id, count(*) FROM watch_hits h WHERE h.watchlist = $w AND h.run_id IS NOT NULL AND h.found_at >= $since "
        "AND NOT EXISTS (SELECT 1 FROM watch_deliveries d WHERE d.watchlist = h.watchlist AND d.run_id = h.run_id "
        "AND d.channel = $channel AND (d.status = 'delivered' OR d.attempts >= $max)) "
        "GROUP BY h.run_id ORDER BY min(h.found_at), h.run_id LIMIT $due",
        {"w": w.name, "since": w.created_at, "channel": channel, "max": MAX_ATTEMPTS, "due": MAX_DUE}).fetchall()


def _record(con: duckdb.DuckDBPyConnection, w: Watchlist, run_id: str, channel: str, n_hits: int, status: str,
            attempts: int, http_status: int | None, error: str | None, started: datetime) -> None:
    key = delivery_id(w.name, run_id, channel)
    with transaction(con):
        con.execute(
            "INSERT INTO watch_deliveries VALUES ($id, $w, $run, $channel, $hits, $status, $attempts, $code, $error, $start, $end) "
            "ON CONFLICT (delivery_id) DO UPDATE SET hits = excluded.hits, status = excluded.status, "
            "attempts = watch_deliveries.attempts + excluded.attempts, http_status = excluded.http_status, "
            "error = excluded.error, last_attempt_at = excluded.last_attempt_at",
            {"id": key, "w": w.name, "run": run_id, "channel": channel, "hits": n_hits, "status": status, "attempts": attempts,
             "code": http_status, "error": error, "start": started, "end": now()})


def payload(con: duckdb.DuckDBPyConnection, w: Watchlist, run_id: str, key: str) -> dict:
    """What a webhook and an event carry: the delivery's key, the watchlist, the run and its hits."""
    found = watch.hits(con, w.name, run_id=run_id, limit=10_000)
    return {
        "delivery_id": key, "watchlist": w.name, "filter": w.describe(), "run_id": run_id, "hits": [
            {"article_id": h.article_id, "title": h.title, "url": h.url, "source": h.source, "language": h.language,
             "published_at": h.published_at.isoformat() if h.published_at else None, "type": h.type,
             "themes": h.themes, "partners": h.partners, "countries": h.countries, "reasons": h.reasons,
             "found_at": h.found_at.isoformat()} for h in found]}


def _post(con, w: Watchlist, run_id: str, n_hits: int, options: DeliveryOptions, _emit) -> bool:
    key = delivery_id(w.name, run_id, "webhook")
    started = now()
    secret = os.environ.get(w.secret_env or "")
    if not secret:
        _record(con, w, run_id, "webhook", n_hits, "failed", 1, None,
                f"the environment variable {w.secret_env} (the webhook's secret) is not set: not sent", started)
        log.warning("watchlist=%s webhook not sent: %s is not set", w.name, w.secret_env)
        return False
    body = json.dumps(payload(con, w, run_id, key), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, SIGNATURE_HEADER: sign(secret, body),
               DELIVERY_HEADER: key, "Idempotency-Key": key}
    code, error, attempts, wait = None, None, 0, options.backoff_s
    with httpx.Client(timeout=options.timeout_s, follow_redirects=False, trust_env=False) as client:
        for attempt in range(max(1, options.attempts)):
            if attempt:
                time.sleep(wait)
                wait *= 2
            attempts += 1
            try:
                # The status is all we need: the answer's body is never read (a receiver that
                # trickles one cannot hold the run beyond the time limits).
                with client.stream("POST", w.webhook_url, content=body, headers=headers) as response:
                    code, error = response.status_code, None if response.is_success else f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                code, error = None, f"{type(exc).__name__}: {exc}"[:300]
            if error is None or (code is not None and 400 <= code < 500 and code not in (408, 429)):
                break  # delivered, or refused for good this run: a 4xx is not retried until the next run
    status = "delivered" if error is None else "failed"
    _record(con, w, run_id, "webhook", n_hits, status, attempts, code, error, started)
    log.log(logging.INFO if error is None else logging.WARNING, "watchlist=%s webhook %s hits=%d attempts=%d%s",
            w.name, status, n_hits, attempts, f" error={error}" if error else "")
    return error is None


def _emit(con, w: Watchlist, run_id: str, n_hits: int, options: DeliveryOptions, emit) -> bool | None:
    key = delivery_id(w.name, run_id, "prefect_event")
    started = now()
    body = payload(con, w, run_id, key)
    try:
        event = emit(event=EVENT, resource={"prefect.resource.id": f"socwatch.watchlist.{w.name}",
                                            "prefect.resource.name": w.name},
                     payload={**body, "hits": body["hits"][:100], "count": n_hits},
                     id=uuid.uuid5(uuid.NAMESPACE_URL, f"socwatch:{key}"))
        if event is None:  # no Prefect API configured: there is no such channel to deliver to
            return None
        error = None
    except Exception as exc:  # an events client that cannot take it: the run goes on, the event is due again
        error = f"{type(exc).__name__}: {exc}"[:300]
    # "delivered": handed to Prefect's events client, which sends it on (and may drop it if its
    # API is gone by then); the event's id is the delivery's, so a repeat is the same event.
    _record(con, w, run_id, "prefect_event", n_hits, "delivered" if error is None else "failed", 1, None, error, started)
    return error is None


# ----------------------------------------------------------------------------------------------
# Atom.

ATOM = "http://www.w3.org/2005/Atom"


_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    """Text without the characters XML 1.0 cannot hold (a stray control character in a title)."""
    return _NOT_XML.sub("", text)


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def feed_xml(w: Watchlist, found: Sequence[watch.Hit]) -> bytes:
    """An Atom 1.0 document of a watchlist's hits."""
    ET.register_namespace("", ATOM)

    def sub(parent, tag: str, text: str | None = None, **attrs) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: _xml_safe(v) for k, v in attrs.items()})
        if text is not None:
            element.text = _xml_safe(text)
        return element

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", f"urn:socwatch:watchlist:{w.name}")
    sub(feed, "title", f"socwatch watchlist {w.name}")
    sub(feed, "subtitle", w.describe())
    sub(feed, "updated", _stamp(max((h.found_at for h in found), default=w.created_at or now())))
    sub(sub(feed, "author"), "name", "socwatch")
    sub(feed, "generator", "socwatch")
    for h in found:
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:socwatch:article:{h.article_id}")
        sub(entry, "title", h.title or h.url)
        sub(entry, "link", href=h.url, rel="alternate")
        sub(entry, "updated", _stamp(h.found_at))
        if h.published_at:
            sub(entry, "published", _stamp(h.published_at))
        sub(sub(entry, "author"), "name", h.source)
        parts = [f"Themes: {', '.join(h.themes) or 'none'}.", f"Partners: {', '.join(h.partners) or 'none'}.",
                 f"Countries: {', '.join(h.countries) or 'none'}.", f"Type: {h.type}.",
                 f"Matched: {'; '.join(h.reasons) or 'every announcement'}."]
        sub(entry, "summary", " ".join(parts), type="text")
        for theme in h.themes:
            sub(entry, "category", term=theme)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def write_feed(path: Path, w: Watchlist, found: Sequence[watch.Hit]) -> None:
    """Write the feed beside its final name, then move it there: a reader sees the old or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(feed_xml(w, found))
        os.chmod(partial, 0o644)  # a feed is for readers (a web server, another user's feed reader)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def with_feeds(options: DeliveryOptions, db: Path | str) -> DeliveryOptions:
    return options if options.feeds is None else replace(options, feeds=str(feeds_folder(options.feeds, db)))


async def deliver_after(con: duckdb.DuckDBPyConnection, run_id: str, options: DeliveryOptions, db: Path | str, logger) -> None:
    """A run's delivery step: never fails the run (what did not go out is due again next run)."""
    try:
        counts = await asyncio.to_thread(deliver, con, run_id, with_feeds(options, db), emit_event)
    except Exception as exc:  # a bug or a warehouse error in delivery: the run's data is stored, delivery is due again
        logger.warning("run=%s watch delivery failed: %s: %s", run_id[:8], type(exc).__name__, exc)
        return
    if any(counts.values()):
        logger.info("run=%s watch hits=%d feeds=%d delivered=%d failed=%d", run_id[:8], counts["hits"], counts["feeds"],
                    counts["delivered"], counts["failed"])
