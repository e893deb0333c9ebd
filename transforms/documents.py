"""What an article is made of, whatever it was read from (a page, an API's document): its
text normalised, its title fitted, its content hash, and an Article from a structured
document. Apart from trafilatura (transforms.extract), so that the kinds' parsers of
structured documents do not import it: the command that runs a flow imports them to check
its sources, and leaves the pages to the extraction pool."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from schemas.records import MAX_TITLE, Article, FeedEntry, Source
from transforms.dates import first_plausible
from transforms.urls import article_id

_BLANK_LINES = re.compile(r"\n{3,}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def normalise_text(text: str) -> str:
    text = _SURROGATE.sub("\ufffd", text)  # a JSON "\ud800" is no character, and could not be stored
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = (line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def fitted_title(title: str) -> tuple[str, str | None]:
    """The title, cut at a word before MAX_TITLE characters where it is longer (a page's
    <title> stuffed with keywords), and a note saying so: a long title costs its tail, never
    the article."""
    if len(title) <= MAX_TITLE:
        return title, None
    cut = title[: MAX_TITLE - 1].rsplit(" ", 1)[0] or title[: MAX_TITLE - 1]
    return cut + "…", f"title of {len(title)} characters cut to {len(cut) + 1}"


def content_hash(title: str, text: str) -> str:
    """What makes a version: the title and text as extracted (normalised), nothing else."""
    return hashlib.sha256(f"{title}\n\n{text}".encode("utf-8")).hexdigest()


def document_article(url: str, source: Source, entry: FeedEntry | None, *, title: str, text: str, language: str,
                     published, organisations: tuple[str, ...], site_name: str, **fields) -> Article:
    """An Article from a structured document (an API's item): its own date first, else the
    feed's; its first organisation as publisher, else the source's title, else the site's name."""
    feed_date = entry.published_at if entry else None
    chosen, notes = first_plausible((("document", published), ("feed", feed_date)))
    title, cut = fitted_title(title)
    notes += [cut] if cut else []
    return Article(
        article_id=article_id(url), url=url, source=source.name,
        publisher=(organisations[0] if organisations else None) or source.title or site_name,
        title=title, text=text, language=language, content_hash=content_hash(title, text),
        published_at=chosen, feed_published_at=feed_date, source_published_at=published,
        site_name=site_name, organisations=organisations, notes=tuple(notes), **fields)
