"""The sources file: the shipped ones load; a bad entry names itself and the key."""

import pytest

from conftest import REPO
from flows.sources import ConfigError, load_sources


def write(tmp_path, text):
    path = tmp_path / "sources.toml"
    path.write_text(text)
    return path


GOOD = """
[[sources]]
name = "govuk-home-office"
kind = "feed"
url = "https://www.gov.uk/search/news-and-communications.atom?organisations%5B%5D=home-office"
country = "GB"
language = "en"
"""


def test_the_shipped_sources_files_load():
    default = load_sources(REPO / "sources.toml")
    assert len(default) >= 10 and {s.country for s in default} >= {"GB", "NL", "EU"}
    assert all(s.max_concurrency <= 2 and s.min_delay_s >= 1.0 for s in default)
    demo = load_sources(REPO / "flows" / "demo" / "sources.toml")
    assert len(demo) == 4 and {s.language for s in demo} == {"en", "nl"}


def test_defaults_are_polite_and_allow_only_the_feed_host(tmp_path):
    [source] = load_sources(write(tmp_path, GOOD))
    assert source.allowed_hosts == ("www.gov.uk",)
    assert (source.max_concurrency, source.min_delay_s) == (2, 1.0)


@pytest.mark.parametrize("change, culprit", [
    (('name = "govuk-home-office"', 'name = "Bad Name"'), "key 'name'"),
    (('kind = "feed"', 'kind = "carrier-pigeon"'), "key 'kind'"),
    (('url = "https://www.gov.uk', 'url = "ftp://www.gov.uk'), "key 'url'"),
    (('url = "https://www.gov.uk', 'url = "https://reader:s3cret@www.gov.uk'), "key 'url'"),
    (('country = "GB"', 'country = "gb"'), "key 'country'"),
    (('language = "en"', 'language = "english"'), "key 'language'"),
    (('language = "en"', 'language = "xx"'), "key 'language'"),
    (('language = "en"', 'language = "en"\nmax_concurrency = 100'), "key 'max_concurrency'"),
    (('language = "en"', 'language = "en"\nmin_delay_s = -1'), "key 'min_delay_s'"),
    (('language = "en"', 'language = "en"\nallowed_hosts = ["example.org"]'), "key 'allowed_hosts'"),
    (('language = "en"', 'language = "en"\nfrequency = 3'), "key 'frequency'"),
    (('country = "GB"\n', ''), "key 'country'"),
    (('language = "en"', 'language = "en"\nschedule = "every hour"'), "key 'schedule'"),
    (('language = "en"', 'language = "en"\nschedule = "0 25 * * *"'), "key 'schedule'"),
    (('language = "en"', 'language = "en"\nexpected_every_h = 0'), "key 'expected_every_h'"),
    (('language = "en"', 'language = "en"\nexpected_every_h = "daily"'), "key 'expected_every_h'"),
    # codes, ports and hosts
    (('country = "GB"', 'country = "UK"'), "the United Kingdom is GB"),
    (('country = "GB"', 'country = "XX"'), "key 'country'"),
    (('url = "https://www.gov.uk/', 'url = "https://www.gov.uk:99999/'), "key 'url'"),
    (('url = "https://www.gov.uk/', 'url = "https://www.gov.uk /'), "key 'url'"),  # not under allowed_hosts
    (('url = "https://www.gov.uk/', 'url = "https://www.gov.uk/my '), "key 'url'"),
    (('language = "en"', 'language = "en"\nallowed_hosts = ["www.gov.uk:443"]'), "key 'allowed_hosts'"),
])
def test_a_bad_entry_is_named_with_its_key(tmp_path, change, culprit):
    old, new = change
    with pytest.raises(ConfigError) as info:
        load_sources(write(tmp_path, GOOD.replace(old, new)))
    message = str(info.value)
    assert culprit in message and "entry 1" in message


def test_a_schedule_and_an_expected_cadence_of_its_own(tmp_path):
    [source] = load_sources(write(tmp_path, GOOD + 'schedule = "15 */2 * * *"\nexpected_every_h = 12\n'))
    assert (source.schedule, source.expected_every_h) == ("15 */2 * * *", 12.0)


def test_duplicate_names_broken_toml_and_missing_files_are_reported(tmp_path):
    with pytest.raises(ConfigError, match="used by an earlier entry"):
        load_sources(write(tmp_path, GOOD + GOOD))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_sources(write(tmp_path, "[[sources]\nname = 1"))
    with pytest.raises(ConfigError, match="not found"):
        load_sources(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="no \\[\\[sources\\]\\]"):
        load_sources(write(tmp_path, ""))



def test_the_same_feed_twice_is_refused(tmp_path):
    twice = GOOD + GOOD.replace('name = "govuk-home-office"', 'name = "again"')
    with pytest.raises(ConfigError, match="the same URL as source 'govuk-home-office'"):
        load_sources(write(tmp_path, twice))


def test_a_url_with_credentials_is_refused_without_echoing_them(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_sources(write(tmp_path, GOOD.replace('url = "https://', 'url = "https://reader:s3cret@')))
    assert "user name or password" in str(info.value) and "s3cret" not in str(info.value)
