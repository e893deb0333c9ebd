"""The CPU-bound stage, one batch per call: extract each fetched page, then classify it.

This is the function the flow sends to its process pool. The source's kind names the
extractor of each body format (`flows.kinds`). It never raises for one bad page: every page
comes back as a Processed record with a status (`internal_error` where the fault is ours).
"""

from __future__ import annotations

from dataclasses import replace

from flows.failpoints import armed, hold
from flows.kinds import KINDS
from flows.kinds.base import Extractor
from schemas.records import Article, FeedEntry, Fetched, Processed, Source, Status
from transforms.classify import tag
from transforms.vocabulary import Vocabulary, vocabulary
from transforms.errors import ParseError, internal_error


def process_page(fetched: Fetched, entry: FeedEntry | None, source: Source, vocab: Vocabulary | None = None) -> Processed:
    try:
        extract = KINDS[source.kind].extractors[fetched.format]
        article = _with_original(extract(fetched, entry, source), fetched, source, extract)
        tags = tag(article.article_id, article.original_title or article.title, article.original_text or article.text,
                   source.country, article.language, article.original_url, vocab)
    except ParseError as exc:
        return Processed(fetched.url, exc.status, error=exc.message)
    except Exception as exc:  # our own bug: it costs this page, not the batch, and says it is ours
        return Processed(fetched.url, Status.INTERNAL_ERROR, error=internal_error(exc))
    return Processed(fetched.url, Status.FETCHED, article=article, tags=tags, error="; ".join(article.notes) or None)


def _with_original(article: Article, fetched: Fetched, source: Source, extract: Extractor) -> Article:
    """The article with its original's title and text, where a translation came with its
    original (a document of the same format); an original that holds no article is left out
    (the article is then marked no_vocabulary)."""
    if not (fetched.original_url and fetched.original_body):
        return article
    try:
        original = extract(replace(fetched, url=fetched.original_url, body=fetched.original_body), None, source)
    except ParseError:
        return article
    return replace(article, original_url=fetched.original_url, original_title=original.title, original_text=original.text)


def process_pages(batch: list[tuple[Fetched, FeedEntry | None, Source]], taxonomy: str | None = None) -> list[Processed]:
    """A chunk of pages, in order, tagged with the vocabulary of `taxonomy` (the setting: a
    file of the user's own, else the shipped one); a test may hold the worker before a page
    (the `extract` failpoint, flows/failpoints.py), whichever runner sent the chunk."""
    vocab = vocabulary(taxonomy)
    if armed():
        for _fetched, entry, _source in batch:
            if entry is not None:
                hold("extract", entry.url)
    return [process_page(fetched, entry, source, vocab) for fetched, entry, source in batch]
