"""`feed`: RSS 0.9x/1.0/2.0, Atom or JSON Feed at the source's url (format detected from the body)."""

from __future__ import annotations

from dataclasses import replace

from flows.http import Fetcher
from flows.kinds.base import Discovery, SourceKind
from schemas.records import Source, Status
from transforms.feeds import FeedError, parse_feed


async def read_feed(source: Source, fetcher: Fetcher) -> tuple[Discovery, object]:
    """Fetch and parse the source's feed; the parsed feed (or None) for kinds built on feeds."""
    fetched = await fetcher.fetch(source.url, source, expect="feed")
    if not fetched.ok:
        return Discovery(source.name, (), (fetched,)), None
    try:
        parsed = parse_feed(fetched.body, source=source.name, feed_url=fetched.final_url or source.url,
                            content_type=fetched.content_type)
    except FeedError as exc:
        return Discovery(source.name, (), (replace(fetched, status=exc.status, error=exc.message),)), None
    except Exception as exc:  # the feed parser failing on hostile input is this feed's problem only
        failed = replace(fetched, status=Status.PARSE_ERROR, error=f"{type(exc).__name__}: {exc}"[:300])
        return Discovery(source.name, (), (failed,)), None
    return Discovery(source.name, parsed.entries, (replace(fetched, error=parsed.warning),)), parsed


async def discover(source: Source, fetcher: Fetcher) -> Discovery:
    discovery, _parsed = await read_feed(source, fetcher)
    return discovery


KIND = SourceKind("feed", discover)
