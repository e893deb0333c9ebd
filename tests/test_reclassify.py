"""`reclassify`: a changed taxonomy re-tags stored articles in place, with nothing fetched."""

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import Route, loopback_sources
from flows.cli import app
from flows.ingest import run_ingest
from transforms.classify import TAXONOMY_FILE, default_vocabulary

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.usefixtures("prefect_harness"),
]

PAGE = (b"<html lang='en'><body><article><h1>Cocaine seized in the port</h1><p>"
        + b"Border Force officers seized two tonnes of cocaine hidden in a container of bananas. " * 8
        + b"</p></article></body></html>")


@pytest.fixture
def vocabulary_env(monkeypatch):
    default_vocabulary.cache_clear()
    yield monkeypatch
    monkeypatch.delenv("SOCWATCH_TAXONOMY", raising=False)
    default_vocabulary.cache_clear()


def test_a_changed_taxonomy_retags_in_place_without_fetching(loopback, tmp_path, vocabulary_env):
    loopback.routes["/feed.xml"] = Route(200, (f"<rss version='2.0'><channel><title>t</title><item><title>x</title>"
                                               f"<link>{loopback.url('/a')}</link></item></channel></rss>").encode(),
                                         {"Content-Type": "application/rss+xml"})
    loopback.routes["/a"] = Route(200, PAGE)
    sources = loopback_sources(tmp_path / "sources.toml", loopback, {"s": "/feed.xml"})
    db = tmp_path / "w.duckdb"
    run_ingest(sources, db)
    before = default_vocabulary().version

    def state():
        con = duckdb.connect(str(db), read_only=True)
        try:
            themes = [r[0] for r in con.execute("SELECT theme FROM article_themes ORDER BY theme").fetchall()]
            versions = {r[0] for r in con.execute("SELECT taxonomy_version FROM article_labels").fetchall()}
            return themes, versions
        finally:
            con.close()

    assert state() == (["drugs"], {before})
    # The analyst's own taxonomy: cocaine is no longer a drugs term.
    own = tmp_path / "taxonomy.toml"
    own.write_text(TAXONOMY_FILE.read_text(encoding="utf-8").replace('"cocaïne" = ', '"cocaïnex" = '), encoding="utf-8")
    vocabulary_env.setenv("SOCWATCH_TAXONOMY", str(own))
    default_vocabulary.cache_clear()
    after = default_vocabulary().version
    assert after != before
    requests = len(loopback.requests)
    result = CliRunner().invoke(app, ["reclassify", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "1 article(s) re-tagged" in result.output
    themes, versions = state()
    assert "drugs" not in themes and versions == {after}
    assert len(loopback.requests) == requests  # nothing fetched
    again = CliRunner().invoke(app, ["reclassify", "--db", str(db)])
    assert "0 article(s) re-tagged" in again.output
