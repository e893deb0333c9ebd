"""`govuk`: discovery from GOV.UK's Atom feeds, content from the Content API.

The source's url is a GOV.UK Atom feed (for example search/news-and-communications.atom
with organisation or world-location filters). Each www.gov.uk article is then read from
`/api/content/<path>`, which gives the body and the metadata the page only implies; where the
API has no answer, the page itself is read.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from flows.http import Fetcher
from flows.kinds.base import Discovery, SourceKind, fetch_document
from flows.kinds.feed import read_feed
from schemas.records import Source
from transforms import govuk


async def discover(source: Source, fetcher: Fetcher) -> Discovery:
    discovery, _parsed = await read_feed(source, fetcher)
    entries = tuple(replace(e, document_url=govuk.content_api_url(e.url)) for e in discovery.entries)
    return replace(discovery, entries=entries)


KIND = SourceKind("govuk", discover, partial(fetch_document, format=govuk.FORMAT, expect="json"))
