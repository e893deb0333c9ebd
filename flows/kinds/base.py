"""What every source kind provides, and the fetching steps kinds share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TypeVar

from schemas.records import Article, FeedEntry, Fetched, Source, Status
from transforms.errors import ParseError, internal_error

if TYPE_CHECKING:  # annotations only: the extraction workers import the kinds, not httpx
    from flows.http import Fetcher

T = TypeVar("T")
# Reads a fetched body into an Article (raising ParseError where it holds none).
Extractor = Callable[[Fetched, FeedEntry | None, Source], Article]


def extract_html(fetched: Fetched, entry: FeedEntry | None, source: Source) -> Article:
    """A page, read by trafilatura. Imported on the first page: the command that runs a flow
    checks its sources (and so imports the kinds) before the flow, and it extracts nothing
    itself when the extraction pool does (its fork server imports trafilatura)."""
    from transforms.extract import extract_article

    return extract_article(fetched, entry, source)


HTML: Mapping[str, Extractor] = {"html": extract_html}  # every kind reads pages; some also their documents


@dataclass(frozen=True)
class Discovery:
    """What a source yielded: its entries, and the outcome of each discovery URL it read."""

    source: str
    entries: tuple[FeedEntry, ...]
    events: tuple[Fetched, ...]


def parsed(fetched: Fetched, parse: Callable[[Fetched], T]) -> tuple[Fetched, T | None]:
    """A discovery document (feed, sitemap, list) read: the parsed document, or None and the
    fetch with the status the input earned (ParseError), or `internal_error` for our own bug."""
    try:
        return fetched, parse(fetched)
    except ParseError as exc:
        return replace(fetched, status=exc.status, error=exc.message), None
    except Exception as exc:  # a bug must cost this document, not the run
        return replace(fetched, status=Status.INTERNAL_ERROR, error=internal_error(exc)), None


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


def structured(reader: Callable[[bytes, str, FeedEntry | None, Source], Article]) -> Extractor:
    """An extractor for a structured document format: `reader(body, url, entry, source)`."""
    def extract(fetched: Fetched, entry: FeedEntry | None, source: Source) -> Article:
        return reader(fetched.body, fetched.url, entry, source)
    return extract


@dataclass(frozen=True)
class SourceKind:
    """Everything of one kind of source, declared in one place: how it discovers its articles,
    how it fetches each one, and which extractor reads each format its fetches return
    (`Fetched.format`: "html" for a page, the kind's own name for its documents)."""

    name: str
    discover: Callable[[Source, Fetcher], Awaitable[Discovery]]
    fetch_article: Callable[[FeedEntry, Source, Fetcher], Awaitable[Fetched]] = fetch_page
    extractors: Mapping[str, Extractor] = field(default_factory=lambda: dict(HTML))
