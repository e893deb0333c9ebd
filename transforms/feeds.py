"""Feed parsing: RSS 0.9x/1.0/2.0, Atom and JSON Feed bytes in, FeedEntry records out.

XML is screened before any parser sees it: a document that declares entities (the
"billion laughs" family, external entities) is refused with `ParseError(UNSAFE_XML)` and is
never expanded. Parsing itself is done by feedparser, which is lenient with the real world
(blank lines before the XML declaration, bad dates, HTML in odd places); a feed it cannot
read at all fails with `ParseError(PARSE_ERROR)` and a message saying why.
"""

from __future__ import annotations

import calendar
import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

import defusedxml.ElementTree as safe_et
import feedparser
from defusedxml import DefusedXmlException
from feedparser.exceptions import CharacterEncodingOverride, NonXMLContentType

from schemas.records import FeedEntry, Status
from transforms.dates import parse_iso
from transforms.urls import canonical_url
from transforms.errors import ParseError

# feedparser must never go to the network or read files: we only hand it bytes.
feedparser.RESOLVE_RELATIVE_URIS = True
feedparser.SANITIZE_HTML = True

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    entries: tuple[FeedEntry, ...]
    warning: str | None = None  # set when the feed was damaged but entries could be read


def parse_feed(data: bytes, *, source: str, feed_url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse feed bytes into entries with canonical URLs (deduplicated, feed order kept)."""
    body = data.lstrip(_BOM).lstrip()
    if not body:
        raise ParseError(Status.PARSE_ERROR, "empty feed body")
    if body[:1] in (b"{", b"[") or (content_type or "").split(";")[0].strip().endswith("json"):
        return _parse_json_feed(body, source=source, feed_url=feed_url)
    _screen_xml(body)
    try:
        parsed = feedparser.parse(
            body,
            response_headers={"content-location": feed_url, "content-type": content_type or "application/xml"},
            sanitize_html=True,
            resolve_relative_uris=True,
        )
    # Unknown encodings, hostile nesting; and feedparser's own slips: a stray </height> or </width>
    # makes it call int(None) (TypeError), &#99999999999999999999; chr() of it (OverflowError).
    except (LookupError, ValueError, RecursionError, TypeError, OverflowError) as exc:
        raise ParseError(Status.PARSE_ERROR, f"not a readable feed: {type(exc).__name__}: {_describe(exc)}") from None
    problem = parsed.get("bozo_exception")
    if isinstance(problem, NonXMLContentType | CharacterEncodingOverride):
        problem = None  # a feed served as text/html, or in another charset than declared: read whole, nothing lost
    if not parsed.entries:
        if problem is not None:
            raise ParseError(Status.PARSE_ERROR, f"not a readable feed: {_describe(problem)}")
        if not parsed.get("version"):
            raise ParseError(Status.PARSE_ERROR, "not a feed (no RSS, Atom or JSON Feed root)")
    entries, skipped = [], 0
    for item in parsed.entries:
        url = _entry_link(item)
        if url is None:
            skipped += 1
            continue
        entries.append(
            FeedEntry(
                source=source,
                url=canonical_url(url),
                title=_clean(item.get("title")),
                # dict.get: FeedParserDict.get("updated_parsed") answers a missing key with
                # published_parsed and a DeprecationWarning (feedparser issue 310).
                published_at=_struct_time(dict.get(item, "published_parsed") or dict.get(item, "updated_parsed")),
                summary=_clean(item.get("summary")),
            )
        )
    if problem is not None and not entries:
        raise ParseError(Status.PARSE_ERROR, f"damaged feed with no readable entry: {_describe(problem)}")
    notes = []
    if problem is not None:
        notes.append(f"feed damaged, read what could be read: {_describe(problem)}")
    if skipped:
        notes.append(f"{skipped} entr{'y' if skipped == 1 else 'ies'} without a link skipped")
    warning = "; ".join(notes) or None
    return ParsedFeed(title=_clean(parsed.feed.get("title")), entries=_dedup(entries), warning=warning)


def _screen_xml(body: bytes) -> None:
    """Refuse XML that declares entities; defusedxml confirms where the document is well formed."""
    if _ENTITY_DECL.search(body):
        raise ParseError(Status.UNSAFE_XML, "feed declares XML entities (refused: entity expansion attack)")
    try:
        safe_et.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ParseError(Status.UNSAFE_XML, f"unsafe XML refused: {type(exc).__name__}") from None
    except (safe_et.ParseError, LookupError, ValueError):
        pass  # malformed (or an unknown encoding) but harmless: feedparser's lenient parser may still read it


def _parse_json_feed(body: bytes, *, source: str, feed_url: str) -> ParsedFeed:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, a 5000-digit number, [[[[...
        raise ParseError(Status.PARSE_ERROR, f"invalid JSON feed: {_describe(exc)}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise ParseError(Status.PARSE_ERROR, "JSON document is not a JSON Feed (no 'items' list)")
    entries = []
    for item in doc["items"]:
        if not isinstance(item, dict):
            continue
        url = item.get("url") or item.get("external_url")
        if not isinstance(url, str) or not url.strip():
            continue
        try:
            url = urljoin(feed_url, url.strip())
        except ValueError:  # a malformed link costs its own entry only
            continue
        entries.append(
            FeedEntry(
                source=source,
                url=canonical_url(url),
                title=_clean(_str(item.get("title"))),
                published_at=parse_iso(item.get("date_published") or item.get("date_modified")),
                summary=_clean(_str(item.get("summary"))),
            )
        )
    return ParsedFeed(title=_clean(_str(doc.get("title"))), entries=_dedup(entries))


def _entry_link(item) -> str | None:
    """The entry's link: the first http(s) one of its link, alternate links and id; else the
    first link of another scheme (file:, javascript:, mailto:), which the fetcher refuses with
    its own status; None where it has no link at all."""
    link = item.get("link")
    candidates = [link] if isinstance(link, str) else []
    candidates += [c.get("href") for c in item.get("links") or () if c.get("rel", "alternate") == "alternate"]
    ident = item.get("id")
    given = [c.strip() for c in candidates if isinstance(c, str) and c.strip()]
    for url in [*given, *([ident.strip()] if isinstance(ident, str) else [])]:
        if url.lower().startswith(("http://", "https://")):
            return url
    other = [url for url in given if _SCHEME.match(url)]
    return other[0][:2048] if other else None


def _dedup(entries: list[FeedEntry]) -> tuple[FeedEntry, ...]:
    seen: dict[str, FeedEntry] = {}
    for entry in entries:
        seen.setdefault(entry.url, entry)
    return tuple(seen.values())


def _struct_time(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None



def _str(value) -> str | None:
    return value if isinstance(value, str) else None


_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")  # a JSON "\ud800" is no character, and could not be stored


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    text = _SPACE.sub(" ", html.unescape(_TAGS.sub(" ", _SURROGATE.sub("\ufffd", value)))).strip()
    return text or None


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown problem"
    text = str(exc).strip() or type(exc).__name__
    return text[:200]
