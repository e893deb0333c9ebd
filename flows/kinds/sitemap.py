"""`sitemap`: a sitemap or sitemap index (news sitemaps and gzipped sitemaps included).

An index is followed one level down, newest child sitemaps first (by lastmod), up to
MAX_CHILDREN; at most MAX_ENTRIES entries are kept, newest first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flows.kinds.base import Discovery, SourceKind, parsed
from schemas.records import FeedEntry, Fetched, Source
from transforms.sitemaps import Sitemap, parse_sitemap

if TYPE_CHECKING:  # annotations only: the extraction workers import the kinds, not httpx
    from flows.http import Fetcher

MAX_CHILDREN = 5
MAX_ENTRIES = 2000
_OLDEST = datetime.min.replace(tzinfo=UTC)


async def _read(url: str, source: Source, fetcher: Fetcher) -> tuple[Fetched, Sitemap | None]:
    fetched = await fetcher.fetch(url, source, expect="sitemap")
    if not fetched.ok:
        return fetched, None
    return parsed(fetched, lambda f: parse_sitemap(f.body, source.name))


async def discover(source: Source, fetcher: Fetcher) -> Discovery:
    fetched, sitemap = await _read(source.url, source, fetcher)
    events = [fetched]
    entries: list[FeedEntry] = list(sitemap.entries) if sitemap else []
    if sitemap and sitemap.children:
        newest = sorted(sitemap.children, key=lambda c: c[1] or _OLDEST, reverse=True)[:MAX_CHILDREN]
        for child_url, _lastmod in newest:
            child_fetched, child = await _read(child_url, source, fetcher)
            events.append(child_fetched)
            if child:
                entries.extend(child.entries)  # an index inside an index is not followed
    unique = {e.url: e for e in reversed(entries)}
    kept = sorted(unique.values(), key=lambda e: e.published_at or _OLDEST, reverse=True)[:MAX_ENTRIES]
    return Discovery(source.name, tuple(kept), tuple(events))


KIND = SourceKind("sitemap", discover)
