"""HTTP at the edge: one shared httpx.AsyncClient, per-host politeness, hard limits.

Every fetch ends in a `Fetched` record with exactly one status; nothing here raises for a
bad server. The transport is pluggable: the live network, or a WARC archive (`--replay`).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

import httpx

from flows.warc import WarcRecorder
from schemas.records import Fetched, Source, Status
from transforms.urls import canonical_url, url_host

PROJECT_URL = "https://github.com/socwatch/socwatch"
USER_AGENT = os.environ.get("SOCWATCH_USER_AGENT") or f"socwatch/0.1 (+{PROJECT_URL})"
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("xml", "rss", "atom", "json", "text/plain")  # substrings of feed content types


@dataclass(frozen=True)
class FetchSettings:
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0
    total_timeout_s: float = 60.0  # the whole exchange, redirects included
    max_bytes: int = 10 * 1024 * 1024  # decoded body cap
    max_redirects: int = 5
    polite: bool = True  # False when replaying: no server to be polite to


class HostGate:
    """At most `concurrency` requests in flight to one host, starts at least `delay_s` apart."""

    def __init__(self, concurrency: int, delay_s: float):
        self.semaphore = asyncio.Semaphore(concurrency)
        self.delay_s = delay_s
        self._lock = asyncio.Lock()
        self._next = 0.0

    async def __aenter__(self) -> HostGate:
        await self.semaphore.acquire()
        if self.delay_s > 0:
            async with self._lock:
                wait = self._next - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._next = time.monotonic() + self.delay_s
        return self

    async def __aexit__(self, *exc) -> None:
        self.semaphore.release()


class Fetcher:
    """Fetches URLs for sources; create one per run, use it as an async context manager."""

    def __init__(self, sources: Iterable[Source], settings: FetchSettings = FetchSettings(),
                 transport: httpx.AsyncBaseTransport | None = None, recorder: WarcRecorder | None = None):
        self.settings = settings
        self.recorder = recorder
        self._gates: dict[str, HostGate] = {}
        limits: dict[str, tuple[int, float]] = {}
        for source in sources:
            for host in source.allowed_hosts:
                conc, delay = limits.get(host, (source.max_concurrency, source.min_delay_s))
                # Hosts shared by several sources get the strictest of their settings.
                limits[host] = (min(conc, source.max_concurrency), max(delay, source.min_delay_s))
        for host, (conc, delay) in limits.items():
            self._gates[host] = HostGate(conc, delay if settings.polite else 0.0)
        self.client = httpx.AsyncClient(
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.aclose()

    def _gate(self, host: str) -> HostGate:
        gate = self._gates.get(host)
        if gate is None:
            gate = self._gates[host] = HostGate(2, 1.0 if self.settings.polite else 0.0)
        return gate

    async def fetch(self, url: str, source: Source, expect: str = "html") -> Fetched:
        """GET `url` for `source`; `expect` is 'html' for pages or 'feed' for discovery URLs.

        The whole-exchange timeout counts time spent talking to servers, redirects included,
        not time spent queueing for a turn at a busy host.
        """
        started = time.monotonic()
        budget = self.settings.total_timeout_s
        current = url

        def outcome(status: Status, **fields) -> Fetched:
            return Fetched(source=source.name, url=url, status=status, final_url=current, fetched_at=datetime.now(UTC),
                           elapsed_ms=int((time.monotonic() - started) * 1000), **fields)

        for _hop in range(self.settings.max_redirects + 1):
            host = url_host(current)
            if not current.lower().startswith(("http://", "https://")) or host is None:
                return outcome(Status.BLOCKED_HOST, error="not an http(s) URL")
            if host not in source.allowed_hosts:
                return outcome(Status.BLOCKED_HOST, error=f"host {host} is not allowed for source {source.name}")
            try:
                async with self._gate(host):
                    asked = time.monotonic()
                    status, headers, body = await asyncio.wait_for(self._get(current), budget)
                    budget -= time.monotonic() - asked
            except (TimeoutError, httpx.TimeoutException) as exc:
                return outcome(Status.TIMEOUT, error=f"no complete answer in time ({type(exc).__name__})")
            except _TooLarge as exc:
                return outcome(Status.TOO_LARGE, http_status=exc.status, error=f"body over {self.settings.max_bytes} bytes")
            except (httpx.HTTPError, OSError) as exc:
                return outcome(Status.CONNECTION_ERROR, error=f"{type(exc).__name__}: {str(exc)[:160]}")
            if status in (301, 302, 303, 307, 308) and headers.get("location"):
                current = canonical_url(urljoin(current, headers["location"]))
                continue
            content_type = headers.get("content-type")
            common = dict(http_status=status, content_type=content_type, etag=headers.get("etag"),
                          last_modified=headers.get("last-modified"))
            if status == 304:
                return outcome(Status.NOT_MODIFIED, **common)
            if not 200 <= status < 300:
                return outcome(Status.HTTP_ERROR, error=f"HTTP {status}", **common)
            mime = (content_type or "").split(";")[0].strip().lower()
            if expect == "html" and mime and mime not in HTML_TYPES:
                return outcome(Status.NOT_HTML, error=f"content type {mime}", **common)
            if expect == "feed" and mime and mime not in HTML_TYPES and not any(t in mime for t in FEED_TYPES):
                return outcome(Status.NOT_HTML, error=f"content type {mime} is not a feed", **common)
            return outcome(Status.FETCHED, body=body, **common)
        return outcome(Status.TOO_MANY_REDIRECTS, error=f"more than {self.settings.max_redirects} redirects")

    async def _get(self, url: str) -> tuple[int, httpx.Headers, bytes]:
        async with self.client.stream("GET", url) as response:
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.settings.max_bytes:
                    raise _TooLarge(response.status_code)
                chunks.append(chunk)
            body = b"".join(chunks)
            if self.recorder is not None:
                self.recorder.write_response(url, response.status_code, response.reason_phrase,
                                             response.headers, body, response.http_version)
            return response.status_code, response.headers, body


class _TooLarge(Exception):
    def __init__(self, status: int):
        self.status = status
