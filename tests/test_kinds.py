"""Every source kind on real samples from ../shared/corpus, served by a real server on 127.0.0.1.

The registry drives this file: a kind registered in flows.kinds.KINDS without a test here fails.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from dataclasses import replace

import pytest

from conftest import Route, need_shared
from flows.http import Fetcher, FetchSettings
from flows.kinds import KINDS
from flows.process import process_pages
from schemas.records import Source, Status
from transforms.errors import ParseError
from transforms.feeds import parse_feed

SETTINGS = FetchSettings(total_timeout_s=10, max_retries=0)


def source(server, kind: str, path: str, **extra) -> Source:
    return Source(name=f"test-{kind}", kind=kind, url=server.url(path), country=extra.pop("country", "GB"),
                  language=extra.pop("language", "en"), allowed_hosts=("127.0.0.1",), max_concurrency=2,
                  min_delay_s=0.0, listed_hosts=("127.0.0.1",), **extra)


def crawl(src: Source):
    """Discovery, then each article fetched and processed as the flow does it."""
    async def go():
        async with Fetcher([src], SETTINGS) as fetcher:
            kind = KINDS[src.kind]
            discovery = await kind.discover(src, fetcher)
            fetched = await asyncio.gather(*(kind.fetch_article(e, src, fetcher) for e in discovery.entries))
            return discovery, list(fetched)
    discovery, fetched = asyncio.run(go())
    by_url = {e.url: e for e in discovery.entries}
    processed = process_pages([(f, by_url[f.url], src) for f in fetched if f.ok])
    return discovery, fetched, processed


def real_pages(n: int) -> list[tuple[bytes, str]]:
    """(html, expected body) of the first `n` real news pages of the Scrapinghub benchmark."""
    folder = need_shared("corpus", "benchmark", "scrapinghub_aeb")
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    return [(gzip.decompress((folder / "html" / f"{page_id}.html.gz").read_bytes()), t["articleBody"])
            for page_id, t in sorted(truth.items())[:n]]


def assert_extracted(processed, pages: list[tuple[bytes, str]]) -> None:
    """Each page came out as an article whose text is its ground truth's (token F1 >= 0.8)."""
    from transforms.evaluate import token_f1

    assert [p.status for p in processed] == [Status.FETCHED] * len(pages), [(p.status, p.error) for p in processed]
    scores = sorted(token_f1(p.article.text, want) for p, (_, want) in zip(processed, pages, strict=True))
    assert scores[0] >= 0.8, scores


def feed_kind(loopback):
    """The real gov.scot RSS excerpt, its item links moved to the loopback server, each serving
    a real news page: discovery, then each article fetched and extracted."""
    body = need_shared("corpus", "feeds", "gov_scot", "news_gov_scot_rss_2017_excerpt.xml").read_bytes()
    body = body.replace(b"https://news.gov.scot/", loopback.url("/").encode())
    loopback.routes["/feed.xml"] = Route(200, body, {"Content-Type": "application/rss+xml"})
    listed = parse_feed(body, source="test-feed", feed_url=loopback.url("/feed.xml")).entries
    pages = real_pages(len(listed))
    for entry, (html, _) in zip(listed, pages, strict=True):
        loopback.routes[entry.url.removeprefix(loopback.url(""))] = Route(200, html)
    discovery, fetched, processed = crawl(source(loopback, "feed", "/feed.xml"))
    assert [e.status for e in discovery.events] == [Status.FETCHED]
    assert len(discovery.entries) == 2 and all(e.url.startswith(loopback.url("/news/")) for e in discovery.entries)
    assert all(e.title and e.published_at for e in discovery.entries)
    assert [f.status for f in fetched] == [Status.FETCHED] * 2 and {f.format for f in fetched} == {"html"}
    assert_extracted(processed, pages)


def govuk_kind(loopback):
    folder = need_shared("corpus", "govuk_api", "content_store")
    items = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("news_article__*.json"))[:3]}
    items["withdrawn"] = json.loads((folder / "news_article__news_article_withdrawn.json").read_text(encoding="utf-8"))
    entries = []
    for name, item in items.items():
        path = f"/government/news/{name.removesuffix('.json').replace('_', '-')}"
        loopback.routes[f"/api/content{path}"] = Route(200, json.dumps(item).encode(), {"Content-Type": "application/json"})
        entries.append(f"<entry><title>{item['title']}</title><link rel='alternate' href='{loopback.url(path)}'/>"
                       f"<id>{loopback.url(path)}</id><updated>{item['public_updated_at']}</updated></entry>")
    no_api = "/government/news/only-a-page"  # no Content API answer: the page is read instead
    loopback.routes[no_api] = Route(200, b"<html><body><article><h1>Page only</h1><p>" + b"Border Force seized cocaine at the port of Dover and arrested the driver. " * 5 + b"</p></article></body></html>")
    entries.append(f"<entry><title>Page only</title><link href='{loopback.url(no_api)}'/><id>x</id><updated>2026-01-01T00:00:00Z</updated></entry>")
    atom = f"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>GOV.UK</title>{''.join(entries)}</feed>"
    loopback.routes["/news.atom"] = Route(200, atom.encode(), {"Content-Type": "application/atom+xml"})
    _, fetched, processed = crawl(source(loopback, "govuk", "/news.atom", title="GOV.UK test"))
    assert [f.format for f in fetched] == ["govuk_content"] * 4 + ["html"]
    assert "read the page instead" in fetched[-1].error
    articles = {p.article.title: p.article for p in processed}
    assert len(articles) == 5
    withdrawn = next(a for a in articles.values() if a.withdrawn)
    assert withdrawn.organisations and withdrawn.document_type == "news_story"
    assert withdrawn.source_published_at is not None and withdrawn.published_at == withdrawn.source_published_at
    assert withdrawn.updated_at is not None and withdrawn.language == "en"
    assert all(a.text and "<p>" not in a.text for a in articles.values())


def rijksoverheid_kind(loopback):
    folder = need_shared("corpus", "feeds", "rijksoverheid")
    base = loopback.url("")
    listing = (folder / "opendata_news_list_2017.xml").read_bytes()
    listing = listing.replace(b"https://opendata.rijksoverheid.nl", base.encode()).replace(b"https://www.rijksoverheid.nl", base.encode())
    document = (folder / "opendata_news_item_2017.xml").read_bytes()
    doc_id = document.split(b"<id>")[1].split(b"</id>")[0].decode()
    loopback.routes["/v1/infotypes/news?rows=25"] = Route(200, listing, {"Content-Type": "application/xml"})
    loopback.routes["/v1/infotypes/news?offset=25&rows=25"] = Route(200, b"<newsitems/>", {"Content-Type": "application/xml"})
    loopback.routes[f"/v1/sources/rijksoverheid/infotypes/news/{doc_id}"] = Route(200, document, {"Content-Type": "application/xml"})
    discovery, fetched, processed = crawl(source(loopback, "rijksoverheid", "/v1/infotypes/news?rows=25", country="NL", language="nl"))
    assert len(discovery.entries) == 25 and [e.status for e in discovery.events] == [Status.FETCHED, Status.FETCHED]
    assert all(e.document_url and e.published_at for e in discovery.entries)
    [article] = [p.article for p in processed if p.article]
    assert article.title == "Nieuwe bewindspersonen OCW treden aan"
    assert article.organisations == ("Ministerie van Onderwijs, Cultuur en Wetenschap",)
    assert article.language == "nl" and article.source_published_at is not None
    # Every other item had neither document nor page here: each ends with its own status.
    assert sum(f.status is Status.HTTP_ERROR for f in fetched) == 24


def sitemap_kind(loopback):
    # ../shared holds no real sitemap; these follow the sitemaps.org and Google News formats,
    # and list three real news pages.
    real = real_pages(3)
    pages = {f"/news/{i}": html for i, (html, _) in enumerate(real)}
    for path, body in pages.items():
        loopback.routes[path] = Route(200, body)
    news = ("<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' "
            "xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>"
            + "".join(f"<url><loc>{loopback.url(p)}</loc><news:news><news:publication_date>2026-05-0{i + 1}T10:00:00Z"
                      f"</news:publication_date><news:title>Item {i}</news:title></news:news></url>" for i, p in enumerate(pages))
            + "</urlset>")
    loopback.routes["/news-sitemap.xml.gz"] = Route(200, gzip.compress(news.encode()), {"Content-Type": "application/gzip"})
    index = (f"<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
             f"<sitemap><loc>{loopback.url('/news-sitemap.xml.gz')}</loc><lastmod>2026-05-03</lastmod></sitemap></sitemapindex>")
    loopback.routes["/sitemap.xml"] = Route(200, index.encode(), {"Content-Type": "application/xml"})
    discovery, _, processed = crawl(source(loopback, "sitemap", "/sitemap.xml"))
    assert [e.status for e in discovery.events] == [Status.FETCHED, Status.FETCHED]
    assert [e.title for e in discovery.entries] == ["Item 2", "Item 1", "Item 0"]  # newest first
    assert_extracted(processed, real[::-1])


KIND_TESTS = {"feed": feed_kind, "govuk": govuk_kind, "rijksoverheid": rijksoverheid_kind, "sitemap": sitemap_kind}


def test_every_registered_kind_has_a_test_on_real_samples():
    assert set(KINDS) == set(KIND_TESTS)


@pytest.mark.corpus
@pytest.mark.parametrize("kind", sorted(KIND_TESTS))
def test_kind(kind, loopback):
    KIND_TESTS[kind](loopback)


def test_sitemap_bombs_and_entity_attacks_fail_with_their_status():
    from transforms.sitemaps import parse_sitemap

    with pytest.raises(ParseError) as bomb:
        parse_sitemap(gzip.compress(b"<urlset>" + b" " * 60_000_000 + b"</urlset>"), "s")
    assert bomb.value.status is Status.TOO_LARGE
    with pytest.raises(ParseError) as laughs:
        parse_sitemap(b"<!DOCTYPE u [<!ENTITY a 'b'>]><urlset>&a;</urlset>", "s")
    assert laughs.value.status is Status.UNSAFE_XML
    with pytest.raises(ParseError) as encoding:
        parse_sitemap(b'<?xml version="1.0" encoding="x-bogus"?><urlset></urlset>', "s")
    assert encoding.value.status is Status.PARSE_ERROR


def test_odd_html_fragments_never_raise():
    from transforms.html_text import html_to_text

    assert html_to_text("<html></html>") == ""
    assert html_to_text("<p>One</p><ul><li>Two <b>bold</b></li></ul><script>x()</script>") == "One\nTwo bold"


def test_a_govuk_translation_is_tagged_from_its_english_original(loopback):
    """GOV.UK's Arabic and Urdu items (real content items) name their English original in
    links.available_translations: the kind reads it with one more request and the article is
    tagged from it. Here the English item served at the Arabic one's original path is another
    real English item; the Urdu item's original is not served, so it is marked no_vocabulary."""
    from transforms.classify import classify

    folder = need_shared("corpus", "govuk_api", "content_store")
    arabic = json.loads((folder / "news_article__news_article_history_mode_translated_arabic.json").read_text(encoding="utf-8"))
    urdu = json.loads((folder / "news_article__news_article_news_story_translated_arabic.json").read_text(encoding="utf-8"))
    english = json.loads((folder / "news_article__news_article_press_release.json").read_text(encoding="utf-8"))
    assert arabic["locale"] == "ar" and urdu["locale"] == "ur"
    json_type = {"Content-Type": "application/json"}
    entries = []
    for item in (arabic, urdu):
        loopback.routes[f"/api/content{item['base_path']}"] = Route(200, json.dumps(item).encode(), json_type)
        entries.append(f"<entry><title>{item['title']}</title><link href='{loopback.url(item['base_path'])}'/>"
                       f"<id>{item['base_path']}</id><updated>{item['public_updated_at']}</updated></entry>")
    [original_path] = [t["api_path"] for t in arabic["links"]["available_translations"] if t["locale"] == "en"]
    loopback.routes[original_path] = Route(200, json.dumps(english).encode(), json_type)
    atom = f"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>GOV.UK</title>{''.join(entries)}</feed>"
    loopback.routes["/news.atom"] = Route(200, atom.encode(), {"Content-Type": "application/atom+xml"})

    _, fetched, processed = crawl(source(loopback, "govuk", "/news.atom"))
    by_language = {p.article.language: p for p in processed}
    assert set(by_language) == {"ar", "ur"}
    ar, ur = by_language["ar"], by_language["ur"]
    assert ar.article.original_url == loopback.url(original_path) and ar.tags.basis == f"original {loopback.url(original_path)}"
    assert ar.article.text != ar.article.original_text and ar.article.original_title == english["title"]
    direct = classify(ar.article.article_id, ar.article.original_title, ar.article.original_text, "GB")
    assert (ar.tags.themes, ar.tags.countries, ar.tags.announcement_type) == (direct.themes, direct.countries, direct.announcement_type)
    assert ur.article.original_url is None and ur.tags.basis == "no_vocabulary"
    assert ur.tags.themes == () and ur.tags.countries == ("GB",)
    [urdu_fetch] = [f for f in fetched if f.url == loopback.url(urdu["base_path"])]
    assert "original" in urdu_fetch.error and "tagged without it" in urdu_fetch.error


@pytest.mark.parametrize("body", [b"not json", b"[1]", b'{"locale": "ar"}', b'{"locale": "ar", "links": []}',
                                  b'{"locale": "ar", "links": {"available_translations": 5}}',
                                  b'{"locale": "ar", "links": {"available_translations": [5, {"locale": "en", "api_path": 7}]}}',
                                  b'{"locale": "ar", "links": {"available_translations": [{"locale": "en", "api_path": "/elsewhere"}]}}',
                                  b'{"locale": "en", "links": {"available_translations": [{"locale": "en", "api_path": "/api/content/x"}]}}'])
def test_odd_content_items_name_no_original(body):
    from transforms.govuk import original_document_path

    assert original_document_path(body) is None


def test_a_bug_of_ours_is_an_internal_error_and_bad_input_keeps_its_own_status():
    from flows.kinds.base import parsed
    from flows.process import process_page
    from schemas.records import Fetched

    def refuse(_fetched):
        raise ParseError(Status.UNSAFE_XML, "entities")

    fetched = Fetched("s", "https://example.org/feed", Status.FETCHED, body=b"<rss/>")
    failed, nothing = parsed(fetched, lambda f: {}["missing"])
    assert nothing is None and failed.status is Status.INTERNAL_ERROR and failed.error.startswith("KeyError: 'missing' at ")
    refused, _ = parsed(fetched, refuse)
    assert (refused.status, refused.error) == (Status.UNSAFE_XML, "entities")
    # A body in a format its kind has no extractor for is a bug of the kind, not a bad page.
    src = Source("s", "feed", "https://example.org/feed", "GB", "en", ("example.org",))
    page = Fetched("s", "https://example.org/a", Status.FETCHED, body=b"{}", format="govuk_content")
    assert process_page(page, None, src).status is Status.INTERNAL_ERROR
    assert process_page(page, None, replace(src, kind="govuk")).status is Status.NO_CONTENT  # its kind reads it: empty
