"""`govuk`: discovery from GOV.UK's Atom feeds, content from the Content API.

The source's url is a GOV.UK Atom feed (for example search/news-and-communications.atom
with organisation or world-location filters). Each www.gov.uk article is then read from
`/api/content/<path>`, which gives the body and the metadata the page only implies; where the
API has no answer, the page itself is read.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urljoin
from typing import TYPE_CHECKING

from flows.kinds.base import HTML, Discovery, SourceKind, fetch_document, structured
from flows.kinds.feed import read_feed
from schemas.records import FeedEntry, Fetched, Source, Status
from transforms import govuk

if TYPE_CHECKING:  # annotations only: the extraction workers import the kinds, not httpx
    from flows.http import Fetcher


async def discover(source: Source, fetcher: Fetcher) -> Discovery:
    discovery, _parsed = await read_feed(source, fetcher)
    entries = tuple(replace(e, document_url=govuk.content_api_url(e.url)) for e in discovery.entries)
    return replace(discovery, entries=entries)


async def fetch_article(entry: FeedEntry, source: Source, fetcher: Fetcher) -> Fetched:
    """The article's content item; for a translation (Arabic, Urdu, ...) also its English
    original's, one more request through the same fetcher, so that it is tagged from the
    original. An original that cannot be read is noted in the error; the article still loads."""
    fetched = await fetch_document(entry, source, fetcher, format=govuk.FORMAT, expect="json")
    if fetched.status is not Status.FETCHED or fetched.format != govuk.FORMAT:
        return fetched
    path = govuk.original_document_path(fetched.body)
    if path is None:
        return fetched
    url = urljoin(fetched.final_url or entry.document_url or entry.url, path)
    original = await fetcher.fetch(url, source, expect="json", conditional=False)
    if original.status is Status.FETCHED:
        return replace(fetched, original_url=url, original_body=original.body)
    note = f"original {url}: {original.error or original.status.value}; tagged without it"
    return replace(fetched, error="; ".join(x for x in (fetched.error, note) if x))


KIND = SourceKind("govuk", discover, fetch_article,
                  {**HTML, govuk.FORMAT: structured(govuk.article_from_content_item)})
