"""`feed`: RSS 0.9x/1.0/2.0, Atom or JSON Feed at the source's url (format detected from the body)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from flows.kinds.base import Discovery, SourceKind, parsed
from schemas.records import Source
from transforms.feeds import parse_feed

if TYPE_CHECKING:  # annotations only: the extraction workers import the kinds, not httpx
    from flows.http import Fetcher


async def read_feed(source: Source, fetcher: Fetcher) -> tuple[Discovery, object]:
    """Fetch and parse the source's feed; the parsed feed (or None) for kinds built on feeds."""
    fetched = await fetcher.fetch(source.url, source, expect="feed")
    if not fetched.ok:
        return Discovery(source.name, (), (fetched,)), None
    fetched, feed = parsed(fetched, lambda f: parse_feed(f.body, source=source.name, feed_url=f.final_url or source.url,
                                                          content_type=f.content_type))
    if feed is None:
        return Discovery(source.name, (), (fetched,)), None
    return Discovery(source.name, feed.entries, (replace(fetched, error=feed.warning),)), feed


async def discover(source: Source, fetcher: Fetcher) -> Discovery:
    discovery, _parsed = await read_feed(source, fetcher)
    return discovery


KIND = SourceKind("feed", discover)
