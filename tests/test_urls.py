from transforms.urls import article_id, canonical_url, url_host


def test_tracking_parameters_fragment_default_port_and_host_case_are_removed():
    url = "HTTPS://WWW.Gov.UK:443/government/news/x?utm_source=rss&b=2&a=1&fbclid=abc#section"
    assert canonical_url(url) == "https://www.gov.uk/government/news/x?a=1&b=2"


def test_non_default_port_and_empty_path_are_kept_and_filled():
    assert canonical_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080/"
    assert canonical_url("http://example.org:80/a") == "http://example.org/a"


def test_percent_encoding_is_normalised():
    assert canonical_url("https://example.org/caf%c3%a9") == canonical_url("https://example.org/café")
    assert canonical_url("https://example.org/a%2Db") == "https://example.org/a-b"


def test_canonical_url_is_idempotent_and_never_raises_on_junk():
    for url in ["https://x.org/a?b=1&a=%20", "javascript:alert(1)", "http://[::1]:80/x", "http://a:99999/", "",
                "  https://x.org/p  ", "mailto:a@b.c", "http://exa mple.org/"]:
        once = canonical_url(url)
        assert canonical_url(once) == once


def test_article_id_is_deterministic_and_ignores_tracking():
    a = article_id("https://www.gov.uk/news/x?utm_campaign=y")
    assert a == article_id("https://www.gov.uk/news/x")
    assert len(a) == 20 and int(a, 16) >= 0
    assert a != article_id("https://www.gov.uk/news/y")


def test_url_host():
    assert url_host("https://WWW.GOV.UK./x") == "www.gov.uk"
    assert url_host("not a url") is None


# Property-based (hypothesis) tests of canonical_url: tests/test_fuzz.py.


def test_escapes_of_reserved_and_non_utf8_bytes_keep_urls_distinct():
    distinct = ["https://e.org/s?q=C%2B%2B", "https://e.org/s?q=C++", "https://e.org/p%2Fq", "https://e.org/p/q",
                "https://e.org/caf%E9", "https://e.org/caf%E8", "https://e.org/a?x=1%262", "https://e.org/a?x=1&2",
                "https://e.org/%%41B", "https://e.org/%AB"]
    assert len({canonical_url(u) for u in distinct}) == len(distinct)
    assert len({article_id(u) for u in distinct}) == len(distinct)
    for url in ("https://e.org/%f%41", "https://e.org/100%", "https://e.org/%%41B?q=%"):
        assert canonical_url(canonical_url(url)) == canonical_url(url)
