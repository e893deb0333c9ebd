"""A second hostile site (issue 16): failure modes real servers show that the first fault
server did not. One run of the real flow over a loopback site, then the same run again: each
page ends as it should (the right text, or `no_content` saying why), nothing good is lost,
and the rerun adds no row."""

from __future__ import annotations

import gzip
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Route, loopback_sources, rows
from flows.ingest import run_ingest
from transforms.extract import prose_problem

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.usefixtures("prefect_harness"),
]

PROSE = ("The police and the customs service of Curaçao seized cocaïne worth millions in the port, "
         "and the public prosecutor charged three men with drug trafficking and money laundering. ")


def page(title: str, text: str = PROSE * 4) -> str:
    return (f"<html lang='en'><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>{text}</p></article></body></html>")


def feed(server, items: list[tuple[str, datetime | None]]) -> bytes:
    rows = "".join(f"<item><title>{path}</title><link>{server.url(path)}</link>"
                   + (f"<pubDate>{format_datetime(when)}</pubDate>" if when else "") + "</item>" for path, when in items)
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>{rows}</channel></rss>".encode()


def test_lying_charsets_junk_pages_and_impossible_dates(loopback, tmp_path):
    now = datetime.now(UTC).replace(microsecond=0)
    junk = random.Random(16).randbytes(6000)
    loopback.routes.update({
        # 1. The header says utf-8, the bytes are windows-1252; another page mixes the two.
        "/cp1252": Route(200, page("Seizure in Curaçao").encode("cp1252"), {"Content-Type": "text/html; charset=utf-8"}),
        "/mixed": Route(200, page("Arrests in Curaçao").encode("utf-8").replace("cocaïne".encode(), "cocaïne".encode("cp1252")),
                        {"Content-Type": "text/html; charset=utf-8"}),
        # 2. Pages that are no articles: a soft 404, binary junk in a page, junk as the whole body.
        "/soft404": Route(200, page("Page not found", "Sorry, the page you were looking for could not be found. "
                                                      "Go back to the home page and try again.").encode()),
        "/junk-in-page": Route(200, b"<html><body><article><h1>News</h1><p>" + junk + b"</p></article></body></html>",
                               {"Content-Type": "text/html; charset=iso-8859-1"}),
        "/junk": Route(200, junk, {"Content-Type": "text/html"}),
        # 4. A feed date years ahead, one before 1990: the article keeps the next date there is.
        "/future": Route(200, page("Cocaine seized in Rotterdam").encode().replace(
            b"<head>", b"<head><meta property='article:published_time' content='2026-03-24T09:00:00+00:00'>")),
        "/ancient": Route(200, page("Firearms seized in Antwerp").encode()),
    })
    loopback.routes["/feed.xml"] = Route(200, feed(loopback, [
        ("/cp1252", now - timedelta(days=1)), ("/mixed", now - timedelta(days=1)), ("/soft404", None),
        ("/junk-in-page", None), ("/junk", None), ("/future", now + timedelta(days=3 * 365)),
        ("/ancient", datetime(1970, 1, 2, tzinfo=UTC))]), {"Content-Type": "application/rss+xml"})
    sources = loopback_sources(tmp_path / "sources.toml", loopback, {"hostile": "/feed.xml"})
    db = tmp_path / "w.duckdb"
    first = run_ingest(sources, db)

    events = {url.removeprefix(loopback.url("")): (status, error) for url, status, error in rows(
        db, "SELECT url, status, error FROM crawl_events WHERE url_kind = 'page'")}
    articles = {url.removeprefix(loopback.url("")): (title, text, published) for url, title, text, published in rows(
        db, "SELECT url, title, text, published_at FROM articles")}

    # 1. Read in the charset that decodes the bytes, said so, and no replacement character stored.
    assert articles["/cp1252"][0] == "Seizure in Curaçao" and "cocaïne" in articles["/cp1252"][1]
    assert events["/cp1252"] == ("fetched", "charset windows-1252 used: the declared utf-8 does not decode the page")
    assert articles["/mixed"][0] == "Arrests in Curaçao" and "cocaïne" in articles["/mixed"][1]
    assert "stray bytes read as windows-1252" in events["/mixed"][1]
    assert rows(db, "SELECT count(*) FROM articles WHERE title LIKE '%\ufffd%' OR text LIKE '%\ufffd%'") == [(0,)]

    # 2. Not articles: no_content with the reason, nothing in articles.
    assert events["/soft404"] == ("no_content", "not an article: a 'page not found' page served as a page (soft 404)")
    assert events["/junk-in-page"][0] == "no_content" and "no recognisable language" in events["/junk-in-page"][1]
    assert events["/junk"][0] == "no_content"
    assert not {"/soft404", "/junk-in-page", "/junk"} & set(articles)

    # 4. An impossible date costs the date, never the article: the page's own date, else first_seen_at.
    assert articles["/future"][2] == datetime(2026, 3, 24, tzinfo=UTC)  # the page's date (a day: its UTC midnight)
    assert events["/future"][0] == "fetched" and "feed date" in events["/future"][1] and "in the future" in events["/future"][1]
    assert articles["/ancient"][2] is None and "before 1990" in events["/ancient"][1]
    [(shown, first_seen)] = rows(db, "SELECT a.published_at, a.first_seen_at FROM announcements a JOIN articles USING (article_id) "
                                     "WHERE articles.url = ?", loopback.url("/ancient"))
    assert shown == first_seen
    assert rows(db, "SELECT count(*) FROM quarantine") == [(0,)]
    assert first["totals"]["new"] == 4

    # The same site again: nothing new, nothing duplicated.
    counts = rows(db, "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM article_versions)")
    second = run_ingest(sources, db)
    assert second["totals"]["new"] == 0 and rows(db, "SELECT (SELECT count(*) FROM articles), "
                                                     "(SELECT count(*) FROM article_versions)") == counts


@pytest.mark.parametrize("text", [
    PROSE * 3,
    "Die Polizei hat in Hamburg zwei Männer festgenommen und eine Tonne Kokain sichergestellt, die in einem Container versteckt war.",
    "ضبطت الشرطة شحنة كبيرة من الكوكايين في الميناء واعتقلت ثلاثة رجال بتهمة الاتجار بالمخدرات وغسل الأموال في المدينة",
    # Latin script, a language whose function words the floor does not list (Indonesian) ...
    "Polisi menangkap tiga orang tersangka di pelabuhan Tanjung Priok setelah menemukan satu ton kokain di dalam kontainer.",
    # ... and a text of names and numbers with hardly a function word (a match report).
    "Harbour City d. Riverside 70-44. Harbour City (3-1): Mendes 25 points. Okafor 17 points. Laine 10 points. "
    "Riverside (1-3): Baptiste 15 points. Kowalski 12 points. Brennan 9 points. Nakamura 8 points.",
])
def test_real_prose_in_any_script_passes_the_floor(text):
    assert prose_problem("A title", text) is None


@pytest.mark.parametrize(("text", "why"), [
    ("Page not found. Sorry.", "words"),
    ("Xq zvk wrtp klmn brrt sdfg hjkl qwer tyui opas dfgh jklz xcvb nmqw erty", "recognisable language"),
    ("1234 5678 ---- #### 9012 3456 7890 !!!! 1234 5678 9012 3456 7890", "letters"),
])
def test_what_is_no_prose_is_said_why(text, why):
    assert why in prose_problem("A title", text)


NOT_FOUND_BODY = "Sorry, we could not find what you were looking for. Try the search box or go back to the home page."


@pytest.mark.parametrize(("title", "first_line", "soft_404"), [
    ("404", NOT_FOUND_BODY, True),
    ("404 | Ministry of Justice", NOT_FOUND_BODY, True),
    ("Error 404", NOT_FOUND_BODY, True),
    ("Oops", "404 - Page not found. " + NOT_FOUND_BODY, True),
    ("Pagina niet gevonden", NOT_FOUND_BODY, True),
    # The number in an announcement: a seizure, a case number, a page's own number.
    ("404 kilo cocaïne onderschept in de haven", "De douane heeft in de haven van Rotterdam 404 kilo cocaïne "
     "onderschept in een container met bananen uit Ecuador.", False),
    ("Police seize 404 firearms", "Officers seized 404 firearms and arrested two men at the port on Tuesday.", False),
    ("Arrests in Rotterdam", "Seizure (case 404): officers arrested three men and seized cocaine at the port.", False),
])
def test_a_page_not_found_is_told_from_a_short_announcement_with_the_number_404(title, first_line, soft_404):
    problem = prose_problem(title, first_line)
    assert (problem is not None and "soft 404" in problem) is soft_404, problem


def test_links_of_other_schemes_get_their_own_status_and_a_gzip_feed_as_html_is_not_damaged(loopback, tmp_path):
    links = ["file:///etc/passwd", "javascript:alert(1)", "mailto:press@example.org", "data:text/html,hello"]
    items = "".join(f"<item><title>odd {i}</title><link>{link}</link></item>" for i, link in enumerate(links))
    items += f"<item><title>good</title><link>{loopback.url('/good')}</link></item>"
    body = f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>{items}</channel></rss>"
    # A feed gzipped on the wire and labelled text/html: read whole, so not "damaged".
    loopback.routes["/feed.xml"] = Route(200, gzip.compress(body.encode()),
                                         {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"})
    loopback.routes["/good"] = Route(200, page("Cocaine seized in Dover").encode())
    sources = loopback_sources(tmp_path / "sources.toml", loopback, {"odd": "/feed.xml"})
    db = tmp_path / "w.duckdb"
    summary = run_ingest(sources, db)
    events = dict((url, (status, error)) for url, status, error in rows(
        db, "SELECT url, status, error FROM crawl_events WHERE url_kind = 'page'"))
    refused = {url.split(":")[0]: event for url, event in events.items() if not url.startswith("http")}
    assert refused == {link.split(":")[0]: ("blocked_scheme", f"a {link.split(':')[0]}: link, not http(s)") for link in links}
    assert events[loopback.url("/good")][0] == "fetched"
    [(feed_status, feed_error)] = rows(db, "SELECT status, error FROM crawl_events WHERE url_kind = 'feed'")
    assert feed_status == "fetched" and not (feed_error or "").count("damaged"), feed_error
    assert summary["totals"]["discovered"] == 5 and summary["totals"]["skipped"] == 4 and summary["totals"]["new"] == 1
    assert loopback.requests.count("/good") == 1 and all("passwd" not in r for r in loopback.requests)


def test_a_title_too_long_for_the_table_is_cut_not_the_article_lost():
    """An API item's title of 11,199 characters (keywords stuffed into it) is cut at a word,
    with a note; the articles check (1 to MAX_TITLE characters) would have set the article aside."""
    from schemas.records import MAX_TITLE, Source
    from transforms.documents import document_article

    stuffed = " ".join(["cocaine seizure police news"] * 400)
    article = document_article("https://e.org/a", Source("s", "feed", "https://e.org/f", "GB", "en", ("e.org",)), None,
                               title=stuffed, text=PROSE, language="en", published=None, organisations=(), site_name="e")
    assert len(article.title) <= MAX_TITLE and article.title.endswith("…") and stuffed.startswith(article.title[:-1])
    assert article.notes == (f"title of {len(stuffed)} characters cut to {len(article.title)}",)


def test_a_page_two_sources_list_is_fetched_once_and_both_sources_see_it(loopback, tmp_path):
    loopback.routes["/shared"] = Route(200, page("Joint operation against cocaine smugglers").encode())
    loopback.routes["/own"] = Route(200, page("Firearms seized in Antwerp").encode())
    loopback.routes["/shared-gone"] = Route(404, b"<html><body>Not here</body></html>", {"Content-Type": "text/html"})
    loopback.routes["/a.xml"] = Route(200, feed(loopback, [("/shared", None), ("/own", None), ("/shared-gone", None)]),
                                      {"Content-Type": "application/rss+xml"})
    loopback.routes["/b.xml"] = Route(200, feed(loopback, [("/shared", None), ("/shared-gone", None)]),
                                      {"Content-Type": "application/rss+xml"})
    sources = loopback_sources(tmp_path / "sources.toml", loopback, {"police": "/a.xml", "prosecutor": "/b.xml"})
    db = tmp_path / "w.duckdb"
    first = run_ingest(sources, db)
    assert loopback.requests.count("/shared") == 1 and loopback.requests.count("/shared-gone") == 1
    assert {name: (s["discovered"], s["new"], s["failed"]) for name, s in first["sources"].items()} == {
        "police": (3, 2, 1), "prosecutor": (2, 0, 1)}
    assert first["totals"]["new"] == 2
    shared = loopback.url("/shared")
    [(article,)] = rows(db, "SELECT article_id FROM articles WHERE url = ?", shared)
    events = rows(db, "SELECT source, status, article_id, error FROM crawl_events WHERE url = ? ORDER BY source", shared)
    assert events == [("police", "fetched", article, None),
                      ("prosecutor", "duplicate", article, "also listed by police, which fetched it")]
    # A fetch that failed is the other source's failure too, said as such (the next run tries it again for both).
    gone = rows(db, "SELECT source, status, http_status, article_id, error FROM crawl_events WHERE url = ? ORDER BY source",
                loopback.url("/shared-gone"))
    assert [g[:4] for g in gone] == [("police", "http_error", 404, None), ("prosecutor", "http_error", 404, None)]
    assert gone[1][4].startswith("also listed by police, whose fetch ended http_error: ")
    assert rows(db, "SELECT source FROM article_sources WHERE article_id = ? ORDER BY source", article) == [("police",), ("prosecutor",)]
    assert rows(db, "SELECT source, count(*) FROM article_sources GROUP BY source ORDER BY source") == [("police", 2), ("prosecutor", 1)]

    second = run_ingest(sources, db)
    assert second["totals"]["new"] == 0 and second["sources"]["prosecutor"]["discovered"] == 2
    assert loopback.requests.count("/shared-gone") == 2
    assert rows(db, "SELECT count(*) FROM article_sources") == [(3,)] and rows(db, "SELECT count(*) FROM articles") == [(2,)]
    assert rows(db, "SELECT count(*) FROM crawl_events WHERE source = 'prosecutor' AND url_kind = 'page'") == [(4,)]


def test_redirects_canonical_links_and_copies_make_one_article_and_a_rerun_folds_what_was_stored_twice(loopback, tmp_path):
    target = page("Cocaine network dismantled").encode()
    loopback.routes.update({
        "/news/b": Route(200, target),
        "/news/old": Route(200, page("Cocaine network dismantled (first version)", PROSE * 2).encode()),
        "/news/copy": Route(200, target),  # the same text under a second URL
        "/news/canon": Route(200, page("Firearms seized", PROSE * 3).encode().replace(
            b"<head>", f"<head><link rel='canonical' href='{loopback.url('/news/canonical-name')}'>".encode())),
        "/news/home-canon": Route(200, page("Fraud charges", PROSE * 5).encode().replace(
            b"<head>", f"<head><link rel='canonical' href='{loopback.url('/')}'>".encode())),
    })
    loopback.routes["/feed.xml"] = Route(200, feed(loopback, [(p, None) for p in (
        "/news/old", "/news/b", "/news/copy", "/news/canon", "/news/home-canon")]), {"Content-Type": "application/rss+xml"})
    sources = loopback_sources(tmp_path / "sources.toml", loopback, {"police": "/feed.xml"})
    db = tmp_path / "w.duckdb"
    run_ingest(sources, db)
    urls = {u.removeprefix(loopback.url("")) for (u,) in rows(db, "SELECT url FROM articles")}
    # The copy is folded into /news/b; the page is known by its canonical link, except one to the home page.
    assert urls == {"/news/old", "/news/b", "/news/canonical-name", "/news/home-canon"}
    [(status, error, same)] = rows(db, "SELECT e.status, e.error, a.url FROM crawl_events e JOIN articles a USING (article_id) "
                                       "WHERE e.url = ?", loopback.url("/news/copy"))
    assert (status, same) == ("duplicate", loopback.url("/news/b")) and "the same" in error

    # The old URL now redirects to /news/b (as a CMS does when it renames a page): the article
    # stored under it is folded into /news/b, and nothing is stored twice again.
    loopback.routes["/news/old"] = Route(301, b"", {"Location": "/news/b"})
    second = run_ingest(sources, db)
    urls = {u.removeprefix(loopback.url("")) for (u,) in rows(db, "SELECT url FROM articles")}
    assert urls == {"/news/b", "/news/canonical-name", "/news/home-canon"}
    assert second["totals"]["new"] == 0
    [(b_id,)] = rows(db, "SELECT article_id FROM articles WHERE url = ?", loopback.url("/news/b"))
    assert rows(db, "SELECT source FROM article_sources WHERE article_id = ?", b_id) == [("police",)]
    for table in ("article_themes", "article_labels", "article_countries", "article_sources"):
        orphans = rows(db, f"SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.article_id = t.article_id)")
        assert orphans == [(0,)], table
    counts = rows(db, "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM article_versions), "
                      "(SELECT count(*) FROM article_sources)")
    run_ingest(sources, db)
    assert rows(db, "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM article_versions), "
                    "(SELECT count(*) FROM article_sources)") == counts


@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hops=st.lists(st.sampled_from([301, 302, 303, 307, 308]), min_size=1, max_size=4),
       direct_first=st.booleans(), relative=st.booleans())
def test_a_url_reached_through_any_redirect_chain_and_directly_is_one_article(loopback, tmp_path_factory, hops, direct_first,
                                                                             relative):
    """Fuzzed: a chain of redirects of any code and length (absolute or relative Location),
    listed beside the page it ends at, in either order: one article, and a rerun adds none."""
    tmp = tmp_path_factory.mktemp("chain")
    loopback.routes.clear()
    loopback.routes["/target"] = Route(200, page("Heroin seized at the border").encode())
    for i, code in enumerate(hops):
        after = "/target" if i == len(hops) - 1 else f"/hop{i + 1}"
        loopback.routes[f"/hop{i}"] = Route(code, b"", {"Location": after if relative else loopback.url(after)})
    listed = [("/target", None), ("/hop0", None)]
    loopback.routes["/feed.xml"] = Route(200, feed(loopback, listed if direct_first else listed[::-1]),
                                         {"Content-Type": "application/rss+xml"})
    sources = loopback_sources(tmp / "sources.toml", loopback, {"chain": "/feed.xml"})
    db = tmp / "w.duckdb"
    run_ingest(sources, db)
    assert rows(db, "SELECT url FROM articles") == [(loopback.url("/target"),)]
    run_ingest(sources, db)
    assert rows(db, "SELECT count(*) FROM articles") == [(1,)]
    assert sorted(s for (s,) in rows(db, "SELECT status FROM crawl_events WHERE url_kind = 'page'")) == \
        ["duplicate", "duplicate", "fetched", "fetched"]


def test_a_text_stored_twice_before_is_folded_by_the_next_run(loopback, tmp_path):
    import duckdb

    from transforms.urls import article_id

    loopback.routes["/x"] = Route(200, page("Cocaine seized in the port").encode())
    loopback.routes["/feed.xml"] = Route(200, feed(loopback, [("/x", None)]), {"Content-Type": "application/rss+xml"})
    sources = loopback_sources(tmp_path / "sources.toml", loopback, {"police": "/feed.xml"})
    db = tmp_path / "w.duckdb"
    run_ingest(sources, db)
    # As an older socwatch left it: the same text stored a second time, under another URL.
    con = duckdb.connect(str(db))
    x, y = loopback.url("/x"), loopback.url("/y")
    con.execute("INSERT INTO articles SELECT * REPLACE (? AS article_id, ? AS url) FROM articles WHERE url = ?", [article_id(y), y, x])
    con.execute("INSERT INTO article_labels SELECT * REPLACE (? AS article_id) FROM article_labels", [article_id(y)])
    con.close()
    loopback.routes["/y"] = loopback.routes["/x"]
    loopback.routes["/feed.xml"] = Route(200, feed(loopback, [("/x", None), ("/y", None)]), {"Content-Type": "application/rss+xml"})
    run_ingest(sources, db)
    assert rows(db, "SELECT url FROM articles") == [(x,)]
    assert rows(db, "SELECT count(*) FROM article_labels") == [(1,)]
    assert rows(db, "SELECT status, error FROM crawl_events WHERE url = ? ORDER BY event_at DESC LIMIT 1", y) == \
        [("duplicate", f"the same article as {x}")]
