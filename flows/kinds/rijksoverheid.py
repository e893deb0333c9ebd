"""`rijksoverheid`: the Rijksoverheid open-data news API (XML list with pagination, item documents).

The source's url is the list, e.g. `https://opendata.rijksoverheid.nl/v1/infotypes/news?rows=50`.
Pages are read while they come back full, up to MAX_PAGES; each article is then read from its
`dataurl` document, or from its page where the document cannot be had. (The v1 API was closed
in June 2026; the kind reads archives and mirrors of it, and the RSS of the new site is a `feed`.)
"""

from __future__ import annotations

from functools import partial
from urllib.parse import parse_qsl, urlsplit
from typing import TYPE_CHECKING

from flows.kinds.base import HTML, Discovery, SourceKind, fetch_document, parsed, structured
from schemas.records import Source
from transforms import rijksoverheid

if TYPE_CHECKING:  # annotations only: the extraction workers import the kinds, not httpx
    from flows.http import Fetcher

MAX_PAGES = 4
DEFAULT_ROWS = 25


async def discover(source: Source, fetcher: Fetcher) -> Discovery:
    rows = dict(parse_qsl(urlsplit(source.url).query)).get("rows", "")
    page_size = int(rows) if rows.isdigit() and int(rows) > 0 else DEFAULT_ROWS
    url, entries, events = source.url, {}, []
    for _page in range(MAX_PAGES):
        fetched = await fetcher.fetch(url, source, expect="feed")
        if not fetched.ok:
            events.append(fetched)
            break
        fetched, found = parsed(fetched, lambda f: rijksoverheid.parse_news_list(f.body, source.name))
        events.append(fetched)
        if found is None:
            break
        for entry in found:
            entries.setdefault(entry.url, entry)
        if len(found) < page_size:
            break
        url = rijksoverheid.next_page_url(url, page_size)
    return Discovery(source.name, tuple(entries.values()), tuple(events))


KIND = SourceKind("rijksoverheid", discover, partial(fetch_document, format=rijksoverheid.FORMAT, expect="feed"),
                  {**HTML, rijksoverheid.FORMAT: structured(rijksoverheid.article_from_document)})
