"""Source kinds: how each kind of source discovers its articles.

One function per kind, registered in KINDS; the sources file accepts exactly these kinds.
A discoverer fetches through the run's Fetcher and never raises for a bad feed: the feed's
own outcome comes back as a Fetched record with its status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from flows.http import Fetcher
from schemas.records import FeedEntry, Fetched, Source, Status
from transforms.feeds import FeedError, parse_feed


@dataclass(frozen=True)
class Discovery:
    """What a source yielded: its entries, and the outcome of each discovery URL it read."""

    source: str
    entries: tuple[FeedEntry, ...]
    events: tuple[Fetched, ...]


async def discover_feed(source: Source, fetcher: Fetcher) -> Discovery:
    """RSS 0.9x/1.0/2.0, Atom or JSON Feed at the source's url (format detected from the body)."""
    fetched = await fetcher.fetch(source.url, source, expect="feed")
    if not fetched.ok:
        return Discovery(source.name, (), (fetched,))
    try:
        parsed = parse_feed(fetched.body, source=source.name, feed_url=fetched.final_url or source.url,
                            content_type=fetched.content_type)
    except FeedError as exc:
        return Discovery(source.name, (), (replace(fetched, status=exc.status, error=exc.message),))
    except Exception as exc:  # the feed parser failing on hostile input is this feed's problem only
        return Discovery(source.name, (), (replace(fetched, status=Status.PARSE_ERROR, error=f"{type(exc).__name__}: {exc}"[:300]),))
    outcome = replace(fetched, error=parsed.warning)
    return Discovery(source.name, parsed.entries, (outcome,))


KINDS: dict[str, Callable[[Source, Fetcher], Awaitable[Discovery]]] = {
    "feed": discover_feed,
}

