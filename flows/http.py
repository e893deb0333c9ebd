"""HTTP at the edge: one shared httpx.AsyncClient, per-host politeness, hard limits.

Every fetch ends in a `Fetched` record with exactly one status; nothing here raises for a
bad server. What a fetch goes through, in order:

1. the URL must be http(s) and its host one of the source's allowed hosts (`blocked_host`);
2. robots.txt of the host allows it (`robots_disallowed`; read once per host per run);
3. a turn at the host: at most `max_concurrency` requests in flight, starts at least
   `min_delay_s` apart (robots.txt `Crawl-delay` wins when larger);
4. the host must resolve to public addresses, unless the source lists it explicitly
   (`blocked_host`): checked at connect time, and the vetted address is the one connected to;
5. the answer: conditional GET (ETag / Last-Modified) may give `not_modified`; connection
   errors, 429 and 5xx are retried with exponential backoff and jitter, honouring
   Retry-After, bounded in count and in time; the body is streamed and cut at a size cap
   on the wire and after decompression (`too_large`); redirects are followed by hand, each
   hop checked again, up to a limit (`too_many_redirects`);
6. the whole exchange has a deadline (`timeout`), queueing for a turn not included.

The transport is pluggable: the live network, or a WARC archive (`--replay`).
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import random
import socket
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import anyio
import httpcore
import httpx
from protego import Protego

from flows.warc import WarcRecorder
from schemas.records import Fetched, Source, Status
from transforms.errors import internal_error
from transforms.urls import canonical_url, url_host

PROJECT_URL = "https://github.com/socwatch/socwatch"
_JITTER = random.Random()  # backoff jitter: our own, so a fetch never moves the global random state
USER_AGENT = f"socwatch/0.1 (+{PROJECT_URL})"
ROBOTS_AGENT = "socwatch"  # the token robots.txt rules are matched against
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("xml", "rss", "atom", "json", "text/plain")  # substrings of feed content types
JSON_TYPES = ("json",)
SITEMAP_TYPES = ("xml", "gzip", "octet-stream", "text/plain")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class FetchSettings:
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0
    total_timeout_s: float = 60.0  # the whole exchange, redirects and retries included
    max_bytes: int = 10 * 1024 * 1024  # body cap, on the wire and after decompression
    max_redirects: int = 5
    max_retries: int = 3  # for connection errors, 429 and 5xx
    retry_base_s: float = 1.0  # backoff: base * 2**attempt, plus up to 100% jitter
    max_retry_after_s: float = 120.0  # a longer Retry-After gives up on the URL for this run
    robots: bool = True  # read and obey robots.txt
    max_crawl_delay_s: float = 30.0  # a larger Crawl-delay is capped (and the cap is logged in the error)
    polite: bool = True  # False when replaying: no server to be polite to


class HostGate:
    """At most `concurrency` requests in flight to one host, starts at least `delay_s` apart."""

    def __init__(self, concurrency: int, delay_s: float):
        self.semaphore = asyncio.Semaphore(concurrency)
        self.delay_s = delay_s
        self._lock = asyncio.Lock()
        self._next = 0.0

    def pause(self, seconds: float) -> None:
        """Hold every request to this host back for `seconds` (a 429 or 503 with Retry-After)."""
        self._next = max(self._next, time.monotonic() + seconds)

    async def __aenter__(self) -> HostGate:
        await self.semaphore.acquire()
        try:
            async with self._lock:
                wait = self._next - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._next = time.monotonic() + self.delay_s
        except BaseException:
            self.semaphore.release()
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        self.semaphore.release()


class Deadline:
    """The time limit of one URL's exchange. It does not run while the URL waits for its turn
    (the host's gate, its robots.txt read by another URL): a busy host with a crawl delay
    makes URLs queue, and queueing is no sign the server is slow."""

    def __init__(self, seconds: float):
        self._at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._at - time.monotonic()

    def waited_since(self, since: float) -> None:
        """Give back the time from `since` to now, spent waiting for a turn."""
        self._at += time.monotonic() - since


class BlockedAddress(Exception):
    """A host that resolves to an address that is not public, and is not listed explicitly."""


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global


class _PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """Resolves, vets and then connects to the vetted address (no second look-up to rebind)."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend, listed_hosts: frozenset[str]):
        self.inner = inner
        self.listed_hosts = listed_hosts

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        name = host.decode() if isinstance(host, bytes) else host
        infos = await anyio.getaddrinfo(name, port, type=socket.SOCK_STREAM)
        addresses = [info[4][0] for info in infos]
        if not addresses:
            raise httpcore.ConnectError(f"{name} does not resolve")
        if name.lower() not in self.listed_hosts:
            private = [a for a in addresses if not is_public(a)]
            if private:
                raise BlockedAddress(f"{name} resolves to a non-public address ({private[0]}); list it in allowed_hosts to allow it")
        return await self.inner.connect_tcp(addresses[0], port, timeout=timeout, local_address=local_address,
                                            socket_options=socket_options)

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise BlockedAddress("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_transport(listed_hosts: Iterable[str]) -> httpx.AsyncHTTPTransport:
    """The live transport, with the public-address check in its connection pool."""
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))
    pool = transport._pool  # httpx exposes no way to pass a network backend
    if not hasattr(pool, "_network_backend"):
        raise RuntimeError("this httpcore version has no _network_backend: update flows/http.py")
    pool._network_backend = _PublicOnlyBackend(pool._network_backend, frozenset(h.lower() for h in listed_hosts))
    return transport


def retry_after_s(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _TooLarge(Exception):
    def __init__(self, status: int):
        self.status = status


class _Inflater:
    """Decodes a gzip or deflate body as it streams, never producing more than `limit` bytes
    in all: a decompression bomb stops at the cap instead of filling memory first."""

    def __init__(self, encoding: str | None, limit: int, status: int):
        self.limit, self.status, self.produced = limit, status, 0
        # As httpx does: tokens it cannot decode ("identity", "none", "UTF-8", ...) are skipped.
        # Only one coding is applied; we never ask for more than gzip or deflate.
        names = [n.strip().lower() for n in (encoding or "").split(",")]
        name = next((n for n in reversed(names) if n in ("gzip", "x-gzip", "deflate")), "identity")
        if name in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif name == "deflate":
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            self._zlib = None
        self._raw_deflate = name == "deflate"

    def _count(self, data: bytes) -> bytes:
        self.produced += len(data)
        if self.produced > self.limit:
            raise _TooLarge(self.status)
        return data

    def feed(self, data: bytes) -> bytes:
        if self._zlib is None:
            return self._count(data)
        try:
            out = self._zlib.decompress(data, self.limit - self.produced + 1)
        except zlib.error:
            if not (self._raw_deflate and self.produced == 0):
                raise httpx.DecodingError("body does not decode") from None
            self._zlib, self._raw_deflate = zlib.decompressobj(-zlib.MAX_WBITS), False  # raw deflate, no header
            return self.feed(data)
        if self._zlib.unconsumed_tail:
            raise _TooLarge(self.status)
        return self._count(out)

    def flush(self) -> bytes:
        return self._count(self._zlib.flush()) if self._zlib is not None else b""


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: httpx.Headers
    body: bytes


class Fetcher:
    """Fetches URLs for sources; create one per run, use it as an async context manager."""

    def __init__(self, sources: Iterable[Source], settings: FetchSettings = FetchSettings(),
                 transport: httpx.AsyncBaseTransport | None = None, recorder: WarcRecorder | None = None):
        sources = list(sources)
        self.settings = settings
        self.recorder = recorder
        # (ETag, Last-Modified) of copies we hold, by canonical URL: sent as a conditional GET.
        self.validators: dict[str, tuple[str | None, str | None]] = {}
        self._gates: dict[str, HostGate] = {}
        self._robots: dict[str, Protego | None] = {}  # origin -> rules (None: allow all)
        self._robots_errors: dict[str, tuple[Status, str]] = {}  # origin -> why nothing may be fetched
        self._robots_locks: dict[str, asyncio.Lock] = {}
        limits: dict[str, tuple[int, float]] = {}
        for source in sources:
            for host in source.allowed_hosts:
                conc, delay = limits.get(host, (source.max_concurrency, source.min_delay_s))
                # Hosts shared by several sources get the strictest of their settings.
                limits[host] = (min(conc, source.max_concurrency), max(delay, source.min_delay_s))
        for host, (conc, delay) in limits.items():
            self._gates[host] = HostGate(conc, delay if settings.polite else 0.0)
        if transport is None:
            transport = guarded_transport(h for s in sources for h in s.listed_hosts)
        self.client = httpx.AsyncClient(
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s),
            follow_redirects=False,
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.aclose()

    def host_delays(self) -> dict[str, float]:
        """The delay between requests per host, Crawl-delays learnt from robots.txt included."""
        return {host: gate.delay_s for host, gate in self._gates.items()}

    def hold_hosts(self, delays: dict[str, float] | None = None) -> None:
        """Take on delays learnt elsewhere (`host_delays` of the run's own fetcher), and make
        the first request to each host wait its delay, as if one had just been made (a batch
        that follows another batch of the same host, on another machine)."""
        for host, delay in (delays or {}).items():
            gate = self._gate(host)
            gate.delay_s = max(gate.delay_s, delay if self.settings.polite else 0.0)
        for gate in self._gates.values():
            gate.pause(gate.delay_s)

    def _gate(self, host: str) -> HostGate:
        gate = self._gates.get(host)
        if gate is None:
            gate = self._gates[host] = HostGate(2, 1.0 if self.settings.polite else 0.0)
        return gate

    async def fetch(self, url: str, source: Source, expect: str = "html", conditional: bool = True) -> Fetched:
        """GET `url` for `source`. `expect`: 'html' for pages, 'feed' for feeds and XML APIs,
        'json' for JSON APIs, 'sitemap' for sitemaps. A URL with stored validators is asked
        for conditionally (unless `conditional` is False: the body is needed whatever it is)."""
        try:
            return await self._fetch(url, source, expect, conditional)
        except Exception as exc:  # a bug must cost one URL, not the run: record it and go on
            return Fetched(source=source.name, url=url, status=Status.INTERNAL_ERROR, fetched_at=datetime.now(UTC),
                           error=internal_error(exc))

    async def _fetch(self, url: str, source: Source, expect: str, conditional: bool = True) -> Fetched:
        started = time.monotonic()
        deadline = Deadline(self.settings.total_timeout_s)
        current = url
        notes: list[str] = []

        def outcome(status: Status, **fields) -> Fetched:
            if notes and "error" not in fields:
                fields["error"] = "; ".join(notes)
            return Fetched(source=source.name, url=url, status=status, final_url=current, fetched_at=datetime.now(UTC),
                           elapsed_ms=int((time.monotonic() - started) * 1000), cache_url=url, **fields)

        for _hop in range(self.settings.max_redirects + 1):
            host = url_host(current)
            if not current.lower().startswith(("http://", "https://")) or host is None:
                scheme = current.split(":", 1)[0].lower() if ":" in current else ""
                return outcome(Status.BLOCKED_SCHEME, error=f"a {scheme}: link, not http(s)" if scheme.isalpha()
                               else "not an http(s) URL")
            if host not in source.allowed_hosts:
                return outcome(Status.BLOCKED_HOST, error=f"host {host} is not allowed for source {source.name}")
            if self.settings.robots:
                asked = time.monotonic()
                refusal = await self._robots_refusal(current, host)
                deadline.waited_since(asked)
                if refusal:
                    return outcome(refusal[0], error=refusal[1])
            headers = {}
            if conditional and current == url and url in self.validators:
                etag, modified = self.validators[url]
                if etag:
                    headers["If-None-Match"] = etag
                if modified:
                    headers["If-Modified-Since"] = modified
            try:
                answer = await self._exchange(current, host, headers, deadline, notes)
            except (TimeoutError, httpx.TimeoutException) as exc:
                return outcome(Status.TIMEOUT, error=f"no complete answer in time ({type(exc).__name__})")
            except _TooLarge as exc:
                return outcome(Status.TOO_LARGE, http_status=exc.status, error=f"body over {self.settings.max_bytes} bytes")
            except BlockedAddress as exc:
                return outcome(Status.BLOCKED_HOST, error=str(exc))
            except (httpx.HTTPError, OSError) as exc:
                return outcome(Status.CONNECTION_ERROR, error=f"{type(exc).__name__}: {str(exc)[:160]}")
            if answer.status in REDIRECT_STATUSES and answer.headers.get("location"):
                current = canonical_url(urljoin(current, answer.headers["location"]))
                continue
            return self._judge(answer, expect, outcome)
        return outcome(Status.TOO_MANY_REDIRECTS, error=f"more than {self.settings.max_redirects} redirects")

    def _judge(self, answer: _Answer, expect: str, outcome) -> Fetched:
        content_type = answer.headers.get("content-type")
        common = dict(http_status=answer.status, content_type=content_type, etag=answer.headers.get("etag"),
                      last_modified=answer.headers.get("last-modified"))
        if answer.status == 304:
            return outcome(Status.NOT_MODIFIED, **common)
        if not 200 <= answer.status < 300:
            return outcome(Status.HTTP_ERROR, error=f"HTTP {answer.status}", **common)
        mime = (content_type or "").split(";")[0].strip().lower()
        if mime and mime not in HTML_TYPES:
            if expect == "html":
                return outcome(Status.NOT_HTML, error=f"content type {mime}", **common)
            if expect == "feed" and not any(t in mime for t in FEED_TYPES):
                return outcome(Status.NOT_HTML, error=f"content type {mime} is not a feed", **common)
            if expect == "json" and not any(t in mime for t in JSON_TYPES):
                return outcome(Status.NOT_HTML, error=f"content type {mime} is not JSON", **common)
            if expect == "sitemap" and not any(t in mime for t in SITEMAP_TYPES):
                return outcome(Status.NOT_HTML, error=f"content type {mime} is not a sitemap", **common)
        return outcome(Status.FETCHED, body=answer.body, **common)

    async def _exchange(self, url: str, host: str, headers: dict, deadline: Deadline, notes: list[str]) -> _Answer:
        """One URL, retried on connection errors, 429 and 5xx; raises for what cannot be retried.
        Waiting for the host's turn does not count against the deadline; backing off does."""
        settings = self.settings
        gate = self._gate(host)
        for attempt in range(settings.max_retries + 1):
            last = attempt == settings.max_retries
            try:
                queued = time.monotonic()
                async with gate:
                    deadline.waited_since(queued)
                    remaining = deadline.remaining()
                    if remaining <= 0:
                        raise TimeoutError
                    answer = await asyncio.wait_for(self._get(url, headers), remaining)
            except (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
                if last:
                    raise
                notes.append(f"retried after {type(exc).__name__}")
                await self._backoff(attempt, deadline)
                continue
            if answer.status not in RETRY_STATUSES or last:
                return answer
            wait = retry_after_s(answer.headers.get("retry-after"))
            if wait is not None and wait > settings.max_retry_after_s:
                notes.append(f"Retry-After {wait:.0f} s is over the {settings.max_retry_after_s:.0f} s cap")
                return answer
            notes.append(f"retried after HTTP {answer.status}")
            if wait is not None:
                gate.pause(wait)  # the whole host waits, not just this URL
                if wait > deadline.remaining():
                    return answer
                await asyncio.sleep(wait)
            else:
                await self._backoff(attempt, deadline)
        raise AssertionError("unreachable")

    async def _backoff(self, attempt: int, deadline: Deadline) -> None:
        base = self.settings.retry_base_s * 2**attempt
        delay = base + _JITTER.uniform(0, base)
        if delay >= deadline.remaining():
            raise TimeoutError
        await asyncio.sleep(delay)

    async def _get(self, url: str, headers: dict | None = None) -> _Answer:
        limit = self.settings.max_bytes
        async with self.client.stream("GET", url, headers=headers) as response:
            inflater = _Inflater(response.headers.get("content-encoding"), limit, response.status_code)
            chunks, size = [], 0
            async for raw in response.aiter_raw():
                if response.num_bytes_downloaded > limit:
                    raise _TooLarge(response.status_code)
                chunk = inflater.feed(raw)
                size += len(chunk)
                chunks.append(chunk)
            chunks.append(inflater.flush())
            body = b"".join(chunks)
            if self.recorder is not None:
                self.recorder.write_response(url, response.status_code, response.reason_phrase, response.headers, body,
                                             response.http_version)
            return _Answer(response.status_code, response.headers, body)

    async def _robots_refusal(self, url: str, host: str) -> tuple[Status, str] | None:
        """(status, why) where robots.txt refuses `url` (or the host is refused), else None."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            lock = self._robots_locks.setdefault(origin, asyncio.Lock())
            async with lock:
                if origin not in self._robots:
                    await self._read_robots(origin, host)
        if origin in self._robots_errors:
            return self._robots_errors[origin]
        rules = self._robots[origin]
        if rules is not None and not rules.can_fetch(url, ROBOTS_AGENT):
            return Status.ROBOTS_DISALLOWED, f"robots.txt of {origin} disallows it"
        return None

    async def _read_robots(self, origin: str, host: str) -> None:
        """Read robots.txt once per origin: 4xx means no rules; an unreachable or failing
        robots.txt (5xx, network error) means disallow all, as RFC 9309 asks. A host that
        cannot be reached at all (DNS, refused, timeout) fails its URLs as connection errors
        or timeouts; a 5xx robots.txt skips them as robots_disallowed."""
        rules, error = None, None
        try:
            url, answer = f"{origin}/robots.txt", None
            deadline = Deadline(self.settings.total_timeout_s)
            for _hop in range(6):  # RFC 9309: follow at least five redirects
                answer = await self._exchange(url, url_host(url) or host, {}, deadline, [])
                location = answer.headers.get("location")
                if answer.status not in REDIRECT_STATUSES or not location:
                    break
                url = urljoin(url, location)
                if not url.lower().startswith(("http://", "https://")):
                    break
            if 200 <= answer.status < 300:
                rules = Protego.parse(answer.body[:512 * 1024].decode("utf-8", errors="replace"))
            elif answer.status >= 500:
                error = Status.ROBOTS_DISALLOWED, f"robots.txt of {origin} answered HTTP {answer.status}: nothing fetched from it this run"
        except BlockedAddress as exc:
            error = Status.BLOCKED_HOST, str(exc)
        except (ValueError, httpx.InvalidURL):  # a robots.txt redirect to nowhere: no robots.txt (4xx)
            rules = None
        except (TimeoutError, httpx.TimeoutException) as exc:
            error = Status.TIMEOUT, f"robots.txt of {origin} did not answer in time ({type(exc).__name__}): nothing fetched from it this run"
        except (httpx.HTTPError, OSError) as exc:  # the host cannot be reached at all: a failure, not a policy
            error = Status.CONNECTION_ERROR, f"{origin} unreachable, reading robots.txt ({type(exc).__name__}: {str(exc)[:120]}): nothing fetched from it this run"
        except _TooLarge:
            error = Status.ROBOTS_DISALLOWED, f"robots.txt of {origin} is over the size cap: nothing fetched from it this run"
        except Exception as exc:  # whatever else: read once per origin all the same, and fetch nothing
            error = Status.ROBOTS_DISALLOWED, f"robots.txt of {origin} unreadable ({type(exc).__name__})"
        self._robots[origin] = rules
        if error:
            self._robots_errors[origin] = error
        if rules is not None:
            delay = rules.crawl_delay(ROBOTS_AGENT)
            if delay and self.settings.polite:
                gate = self._gate(host)
                gate.delay_s = max(gate.delay_s, min(float(delay), self.settings.max_crawl_delay_s))
