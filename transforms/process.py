"""The CPU-bound stage, one batch per call: extract each fetched page, then classify it.

This is the function the flow sends to its process pool. It never raises for one bad page:
every page comes back as a Processed record with a status.
"""

from __future__ import annotations

from schemas.records import Article, FeedEntry, Fetched, Processed, Source, Status
from transforms import govuk, rijksoverheid
from transforms.classify import classify
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
        tags = classify(article.article_id, article.title, article.text, publisher_country=source.country)
    except ExtractionError as exc:
        return Processed(fetched.url, Status(exc.status), error=str(exc))
    except Exception as exc:  # never let one page take the batch down
        return Processed(fetched.url, Status.EXTRACT_ERROR, error=f"{type(exc).__name__}: {str(exc)[:160]}")
    return Processed(fetched.url, Status.FETCHED, article=article, tags=tags)


def process_pages(batch: list[tuple[Fetched, FeedEntry | None, Source]]) -> list[Processed]:
    return [process_page(fetched, entry, source) for fetched, entry, source in batch]
