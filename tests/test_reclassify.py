"""`reclassify`: a changed taxonomy re-tags stored articles in place, with nothing fetched."""

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import Route, loopback_sources
from flows.cli import app
from flows.ingest import IngestOptions, run_ingest
from flows.reclassify import ReclassifyOptions, run_reclassify
from transforms.vocabulary import TAXONOMY_FILE, vocabulary

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.usefixtures("prefect_harness"),
]

PAGE = (b"<html lang='en'><body><article><h1>Cocaine seized in the port</h1><p>"
        + b"Border Force officers seized two tonnes of cocaine hidden in a container of bananas. " * 8
        + b"</p></article></body></html>")


def test_a_changed_taxonomy_retags_in_place_without_fetching(loopback, tmp_path, monkeypatch):
    loopback.routes["/feed.xml"] = Route(200, (f"<rss version='2.0'><channel><title>t</title><item><title>x</title>"
                                               f"<link>{loopback.url('/a')}</link></item></channel></rss>").encode(),
                                         {"Content-Type": "application/rss+xml"})
    loopback.routes["/a"] = Route(200, PAGE)
    sources = loopback_sources(tmp_path / "sources.toml", loopback, {"s": "/feed.xml"})
    db = tmp_path / "w.duckdb"
    run_ingest(sources, db)
    before = vocabulary().version

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
    own.write_text(TAXONOMY_FILE.read_text(encoding="utf-8").replace('"cocaïne*" = ', '"cocaïnex" = '), encoding="utf-8")
    monkeypatch.setenv("SOCWATCH_TAXONOMY", str(own))  # the setting, as the command line reads it
    after = vocabulary(own).version
    assert after != before
    waiting = CliRunner().invoke(app, ["status", "--db", str(db)]).output
    assert f"1 article(s) not tagged with this socwatch's taxonomy ({after})" in waiting, waiting
    requests = len(loopback.requests)
    result = CliRunner().invoke(app, ["reclassify", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "1 article(s) re-tagged" in result.output
    themes, versions = state()
    assert "drugs" not in themes and versions == {after}
    assert len(loopback.requests) == requests  # nothing fetched
    again = CliRunner().invoke(app, ["reclassify", "--db", str(db)])
    assert "0 article(s) re-tagged" in again.output
    assert "socwatch reclassify" not in CliRunner().invoke(app, ["status", "--db", str(db)]).output


def test_a_taxonomy_of_ones_own_reaches_the_extraction_workers_and_reclassify(loopback, tmp_path):
    """The taxonomy setting is handed to the stages as a value (no environment, no cached
    singleton): the pool's workers tag with it, and reclassify with the shipped one undoes it."""
    loopback.routes["/feed.xml"] = Route(200, ("<rss version='2.0'><channel><title>t</title>" + "".join(
        f"<item><title>x{i}</title><link>{loopback.url(f'/a{i}')}</link></item>" for i in range(3))
        + "</channel></rss>").encode(), {"Content-Type": "application/rss+xml"})
    for i in range(3):
        loopback.routes[f"/a{i}"] = Route(200, PAGE.replace(b"the port", f"port {i}".encode()))
    sources = loopback_sources(tmp_path / "sources.toml", loopback, {"s": "/feed.xml"})
    own = tmp_path / "taxonomy.toml"
    own.write_text(TAXONOMY_FILE.read_text(encoding="utf-8").replace("[themes.drugs", "[themes.narcotics"), encoding="utf-8")
    db = tmp_path / "w.duckdb"
    run_ingest(sources, db, options=IngestOptions(taxonomy=str(own), pool_min_pages=1, workers=2))

    def tagged() -> tuple[set[str], set[str]]:
        con = duckdb.connect(str(db), read_only=True)
        try:
            return ({r[0] for r in con.execute("SELECT theme FROM article_themes").fetchall()},
                    {r[0] for r in con.execute("SELECT taxonomy_version FROM article_labels").fetchall()})
        finally:
            con.close()

    assert tagged() == ({"narcotics"}, {vocabulary(own).version})
    summary = run_reclassify(db, ReclassifyOptions(pool_min_articles=1, workers=2))  # the shipped taxonomy, through a pool
    assert summary["reclassified"] == 3
    assert tagged() == ({"drugs"}, {vocabulary().version})
