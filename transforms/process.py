"""The CPU-bound stage, one batch per call: extract each fetched page, then classify it.

This is the function the flow sends to its process pool. It never raises for one bad page:
every page comes back as a Processed record with a status.
"""

from __future__ import annotations

from dataclasses import replace

from schemas.records import Article, FeedEntry, Fetched, Processed, Source, Status
from transforms import govuk, rijksoverheid
from transforms.classify import tag
from transforms.extract import ExtractionError, extract_article


def _structured(reader):
    def extract(fetched: Fetched, entry: FeedEntry | None, source: Source) -> Article:
        return reader(fetched.body, fetched.url, entry, source)
    return extract


# Fetched.format -> the extractor that reads such a body.
EXTRACTORS = {
    "html": extract_article,
    govuk.FORMAT: _structured(govuk.article_from_content_item),
    rijksoverheid.FORMAT: _structured(rijksoverheid.article_from_document),
}


def process_page(fetched: Fetched, entry: FeedEntry | None, source: Source) -> Processed:
    try:
        article = EXTRACTORS[fetched.format](fetched, entry, source)
        article = _with_original(article, fetched, source)
        tags = tag(article.article_id, article.original_title or article.title, article.original_text or article.text,
                   source.country, article.language, article.original_url)
    except ExtractionError as exc:
        return Processed(fetched.url, Status(exc.status), error=str(exc))
    except Exception as exc:  # never let one page take the batch down
        return Processed(fetched.url, Status.EXTRACT_ERROR, error=f"{type(exc).__name__}: {str(exc)[:160]}")
    return Processed(fetched.url, Status.FETCHED, article=article, tags=tags)


def _with_original(article: Article, fetched: Fetched, source: Source) -> Article:
    """The article with its original's title and text, where a translation came with it; an
    original that holds no article is left out (the article is then marked no_vocabulary)."""
    if not (fetched.original_url and fetched.original_body) or fetched.format != govuk.FORMAT:
        return article
    try:
        original = govuk.article_from_content_item(fetched.original_body, fetched.original_url, None, source)
    except ExtractionError:
        return article
    return replace(article, original_url=fetched.original_url, original_title=original.title, original_text=original.text)


def process_pages(batch: list[tuple[Fetched, FeedEntry | None, Source]]) -> list[Processed]:
    return [process_page(fetched, entry, source) for fetched, entry, source in batch]
