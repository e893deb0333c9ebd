"""The command line: the demo's promise, exit statuses, and `sql` output formats."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from conftest import REPO
from flows.cli import DEMO_QUERIES, app

runner = CliRunner()


def socwatch(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


@pytest.mark.e2e
@pytest.mark.usefixtures("prefect_harness")
def test_demo_builds_the_promised_warehouse_and_a_second_demo_adds_nothing(tmp_path):
    db = tmp_path / "demo.duckdb"
    first = runner.invoke(app, ["demo", "--db", str(db)])
    assert first.exit_code == 0, first.output
    assert "Bilateral partnerships" in first.output
    # The queries it shows can be pasted as they are: they name the warehouse it built.
    assert " ".join(first.output.split()).count(f"socwatch sql --db {db} ") == len(DEMO_QUERIES)

    def one(query):
        result = runner.invoke(app, ["sql", query, "--db", str(db), "--format", "json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    [facts] = one("SELECT count(*) AS articles, count(DISTINCT language) AS languages, count(DISTINCT source) AS sources, "
                  "(SELECT count(DISTINCT theme) FROM article_themes) AS themes, "
                  "(SELECT count(*) FROM announcements WHERE bilateral) AS bilateral FROM articles")
    assert facts["articles"] >= 30 and facts["languages"] == 2 and facts["sources"] >= 3
    assert facts["themes"] >= 5 and facts["bilateral"] >= 1

    second = runner.invoke(app, ["demo", "--db", str(db)])
    assert second.exit_code == 0, second.output
    [again] = one("SELECT (SELECT count(*) FROM articles) AS articles, (SELECT count(*) FROM article_versions) AS versions, "
                  "(SELECT n_new FROM runs ORDER BY started_at DESC LIMIT 1) AS new_in_last_run")
    assert again == {"articles": facts["articles"], "versions": facts["articles"], "new_in_last_run": 0}

    [views] = one("SELECT (SELECT count(*) FROM partnerships WHERE country_a = 'GB' AND country_b = 'NL') AS gb_nl, "
                  "(SELECT sum(articles) FROM theme_monthly) >= (SELECT count(*) FROM article_themes) AS monthly, "
                  "(SELECT count(*) FROM source_health WHERE failure_streak = 0 AND last_success_at IS NOT NULL) AS healthy")
    assert views == {"gb_nl": 1, "monthly": True, "healthy": 4}

    csv_out = runner.invoke(app, ["sql", "SELECT source, count(*) AS n FROM articles GROUP BY 1 ORDER BY 1", "--db", str(db), "--format", "csv"])
    assert csv_out.output.splitlines()[0] == "source,n" and len(csv_out.output.splitlines()) == 5
    table = runner.invoke(app, ["sql", "SELECT themes FROM announcements WHERE bilateral LIMIT 1", "--db", str(db)])
    assert table.exit_code == 0 and "themes" in table.output

    # Full-text search, offline, over English and Dutch (accents folded: cocaïne = cocaine).
    hits = runner.invoke(app, ["search", "cocaine", "--db", str(db), "--limit", "10"])
    assert hits.exit_code == 0, hits.output
    lines = hits.output.splitlines()
    assert len(lines) >= 3 and "ocaine" in lines[0].lower()
    assert any("politie" in line or "rijksoverheid" in line for line in lines)  # Dutch articles found too
    dutch = runner.invoke(app, ["search", "cocaine", "--db", str(db), "--country", "NL", "--theme", "drugs", "--since", "2026-01-01"])
    assert dutch.exit_code == 0 and dutch.output.strip()
    urls = [line.split()[-1] for line in dutch.output.splitlines()]
    found = one("SELECT url, countries, themes, published_at FROM announcements WHERE list_contains(["
                + ", ".join(f"'{u}'" for u in urls) + "], url)")
    assert len(found) == len(urls)
    assert all("NL" in f["countries"] and "drugs" in f["themes"] and f["published_at"] >= "2026-01-01" for f in found)


def test_a_bad_sources_file_exits_2_naming_the_entry_before_anything_runs(tmp_path):
    bad = tmp_path / "sources.toml"
    bad.write_text('[[sources]]\nname = "x"\nkind = "feed"\nurl = "https://e.org/f"\ncountry = "Britain"\nlanguage = "en"\n')
    home = tmp_path / "prefect"
    result = socwatch("run", "--sources", str(bad), "--db", str(tmp_path / "w.duckdb"),
                      env={"PREFECT_HOME": str(home), "PREFECT_API_URL": "", "SOCWATCH_API_KEEP_S": "600"})
    assert result.returncode == 2
    assert "source 'x' (entry 1): key 'country'" in result.stderr
    assert not (tmp_path / "w.duckdb").exists()
    assert not home.exists()  # nor a Prefect API kept for the next command


def test_sql_errors_and_missing_warehouses_exit_2_with_a_message(tmp_path):
    missing = runner.invoke(app, ["sql", "SELECT 1", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2 and "no warehouse" in missing.output
    db = tmp_path / "w.duckdb"
    from warehouse.db import connect
    connect(db).close()
    bad = runner.invoke(app, ["sql", "SELEC nothing", "--db", str(db)])
    assert bad.exit_code == 2 and "query failed" in bad.output
    fmt = runner.invoke(app, ["sql", "SELECT 1", "--db", str(db), "--format", "xml"])
    assert fmt.exit_code == 2
    nothing = runner.invoke(app, ["sql", "/* only a comment */ ;", "--db", str(db)])
    assert nothing.exit_code == 2 and nothing.output.count("error:") == 1 and "no result set" in nothing.output


def test_the_demo_reclassify_and_readers_refuse_a_warehouse_they_should_not_touch(tmp_path):
    from warehouse.db import connect

    # The demo's invented articles never go into a warehouse of real sources.
    real = tmp_path / "real.duckdb"
    con = connect(real)
    con.execute("INSERT INTO sources (source, kind, url, country, language, title, first_seen_at, last_seen_at) "
                "VALUES ('nca-news', 'feed', 'https://www.nationalcrimeagency.gov.uk/news', 'GB', 'en', NULL, now(), now())")
    con.close()
    demo = runner.invoke(app, ["demo", "--db", str(real)])
    assert demo.exit_code == 2 and "nca-news" in demo.output and "demo --db" in demo.output
    con = connect(real, read_only=True)
    assert con.execute("SELECT count(*) FROM articles").fetchone() == (0,)
    con.close()
    # reclassify does not make a new, empty warehouse of a mistyped --db.
    typo = tmp_path / "typo.duckdb"
    result = runner.invoke(app, ["reclassify", "--db", str(typo)])
    assert result.exit_code == 2 and "no warehouse at" in result.output and not typo.exists()
    # A file that is no DuckDB database is named as such, by readers and writers alike.
    parquet = tmp_path / "announcements.parquet"
    parquet.write_bytes(b"PAR1" + bytes(60))
    for args in (["sql", "SELECT 1"], ["reclassify"], ["search", "cocaine"]):
        refused = runner.invoke(app, [*args, "--db", str(parquet)])
        assert refused.exit_code == 2 and "is not a DuckDB database file" in refused.output, (args, refused.output)
    # A search's filters and words are checked as a watchlist's are.
    for args in (["search", "cocaine", "--country", "Netherlands"], ["search", "cocaine", "--country", "XX"],
                 ["events", "--country", "XX"]):
        refused = runner.invoke(app, [*args, "--db", str(real)])
        assert refused.exit_code == 2 and "is not a country code" in refused.output, (args, refused.output)
    for args in (["search", "cocaine", "--country", "UK"], ["events", "--partners", "UK-NL"]):
        uk = runner.invoke(app, [*args, "--db", str(real)])
        said = " ".join(uk.output.split())
        assert uk.exit_code == 2 and "not a country code" in said and "the United Kingdom is GB" in said, said
    empty = runner.invoke(app, ["search", "  ", "--db", str(real)])
    assert empty.exit_code == 2 and "words to look for" in empty.output
    unknown = runner.invoke(app, ["quarantine", "--run", "nope", "--db", str(real)])
    assert unknown.exit_code == 2 and "no run of this warehouse" in unknown.output


def test_the_db_defaults_to_socwatch_db_from_the_environment(tmp_path):
    db = tmp_path / "env.duckdb"
    from warehouse.db import connect
    connect(db).close()
    result = runner.invoke(app, ["sql", "SELECT count(*) AS n FROM articles", "--format", "json"], env={"SOCWATCH_DB": str(db)})
    assert result.exit_code == 0 and json.loads(result.output) == [{"n": 0}]


def test_a_command_with_a_process_of_its_own_freezes_what_its_imports_made_and_one_in_a_test_does_not():
    """flows/heap.py: the run's process stops walking the imports' objects at each collection;
    in a test's process (CliRunner) the test's objects must stay collectable."""
    import gc

    from flows import cli
    from flows.heap import FIRST_GENERATION

    before = gc.get_freeze_count(), gc.get_threshold()
    cli._settle_heap()
    assert (gc.get_freeze_count(), gc.get_threshold()) == before
    code = ("import gc, flows.cli as cli; cli._OWN_PROCESS = True; cli._settle_heap(); "
            "print(gc.get_freeze_count(), gc.get_threshold()[0], len(gc.get_objects()))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    frozen, first, walked = map(int, done.stdout.split())
    assert frozen > 100_000 and walked < 1_000 and first == FIRST_GENERATION


def test_a_command_with_a_process_of_its_own_imports_its_flow_without_the_collector_and_turns_it_on_again():
    import gc

    from flows import cli

    with cli._flow_imports():
        assert gc.isenabled()  # a test's process: untouched
    code = ("import gc, flows.cli as cli; cli._OWN_PROCESS = True\n"
            "with cli._flow_imports(): during = gc.isenabled()\n"
            "try:\n    with cli._flow_imports(): raise ImportError('no such module')\nexcept ImportError: pass\n"
            "print(during, gc.isenabled())")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
