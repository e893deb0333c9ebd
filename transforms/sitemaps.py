"""Sitemaps: urlset (news sitemaps included) and sitemap indexes, plain or gzipped.

Bytes in, entries and child sitemaps out; XML through defusedxml; a gzipped sitemap is
decompressed with a cap, so a decompression bomb fails with `too_large`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException

from schemas.records import FeedEntry, Status
from transforms.dates import parse_iso
from transforms.urls import canonical_url
from transforms.errors import ParseError

MAX_DECOMPRESSED = 50 * 1024 * 1024  # the sitemap protocol's own limit per file
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


@dataclass(frozen=True, slots=True)
class Sitemap:
    entries: tuple[FeedEntry, ...]
    children: tuple[tuple[str, datetime | None], ...]  # (child sitemap URL, lastmod)


def gunzip(body: bytes, limit: int = MAX_DECOMPRESSED) -> bytes:
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ParseError(Status.PARSE_ERROR, f"broken gzip: {exc}") from None
    if len(out) > limit or decompressor.unconsumed_tail:
        raise ParseError(Status.TOO_LARGE, f"sitemap decompresses to more than {limit} bytes")
    return out



def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name and child.text and child.text.strip():
            return child.text.strip()
    return None


def parse_sitemap(body: bytes, source: str) -> Sitemap:
    if body[:2] == b"\x1f\x8b":
        body = gunzip(body)
    try:
        root = safe_et.fromstring(body.lstrip(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ParseError(Status.UNSAFE_XML, f"unsafe XML refused: {type(exc).__name__}") from None
    except (safe_et.ParseError, LookupError, ValueError) as exc:  # malformed, or an unknown encoding
        raise ParseError(Status.PARSE_ERROR, f"not well-formed XML: {exc}") from None
    kind = _local(root.tag)
    if kind == "sitemapindex":
        children = []
        for node in root:
            loc = _child_text(node, "loc")
            if loc and loc.lower().startswith(("http://", "https://")):
                children.append((canonical_url(loc), parse_iso(_child_text(node, "lastmod"))))
        return Sitemap((), tuple(children))
    if kind != "urlset":
        raise ParseError(Status.PARSE_ERROR, f"not a sitemap (root <{kind}>)")
    entries: dict[str, FeedEntry] = {}
    for node in root:
        loc = _child_text(node, "loc")
        if not loc or not loc.lower().startswith(("http://", "https://")):
            continue
        news = node.find(f"{NEWS}news")
        title = published = None
        if news is not None:
            title = _child_text(news, "title")
            published = parse_iso(_child_text(news, "publication_date"))
        modified = parse_iso(_child_text(node, "lastmod"))
        entry = FeedEntry(source=source, url=canonical_url(loc), title=title, published_at=published or modified,
                          updated_at=modified)
        entries.setdefault(entry.url, entry)
    return Sitemap(tuple(entries.values()), ())
