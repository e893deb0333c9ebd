"""Imported by the extraction pool's fork server: the extraction modules, then one page of our
own through the whole transform, so that what trafilatura and htmldate load on first use
(date-parsing locales, stop lists, compiled expressions) is loaded once, before the workers
fork, instead of once per worker in the middle of the first batch. Then it freezes what is
loaded: the cyclic garbage collector no longer walks those objects, so the forked workers keep
sharing their memory pages with the fork server instead of copying them."""

from __future__ import annotations

import gc

from flows.process import process_page
from schemas.records import Fetched, Source, Status

_PAGE = b"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Warm-up page | socwatch</title><meta name="author" content="socwatch">
<meta property="article:published_time" content="2026-03-24T09:00:00+00:00"></head>
<body><header><nav><a href="/">Home</a></nav></header><main><article>
<h1>Warm-up page</h1><p class="date">Published 24 March 2026</p>
<p>This page is written by socwatch to load the extraction code before any real page is read.
It has enough sentences to count as an article, with a date, an author and a heading.</p>
<p>Police and customs officers from two countries agreed to share more information about
money laundering, drug trafficking and firearms, and to meet again next year.</p>
</article></main><footer><p>Footer text</p></footer></body></html>"""

process_page(Fetched("warm", "https://warm.example/page", Status.FETCHED, body=_PAGE, content_type="text/html"), None,
             Source("warm", "feed", "https://warm.example/feed", "GB", "en", ("warm.example",)))
gc.freeze()
