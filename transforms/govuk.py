"""GOV.UK: article URLs to Content API URLs, and Content API items to Article records.

The Content API (`https://www.gov.uk/api/content/<path>`) gives, for every page of
www.gov.uk, its body HTML and metadata: first_published_at, public_updated_at, the
publishing organisations, the document type, the locale and any withdrawn notice.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from schemas.codes import language_code
from schemas.records import Article, FeedEntry, Source, Status
from transforms.dates import parse_iso
from transforms.errors import ParseError
from transforms.documents import document_article, normalise_text
from transforms.html_text import html_to_text

FORMAT = "govuk_content"


def content_api_url(url: str) -> str | None:
    """The Content API URL of a GOV.UK page: the same origin, `/api/content` + its path.

    (www.gov.uk, and GOV.UK's integration and staging hosts, all serve it there.)"""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.startswith("/api/") or parts.path in ("", "/"):
        return None
    return f"{parts.scheme}://{parts.netloc}/api/content{parts.path.rstrip('/')}"



ORIGINAL_LOCALE = "en"


def original_document_path(body: bytes) -> str | None:
    """The Content API path of a translation's original: where an item's locale is not
    English and `links.available_translations` lists the English item. None otherwise (also
    for a body that is not a content item: the extractor says what is wrong with it)."""
    try:
        item = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(item, dict) or item.get("locale") in (None, ORIGINAL_LOCALE):
        return None
    links = item.get("links") if isinstance(item.get("links"), dict) else {}
    translations = links.get("available_translations")
    for other in translations if isinstance(translations, list) else ():
        if isinstance(other, dict) and other.get("locale") == ORIGINAL_LOCALE:
            path = other.get("api_path") or (f"/api/content{other['base_path']}" if isinstance(other.get("base_path"), str) else None)
            if isinstance(path, str) and path.startswith("/api/content/"):
                return path
    return None


def article_from_content_item(body: bytes, url: str, entry: FeedEntry | None, source: Source) -> Article:
    """An Article from a Content API item; raises ParseError where it holds no article."""
    try:
        item = json.loads(body)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, a 5000-digit number, [[[[...
        raise ParseError(Status.EXTRACT_ERROR, f"Content API answer is not JSON: {str(exc)[:200]}") from None
    if not isinstance(item, dict):
        raise ParseError(Status.EXTRACT_ERROR, "Content API answer is not a content item")
    details = item.get("details") if isinstance(item.get("details"), dict) else {}
    body_html = details.get("body")
    if isinstance(body_html, list):  # multi-part bodies: [{content_type, content}, ...]
        body_html = next((part.get("content") for part in body_html if isinstance(part, dict)
                          and part.get("content_type") == "text/html"), "")
    text = html_to_text(body_html if isinstance(body_html, str) else "")
    title = normalise_text(str(item.get("title") or (entry.title if entry else "") or ""))
    if not text or not title:
        raise ParseError(Status.NO_CONTENT, f"content item ({item.get('document_type') or 'unknown type'}) has no body text")
    links = item.get("links") if isinstance(item.get("links"), dict) else {}
    listed = links.get("organisations") if isinstance(links.get("organisations"), list) else ()
    # Every string that reaches the record is normalised: a JSON "\ud800" could not be stored.
    organisations = tuple(filter(None, (normalise_text(str(o["title"])) for o in listed if isinstance(o, dict) and o.get("title"))))
    return document_article(
        url, source, entry, title=title, text=text,
        language=language_code(normalise_text(str(item.get("locale") or ""))) or source.language,
        published=parse_iso(item.get("first_published_at")), organisations=organisations, site_name="GOV.UK",
        updated_at=parse_iso(item.get("public_updated_at")),
        description=normalise_text(str(item.get("description") or "")) or None,
        document_type=normalise_text(item["document_type"]) or None if isinstance(item.get("document_type"), str) else None,
        withdrawn=bool(item.get("withdrawn_notice")),
    )
