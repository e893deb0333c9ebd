"""Rijksoverheid open data: the news list (XML, paginated) and the item documents.

The list (`.../infotypes/news?rows=N&offset=K`) has one <newsitem> per article with its
canonical URL, dates, introduction and a `dataurl` to the full <document>; the document
has the content blocks, the authorities and the language. All XML goes through defusedxml.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException

from schemas.codes import language_code
from schemas.records import Article, FeedEntry, Source, Status
from transforms.dates import parse_iso
from transforms.errors import ParseError
from transforms.documents import document_article, normalise_text
from transforms.html_text import html_to_text
from transforms.urls import canonical_url

FORMAT = "rijksoverheid_document"


def _parse(body: bytes):
    try:
        return safe_et.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ParseError(Status.UNSAFE_XML, f"unsafe XML refused: {type(exc).__name__}") from None
    except (safe_et.ParseError, LookupError, ValueError) as exc:  # malformed, or an unknown encoding
        raise ParseError(Status.PARSE_ERROR, f"not well-formed XML: {exc}") from None


def _text(element, tag: str) -> str | None:
    child = element.find(tag)
    return child.text.strip() if child is not None and child.text and child.text.strip() else None



def parse_news_list(body: bytes, source: str) -> tuple[FeedEntry, ...]:
    """The entries of one page of the news list; raises ParseError with a status."""
    root = _parse(body)
    if root.tag != "newsitems":
        raise ParseError(Status.PARSE_ERROR, f"not a Rijksoverheid news list (root <{root.tag}>)")
    entries = {}
    for item in root.iter("newsitem"):
        url = _text(item, "canonical")
        if not url or not url.lower().startswith(("http://", "https://")):
            continue
        data_url = _text(item, "dataurl")
        entry = FeedEntry(
            source=source,
            url=canonical_url(url),
            title=_text(item, "title"),
            published_at=parse_iso(_text(item, "available") or _text(item, "frontenddate")),
            summary=html_to_text(_text(item, "introduction")) or None,
            updated_at=parse_iso(_text(item, "lastmodified")),
            document_url=canonical_url(data_url) if data_url and data_url.lower().startswith(("http://", "https://")) else None,
        )
        entries.setdefault(entry.url, entry)
    return tuple(entries.values())


def next_page_url(url: str, page_size: int) -> str:
    """The list URL of the next page (offset moved on by the page size)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    offset = int(query.get("offset", "0") or 0) if str(query.get("offset", "0")).isdigit() else 0
    query["offset"] = str(offset + page_size)
    query.setdefault("rows", str(page_size))
    return canonical_url(urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), "")))


def article_from_document(body: bytes, url: str, entry: FeedEntry | None, source: Source) -> Article:
    """An Article from an item <document>; raises ParseError where it holds none."""
    try:
        root = _parse(body)
    except ParseError as exc:
        raise ParseError(Status.EXTRACT_ERROR, exc.message) from None
    if root.tag != "document":
        raise ParseError(Status.EXTRACT_ERROR, f"not a Rijksoverheid document (root <{root.tag}>)")
    title = normalise_text(_text(root, "title") or (entry.title if entry else "") or "")
    parts = [html_to_text(_text(root, "introduction"))]
    parts += [html_to_text(p.text) for p in root.iter("paragraph") if p.text]
    text = normalise_text("\n".join(p for p in parts if p))
    if not title or not text:
        raise ParseError(Status.NO_CONTENT, "document has no title or text")
    authorities = tuple(dict.fromkeys(d.text.strip() for d in root.findall("authorities/department") if d.text and d.text.strip()))
    return document_article(
        url, source, entry, title=title, text=text, language=language_code(_text(root, "language")) or source.language,
        published=parse_iso(_text(root, "available") or _text(root, "issued") or _text(root, "frontenddate")),
        organisations=authorities, site_name="Rijksoverheid",
        updated_at=parse_iso(_text(root, "lastmodified")),
        description=html_to_text(_text(root, "introduction")) or None,
        document_type=_text(root, "type"),
    )
