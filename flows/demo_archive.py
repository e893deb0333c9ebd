"""Builds the demo's sample archive from `flows/demo/articles.json` (invented articles).

    uv run python -m flows.demo_archive        # rewrites flows/demo/sample.warc.gz and sources.toml

The archive holds one feed per sample source (Atom, RSS 2.0 and JSON Feed) and one HTML page
per article, as a server would send them; `socwatch demo` replays it through the real ingest
flow. Every text in it was written by the socwatch authors; none is a real announcement.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

from flows.warc import WarcRecorder

DEMO_DIR = Path(__file__).resolve().parent / "demo"
NOTICE = "Sample data written by the socwatch authors for the offline demo; every article is invented."
FEED_PATHS = {"atom": "/news.atom", "rss": "/nieuws.rss", "jsonfeed": "/newsroom/feed.json"}
FEED_TYPES = {"atom": "application/atom+xml; charset=utf-8", "rss": "application/rss+xml; charset=utf-8",
              "jsonfeed": "application/feed+json; charset=utf-8"}


def article_url(source: dict, article: dict) -> str:
    day = datetime.fromisoformat(article["published"])
    section = "nieuws" if article["language"] == "nl" else "news"
    return f"https://{source['host']}/{section}/{day:%Y/%m}/{article['slug']}"


def feed_url(source: dict) -> str:
    return f"https://{source['host']}{FEED_PATHS[source['feed_format']]}"


def page_html(source: dict, article: dict) -> str:
    e = html.escape
    lang = article["language"]
    nav = ("Home", "Nieuws", "Onderwerpen", "Contact") if lang == "nl" else ("Home", "News", "Topics", "Contact")
    paragraphs = "\n".join(f"      <p>{e(p)}</p>" for p in article["paragraphs"])
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
  <meta charset="utf-8">
  <title>{e(article['title'])} - {e(source['title'])}</title>
  <meta name="description" content="{e(article['summary'])}">
  <meta property="og:title" content="{e(article['title'])}">
  <meta property="og:site_name" content="{e(source['title'])}">
  <meta property="article:published_time" content="{article['published']}">
  <link rel="canonical" href="{article_url(source, article)}">
</head>
<body>
  <header>
    <p class="skip"><a href="#main">Skip to main content</a></p>
    <nav><ul>{''.join(f'<li><a href="/">{item}</a></li>' for item in nav)}</ul></nav>
  </header>
  <main id="main">
    <article>
      <h1>{e(article['title'])}</h1>
      <p class="published"><time datetime="{article['published']}">{article['published'][:10]}</time></p>
      <p class="lead">{e(article['summary'])}</p>
{paragraphs}
    </article>
  </main>
  <footer>
    <p>{e(NOTICE)}</p>
    <ul><li><a href="/privacy">Privacy</a></li><li><a href="/cookies">Cookies</a></li><li><a href="/accessibility">Accessibility</a></li></ul>
  </footer>
</body>
</html>
"""


def atom_feed(source: dict, articles: list[dict]) -> str:
    e = html.escape
    entries = "".join(
        f"""  <entry>
    <id>{article_url(source, a)}</id>
    <title>{e(a['title'])}</title>
    <link rel="alternate" type="text/html" href="{article_url(source, a)}"/>
    <updated>{a['published']}</updated>
    <summary>{e(a['summary'])}</summary>
  </entry>
""" for a in articles)
    newest = max(a["published"] for a in articles)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>{e(source['title'])}</title>
  <id>{feed_url(source)}</id>
  <link rel="self" href="{feed_url(source)}"/>
  <updated>{newest}</updated>
  <subtitle>{e(NOTICE)}</subtitle>
{entries}</feed>
"""


def rss_feed(source: dict, articles: list[dict]) -> str:
    e = html.escape
    # The links carry tracking parameters, as many real feeds' do: socwatch strips them.
    items = "".join(
        f"""    <item>
      <title>{e(a['title'])}</title>
      <link>{article_url(source, a)}?utm_source=rss&amp;utm_medium=feed</link>
      <guid isPermaLink="false">{a['slug']}</guid>
      <pubDate>{format_datetime(datetime.fromisoformat(a['published']))}</pubDate>
      <description>{e(a['summary'])}</description>
    </item>
""" for a in articles)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>{e(source['title'])}</title>
    <link>https://{source['host']}/</link>
    <description>{e(NOTICE)}</description>
    <language>{source['language']}</language>
{items}  </channel>
</rss>
"""


def json_feed(source: dict, articles: list[dict]) -> str:
    return json.dumps({
        "version": "https://jsonfeed.org/version/1.1",
        "title": source["title"],
        "description": NOTICE,
        "feed_url": feed_url(source),
        "items": [{"id": a["slug"], "url": article_url(source, a), "title": a["title"], "summary": a["summary"],
                   "date_published": a["published"]} for a in articles],
    }, ensure_ascii=False, indent=1)


FEED_WRITERS = {"atom": atom_feed, "rss": rss_feed, "jsonfeed": json_feed}


def sources_toml(sources: list[dict]) -> str:
    lines = [f"# Sources of the socwatch demo. {NOTICE}",
             "# The hosts are reserved .example names: the demo is replayed from sample.warc.gz, never fetched.", ""]
    for s in sources:
        lines += ["[[sources]]", f'name = "{s["name"]}"', 'kind = "feed"', f'url = "{feed_url(s)}"',
                  f'country = "{s["country"]}"', f'language = "{s["language"]}"', f'title = "{s["title"]}"', ""]
    return "\n".join(lines)


def responses(data: dict) -> list[tuple[str, str, bytes]]:
    """(url, content type, body) of every response in the archive, feeds first."""
    sources = {s["name"]: s for s in data["sources"]}
    out = []
    for source in data["sources"]:
        own = sorted((a for a in data["articles"] if a["source"] == source["name"]), key=lambda a: a["published"], reverse=True)
        body = FEED_WRITERS[source["feed_format"]](source, own)
        out.append((feed_url(source), FEED_TYPES[source["feed_format"]], body.encode("utf-8")))
    for article in data["articles"]:
        source = sources[article["source"]]
        out.append((article_url(source, article), "text/html; charset=utf-8", page_html(source, article).encode("utf-8")))
    return out


def build(articles_json: Path = DEMO_DIR / "articles.json", out_dir: Path = DEMO_DIR) -> Path:
    data = json.loads(articles_json.read_text(encoding="utf-8"))
    (out_dir / "sources.toml").write_text(sources_toml(data["sources"]), encoding="utf-8")
    archive = out_dir / "sample.warc.gz"
    with WarcRecorder(archive, software=f"socwatch demo_archive ({NOTICE})") as recorder:
        for url, content_type, body in responses(data):
            recorder.write_response(url, 200, "OK", [("Content-Type", content_type)], body)
    return archive


if __name__ == "__main__":
    print(build())
