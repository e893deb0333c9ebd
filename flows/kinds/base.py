"""What every source kind provides, and the fetching steps kinds share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from flows.http import Fetcher
from schemas.records import FeedEntry, Fetched, Source, Status


@dataclass(frozen=True)
class Discovery:
    """What a source yielded: its entries, and the outcome of each discovery URL it read."""

    source: str
    entries: tuple[FeedEntry, ...]
    events: tuple[Fetched, ...]


async def fetch_page(entry: FeedEntry, source: Source, fetcher: Fetcher) -> Fetched:
    """The article's own page, as HTML."""
    return await fetcher.fetch(entry.url, source, expect="html")


async def fetch_document(entry: FeedEntry, source: Source, fetcher: Fetcher, *, format: str, expect: str) -> Fetched:
    """The article's structured document (an API) where it has one, else its page.

    The outcome is recorded under the article's URL (one status per article); the document's
    URL is its final_url, and its validators are kept under the document's URL."""
    if not entry.document_url:
        return await fetch_page(entry, source, fetcher)
    document = await fetcher.fetch(entry.document_url, source, expect=expect)
    if document.status in (Status.FETCHED, Status.NOT_MODIFIED):
        return replace(document, url=entry.url, format=format)
    page = await fetch_page(entry, source, fetcher)
    note = f"document {entry.document_url}: {document.error or document.status.value}; read the page instead"
    return replace(page, error="; ".join(x for x in (note, page.error) if x))


@dataclass(frozen=True)
class SourceKind:
    name: str
    discover: Callable[[Source, Fetcher], Awaitable[Discovery]]
    fetch_article: Callable[[FeedEntry, Source, Fetcher], Awaitable[Fetched]] = fetch_page
