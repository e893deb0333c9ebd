"""Feed parsing on the real feeds in ../shared/corpus/feeds, and on hostile XML."""

import pytest

from conftest import CORPUS, need_shared
from schemas.records import Status
from transforms.errors import ParseError
from transforms.feeds import parse_feed

FEED_DIR = CORPUS / "feeds"
REAL_FEEDS = sorted(p for p in FEED_DIR.glob("*/*") if p.suffix in (".xml", ".json") and p.parent.name != "rijksoverheid") if FEED_DIR.exists() else []


def parse(path, url="https://example.org/feed.xml"):
    return parse_feed(path.read_bytes(), source="s", feed_url=url)


@pytest.mark.corpus
@pytest.mark.parametrize("path", REAL_FEEDS or [None], ids=lambda p: p.name if p else "absent")
def test_every_real_feed_parses_or_fails_with_a_named_status(path):
    if path is None:
        need_shared("corpus", "feeds")
    try:
        parsed = parse(path)
    except ParseError as exc:
        assert exc.status in (Status.PARSE_ERROR, Status.UNSAFE_XML)
        assert exc.message
        return
    for entry in parsed.entries:
        assert entry.url.startswith(("http://", "https://"))
        assert entry.source == "s"
    assert len({e.url for e in parsed.entries}) == len(parsed.entries)


@pytest.mark.corpus
def test_guardian_feed_entries_have_titles_dates_and_links():
    path = need_shared("corpus", "feeds", "real_world_rowanmanning_sample_feeds", "the_guardian__2d055498ae801efb0bf0b6124009cac2.xml")
    parsed = parse(path)
    assert len(parsed.entries) == 115
    first = parsed.entries[0]
    assert first.url.startswith("https://www.theguardian.com/")
    assert first.title and first.published_at is not None and first.published_at.tzinfo is not None


@pytest.mark.corpus
def test_blank_line_before_xml_declaration_is_tolerated():
    parsed = parse(need_shared("corpus", "feeds", "feedjira_sample_feeds", "TechCrunch.xml"))
    assert len(parsed.entries) == 20


@pytest.mark.corpus
def test_truncated_feed_yields_its_complete_entries_with_a_warning():
    parsed = parse(need_shared("corpus", "feeds", "feedjira_sample_feeds", "InvalidDateFormat.xml"))
    assert parsed.entries and parsed.warning and "damaged" in parsed.warning


@pytest.mark.corpus
def test_unreadable_feed_fails_with_parse_error():
    with pytest.raises(ParseError) as info:
        parse(need_shared("corpus", "feeds", "feed_rs_fixtures", "rss_2.0_invalid_1.xml"))
    assert info.value.status is Status.PARSE_ERROR


@pytest.mark.corpus
def test_json_feed_is_read():
    parsed = parse(need_shared("corpus", "feeds", "feedjira_sample_feeds", "json_feed.json"))
    assert len(parsed.entries) == 20 and parsed.title
    assert all(e.published_at is not None for e in parsed.entries)


@pytest.mark.corpus
def test_relative_links_resolve_against_the_feed_url():
    parsed = parse(need_shared("corpus", "feeds", "feed_rs_fixtures", "atom_relative.xml"), url="https://example.org/feed")
    assert parsed.entries[0].url.startswith("https://example.org/")


@pytest.mark.corpus
def test_latin1_feed_decodes():
    parsed = parse(need_shared("corpus", "feeds", "feed_rs_fixtures", "rss_1.0_iso8859.xml"))
    assert "Glasfaserförderung" in (parsed.entries[0].title or "")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><title>&lol3;</title><item><title>x</title><link>https://e.org/a</link></item></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&xxe;</title><item><title>x</title><link>https://e.org/a</link></item></channel></rss>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_entity_declarations_are_refused_unexpanded(body):
    with pytest.raises(ParseError) as info:
        parse_feed(body, source="s", feed_url="https://e.org/feed")
    assert info.value.status is Status.UNSAFE_XML


@pytest.mark.parametrize("body", [b"", b"   \n", b"<html><body>not a feed</body></html>", b"{\"no\": \"items\"}", b"{broken json"])
def test_non_feeds_fail_with_parse_error(body):
    with pytest.raises(ParseError) as info:
        parse_feed(body, source="s", feed_url="https://e.org/feed")
    assert info.value.status is Status.PARSE_ERROR


def test_entries_are_canonical_and_deduplicated():
    body = b"""<rss version="2.0"><channel><title>t</title>
    <item><title>a</title><link>https://e.org/a?utm_source=rss</link></item>
    <item><title>a again</title><link>https://E.org/a#top</link></item>
    <item><title>no link</title></item></channel></rss>"""
    parsed = parse_feed(body, source="s", feed_url="https://e.org/feed")
    assert [e.url for e in parsed.entries] == ["https://e.org/a"]
