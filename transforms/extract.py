"""Article extraction: a fetched HTML page in, an Article record out (trafilatura).

Pure and CPU-bound: the flow runs it in a process pool, a batch of pages per call.
"""

from __future__ import annotations

import codecs
import json
import re
from urllib.parse import urlsplit

import trafilatura
from htmldate import find_date
from lxml.etree import XPath
from trafilatura.json_metadata import extract_json, extract_json_parse_error, normalize_json
from trafilatura.metadata import JSON_MINIFY, examine_meta, extract_sitename, extract_title, extract_url
from trafilatura.settings import Document, set_date_params
from trafilatura.utils import load_html

from schemas.codes import language_code
from schemas.records import Article, FeedEntry, Fetched, Source, Status
from transforms.dates import first_plausible, parse_iso
from transforms.documents import content_hash, fitted_title, normalise_text
from transforms.errors import ParseError
from transforms.urls import article_id, canonical_url, url_host

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
# The legacy charset a page in a language was most likely written in where its declared one
# fails: the HTML standard's fallback per locale (windows-1252 for the rest).
_LEGACY_CHARSET = {
    **dict.fromkeys(("ar", "fa", "ur"), "windows-1256"), **dict.fromkeys(("ru", "uk", "bg", "be", "mk", "sr"), "windows-1251"),
    **dict.fromkeys(("pl", "cs", "hu", "sk", "sl", "hr", "ro"), "windows-1250"), **dict.fromkeys(("lt", "lv", "et"), "windows-1257"),
    "el": "windows-1253", "he": "windows-1255", "tr": "windows-1254", "vi": "windows-1258", "th": "windows-874",
    "ja": "shift_jis", "zh": "gb18030", "ko": "euc-kr",
}
_HTML_LANG = re.compile(rb"<html[^>]*?\slang\s*=\s*[\"']?([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?", re.IGNORECASE)


def _cp1252_for_stray_bytes(error: UnicodeDecodeError) -> tuple[str, int]:
    """A codec error handler: a byte that is no UTF-8 is read as windows-1252 (pages that mix
    the two, as templates in UTF-8 with text pasted from older systems do)."""
    return error.object[error.start : error.end].decode("cp1252", errors="replace"), error.end


codecs.register_error("socwatch-cp1252", _cp1252_for_stray_bytes)


def _decodes(body: bytes, charset: str) -> str | None:
    try:
        return body.decode(charset)
    except (LookupError, UnicodeError):  # a charset Python does not know, cannot use (idna), or that does not fit
        return None


def decode_html(body: bytes, content_type: str | None) -> tuple[str | bytes, str | None]:
    """The page's text, and a note where it was not read in the charset its server declared.
    The declared charset is used where it decodes the bytes; where it does not (a header that
    says utf-8 over windows-1252 bytes), the page's own <meta> charset, then the legacy charset
    in the page's language (the HTML standard's fallback: windows-1252 for most), then a
    detected one (charset-normalizer); UTF-8 with a few stray bytes keeps its UTF-8 and reads
    those as windows-1252. With no declared charset, trafilatura's own detection decides."""
    match = _CHARSET.search(content_type or "")
    if not match:
        return body, None
    declared = match.group(1).lower()
    if (text := _decodes(body, declared)) is not None:
        return text, None
    declared_codec = _codec(declared)
    if declared_codec == "utf-8":
        valid = len(_UTF8_SEQUENCE.findall(body))
        if valid and valid >= _invalid_utf8(body):
            return body.decode("utf-8", errors="socwatch-cp1252"), f"charset utf-8 with stray bytes read as windows-1252 (declared {declared})"
    meta = _META_CHARSET.search(body[:4096])
    candidates = [meta.group(1).decode("ascii").lower()] if meta else []
    candidates.append(_LEGACY_CHARSET.get(page_language(body) or "", "windows-1252"))
    from charset_normalizer import from_bytes  # only for the pages whose declared charset fails

    best = from_bytes(body[: 256 * 1024]).best()
    if best is not None:
        candidates.append(best.encoding)
    for charset in candidates:
        if _codec(charset) not in (None, declared_codec) and (text := _decodes(body, charset)) is not None:
            return text, f"charset {charset} used: the declared {declared} does not decode the page"
    if declared_codec:
        return body.decode(declared, errors="replace"), f"the declared charset {declared} does not decode the page: bad bytes replaced"
    return body, f"unknown charset {declared}: detected"


def _codec(charset: str) -> str | None:
    """Python's name of the codec of `charset` ("latin1" -> "iso8859-1"), None for one it does not know."""
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


def _invalid_utf8(body: bytes) -> int:
    return body.decode("utf-8", errors="replace").count("\ufffd")


# The floor of an article: what a page must hold to be stored as one. A "page not found" page
# served with 200 (a soft 404), a page of binary junk served as text/html, and a cookie wall
# are all "text" to an extractor; none is an announcement.
MIN_WORDS = 10
MIN_LETTER_SHARE = 0.55  # letters among the characters that are not white space
MAX_JUNK_SHARE = 0.02  # replacement and control characters
MIN_FUNCTION_WORDS = 0.03  # in Latin script: the share of words that are common function words ...
# ... or of vowels among its ASCII letters, for the languages whose function words we do not
# list (Indonesian, say) and for texts of names and numbers (a match report): prose in a
# Latin-script language has about 35-45%, letters at random 23%.
MIN_VOWEL_SHARE = 0.30
SOFT_404_WORDS = 120  # a page this short that says "not found" in its title or first line is one
_FUNCTION_WORDS = frozenset(
    # English, Dutch, German, French, Spanish, Italian, Portuguese: the commonest short words.
    "the of and to in a is that for on with was by as at from be are has it an this were have been "
    "de het een en van in is op te dat die voor met zijn niet aan er om ook als bij door naar wordt "
    "der die das und ist nicht mit den von zu im ein eine auf sich dem des "
    "le la les et des du un une est dans pour que qui sur par pas au "
    "el los las y en del que por con una para es se al "
    "il di che per non gli della sono "
    "o os da do em um uma com não".split())
# The number 404 says so only as an error's ("Error 404", "404 - Not Found", "HTTP 404") or as
# a title of its own ("404 | Site"): "404 kilo cocaïne onderschept" is an announcement.
_NOT_FOUND = re.compile(
    r"\b(?:(?:error|fout|fehler|erreur|http) 404|404 ?(?:[-:|–] ?)?(?:error|not found|page|niet gevonden|fout)|"
    r"page (?:was )?not found|page (?:does not|doesn't) exist|pagina (?:is )?niet gevonden|"
    r"seite nicht gefunden|page introuvable|p[aá]gina no encontrada|pagina non trovata)\b", re.IGNORECASE)
_BARE_404_TITLE = re.compile(r"^\s*404\s*(?:$|[-:|–])")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Control (Cc), private-use (Co) and surrogate (Cs) code points: what no text is made of.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]")
_ASCII_LETTER = re.compile("[A-Za-z]")
_ASCII_VOWEL = re.compile("[aeiouyAEIOUY]")


def prose_problem(title: str, text: str) -> str | None:
    """Why `text` under `title` is not an article's prose, or None: too few words, too few
    letters, junk characters, no recognisable language (Latin script without the function
    words of any language we know and without the vowels of a language), or a "page not
    found" page."""
    words = text.split()
    if len(words) < MIN_WORDS:
        return f"{len(words)} words, fewer than the {MIN_WORDS} of an article"
    # Counted by regular expressions and str methods mapped over the text, not a Python loop
    # per character: this runs on every page (it was 12% of a page's extraction).
    visible = "".join(words)
    junk = visible.count("\ufffd") + len(_CONTROL.findall(visible))
    if junk > MAX_JUNK_SHARE * len(visible):
        return f"{junk} of {len(visible)} characters are replacement or control characters"
    letters = sum(map(str.isalpha, visible))
    if letters < MIN_LETTER_SHARE * len(visible):
        return f"only {letters / len(visible):.0%} of its characters are letters: not prose"
    if len(_LATIN_LETTER.findall(visible)) > letters / 2:  # Latin script: the words of a language, not letters at random
        tokens = _WORD.findall(text.lower())
        common = sum(1 for w in tokens if w in _FUNCTION_WORDS)
        if common < MIN_FUNCTION_WORDS * len(tokens):
            ascii_letters, vowels = len(_ASCII_LETTER.findall(visible)), len(_ASCII_VOWEL.findall(visible))
            if vowels < MIN_VOWEL_SHARE * ascii_letters:
                return (f"no recognisable language: {common} of {len(tokens)} words are common words of the languages "
                        f"we read, and {vowels} of {ascii_letters} letters are vowels")
    if len(words) < SOFT_404_WORDS and (_NOT_FOUND.search(title) or _BARE_404_TITLE.match(title)
                                        or _NOT_FOUND.search(text.split("\n", 1)[0])):
        return "a 'page not found' page served as a page (soft 404)"
    return None


def page_language(body: bytes) -> str | None:
    """The page's <html lang> as an ISO 639-1 code; None where it declares none, or a
    language without a two-letter code ("fil" is not "fi")."""
    match = _HTML_LANG.search(body[:4096])
    return language_code(match.group(1).decode("ascii")) if match else None


def page_identity(fetched: Fetched, declared: str | None, source: Source) -> str:
    """The URL an article is known by: the page's own canonical URL (rel=canonical, og:url)
    where it names a page on one of the source's hosts (a canonical pointing at a site's home
    page is a template's mistake, not the article's name), else where the redirects ended,
    else the URL fetched. So a feed link that redirects, and the direct link, are one article."""
    if declared and declared.lower().startswith(("http://", "https://")):
        url = canonical_url(declared)
        if url_host(url) in source.allowed_hosts and urlsplit(url).path not in ("", "/"):
            return url
    return canonical_url(fetched.final_url or fetched.url)


_LINKED_DATA = XPath('.//script[@type="application/ld+json" or @type="application/settings+json"]')
# The longest broken script read by pattern: that reading is quadratic in a script's length.
CRUDE_JSON_MAX = 32_000


def linked_data(tree, meta: Document) -> Document:
    """`meta` with what the page's JSON-LD scripts say, as trafilatura reads them, but in
    time proportional to their length.

    trafilatura parses a script after unescaping the HTML entities in its text, and reads one
    it then cannot parse by regular expressions whose author search is quadratic in the
    script's length: a live blog's 800 KB script took a second, and a hostile one within the
    body cap would hold an extraction process for hours. Here a broken script longer than
    CRUDE_JSON_MAX characters is parsed as it stands instead (the unescaping is what breaks
    most of them), and left aside where that fails too."""
    for script in _LINKED_DATA(tree):
        if not script.text:
            continue
        text = normalize_json(JSON_MINIFY.sub(r"\1", script.text))
        schema = _parsed(text)
        if schema is None and len(text) <= CRUDE_JSON_MAX:
            meta = extract_json_parse_error(text, meta)
            continue
        schema = _parsed(script.text) if schema is None else schema
        if schema is not None:
            meta = extract_json(schema, meta)
    return meta


def _parsed(text: str):
    try:
        return json.loads(text, strict=False)
    except ValueError:
        return None


def page_metadata(tree, url: str) -> Document:
    """What socwatch keeps of a page's metadata: title, author, canonical URL, date, site name
    and description, read by trafilatura's and htmldate's own readers (meta tags and JSON-LD
    first).

    This is trafilatura's metadata pass without the parts whose results are not kept: the
    categories, tags and licence, and the search of the page's body for a byline where no tag
    names the author. Those took a fifth of an extraction's time on the benchmark pages
    (bench/vs_trafilatura.py), for an author that government releases rarely have."""
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:  # a handle or a single word, not a name
        meta.author = None
    try:
        meta = linked_data(tree, meta)
    except Exception:  # the schema readers raise on malformed data; the tags stand alone
        pass
    meta.title = meta.title or extract_title(tree)
    meta.url = meta.url or extract_url(tree, url)
    meta.date = find_date(tree, **set_date_params(extensive=True), url=meta.url)
    meta.sitename = (meta.sitename or extract_sitename(tree) or "").lstrip("@") or None
    meta.clean_and_trim()
    return meta


def extract_article(fetched: Fetched, entry: FeedEntry | None, source: Source) -> Article:
    """Extract one page. Raises ParseError with a status for pages with no article."""
    markup, charset_note = decode_html(fetched.body, fetched.content_type)
    url = fetched.final_url or fetched.url
    try:
        tree = load_html(markup)
        if tree is None:
            raise ParseError(Status.NO_CONTENT, "no article text found on the page")
        doc = trafilatura.bare_extraction(
            tree,  # it works on a copy: the metadata is read from the page as it came
            url=url,
            with_metadata=False,
            include_comments=False,
            include_tables=True,
            # Not fast=True: without trafilatura's fallback extractors, token F1 on the fundus
            # pages falls from 0.951 to 0.926 (bench/vs_trafilatura.py), for ~20% more speed.
            fast=False,
        )
        meta = page_metadata(tree, url)
    except ParseError:
        raise
    except Exception as exc:  # trafilatura raises many kinds on hostile markup
        raise ParseError(Status.EXTRACT_ERROR, f"{type(exc).__name__}: {str(exc)[:160]}") from None
    if doc is None or not (doc.text or "").strip():
        raise ParseError(Status.NO_CONTENT, "no article text found on the page")
    text = normalise_text(doc.text)
    title = normalise_text(meta.title or (entry.title if entry else "") or "")
    if not title:
        title = text.split("\n", 1)[0][:200]
    first, _, rest = text.partition("\n")
    if first.strip() == title and rest.strip():  # the headline repeated as the text's first line
        text = rest.strip()
    if problem := prose_problem(title, text):
        raise ParseError(Status.NO_CONTENT, f"not an article: {problem}")
    title, cut = fitted_title(title)
    page_date = parse_iso(meta.date)
    feed_date = entry.published_at if entry else None
    published, date_notes = first_plausible((("feed", feed_date), ("page", page_date)))
    url = page_identity(fetched, meta.url, source)
    return Article(
        article_id=article_id(url),
        url=url,
        source=source.name,
        publisher=source.title or meta.sitename or source.name,
        title=title,
        text=text,
        language=page_language(fetched.body) or source.language,
        content_hash=content_hash(title, text),
        published_at=published,
        feed_published_at=feed_date,
        page_published_at=page_date,
        author=meta.author or None,
        description=meta.description or (entry.summary if entry else None) or None,
        site_name=meta.sitename or None,
        notes=tuple(filter(None, (charset_note, *date_notes, cut))),
    )

