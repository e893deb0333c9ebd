"""Security checks that no other test file owns (docs/security.md maps every threat to its test):
SQL built only from parameters and our own identifiers, hostile text stored as data, the
locked dependencies pinned with hashes, and no secret echoed by a command."""

from __future__ import annotations

import ast
import html
import json
import re
import tomllib
from urllib.parse import urlsplit

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import REPO, Route, loopback_sources
from flows.cli import app
from transforms.urls import canonical_url

PACKAGES = ("flows", "transforms", "schemas", "warehouse")

# Every f-string in the package that holds SQL (an upper-case keyword), with the expressions it
# interpolates: each is an identifier or fragment made by our own code (table and column names
# from our schemas and migrations, placeholders, names of relations we register, our constants),
# never a value read from a feed, a page or a user. A new interpolation fails this test until
# it is reviewed and listed here.
REVIEWED_SQL = {
    # The query `socwatch run` prints for the user to list failed URLs: the run id is our uuid4;
    # the command `socwatch quarantine --run` suggests for listing runs, printed, never run.
    "flows/cli.py": {"summary['run_id']", "_socwatch(db, 'sql')"},
    # Relation names from DuckDB's catalog of our migrations, quoted; COPY takes no parameter
    # for its file, so the export path (the user's --out + our table name) and our schema JSON
    # are string literals with their quotes doubled.
    "warehouse/catalog.py": {"quote_name(rel.name)", "str(target).replace(chr(39), chr(39) * 2)",
                             "schema.replace(chr(39), chr(39) * 2)"},
    # Table and column names from schemas/tables.py's table specs (and ledger.py's PER_SOURCE_TYPE),
    # "?" placeholders, names of relations it registers, and the upsert's clauses joined from those
    # (on, set_stamps, set_content, stored, given, names, selected).
    "warehouse/load.py": {"spec.name", "', '.join(names)", "', '.join(columns)", "', ?' * len(stamped)", "relation",
                          "table", "ids_relation", "on", "set_stamps", "set_content", "stored", "given", "names",
                          "selected"},
    # The profile query, a constant of the module; registered relations; our own table and column
    # names; the block's clause made by its own function; the module's integers MAX_CANDIDATES and
    # FEW; its constant clauses (_STORED_COLUMNS, _AWAITING_RELINK, _AWAITING_REGROUP).
    "warehouse/events.py": {"ids_relation", "relation", "table", "column", "keys_relation",
                            "_block(ids_relation, relinking)", "_RELINKED if relinking else ''",
                            "MAX_CANDIDATES", "FEW", "_STORED_COLUMNS", "_AWAITING_RELINK",
                            "_AWAITING_REGROUP"},
    # Column names of the Watchlist dataclass and their "$" placeholders; our relation, table and
    # column names; SQL fragments made by its own functions (_words_sql, _match_sql's stems).
    "warehouse/watch.py": {"', '.join(_COLUMNS)", "', '.join(('$' + c for c in _COLUMNS))", "_words_sql('$q')", "column",
                           "ids_relation", "relation", "sql", "stems", "table"},
    # Compaction: table and schema names from DuckDB's catalog, quoted (quote_name); the new file's
    # path as a string literal with its quotes doubled (ATTACH takes no parameter); the name it
    # is attached under, a constant.
    "warehouse/compact.py": {"quote_name(database)", "quote_name(t)", "_literal(str(target))", "ATTACHED", "into", "name"},
    "warehouse/ledger.py": {"sets", "PER_SOURCE_TYPE"},
    "warehouse/report.py": {"TOP_SOURCES", "LATEST_BILATERAL"},  # integer constants (LIMIT)
    # The FTS extension's schema name, the tail's query and the fold's temporary tables: constants of the module.
    "warehouse/search.py": {"INDEX_SCHEMA", "TAIL_IDS", "table"},
}
SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|COPY|PRAGMA|ALTER|DROP|ATTACH|WITH)\b")


def test_sql_is_built_only_from_parameters_and_our_own_identifiers():
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                # str.format, % and + on the SQL handed to DuckDB are not used at all.
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr in ("execute", "sql", "executemany") and node.args:
                    sql = node.args[0]
                    where = f"{rel}:{node.lineno}"
                    assert not (isinstance(sql, ast.Call) and isinstance(sql.func, ast.Attribute) and sql.func.attr == "format"), where
                    assert not (isinstance(sql, ast.BinOp) and isinstance(sql.op, ast.Mod | ast.Add)), where
                if isinstance(node, ast.JoinedStr):
                    text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
                    if SQL_WORDS.search(text):
                        found.setdefault(rel, set()).update(
                            ast.unparse(v.value) for v in node.values if isinstance(v, ast.FormattedValue))
    assert found == REVIEWED_SQL


HOSTILE = [
    ("Robert'); DROP TABLE articles; --", "x' OR '1'='1"),
    ("\"; DELETE FROM runs WHERE ''=''; --", "1; ATTACH 'evil.duckdb' AS evil; --"),
]


@pytest.mark.e2e
@pytest.mark.usefixtures("prefect_harness")
def test_hostile_titles_urls_and_text_are_stored_as_data(loopback, tmp_path):
    from flows.ingest import run_ingest

    items = []
    for i, (title, text) in enumerate(HOSTILE):
        path = f"/news/{i}?q={text.replace(' ', '+')}"
        body = (f"<html lang='en'><head><title>{html.escape(title)}</title></head><body><article><h1>{html.escape(title)}</h1>"
                + "".join(f"<p>{html.escape(text)} is a sentence a hostile page puts into its article, number {n}.</p>"
                          for n in range(4)) + "</article></body></html>")
        served = urlsplit(canonical_url(loopback.url(path)))  # what the crawler asks for
        loopback.routes[f"{served.path}?{served.query}"] = Route(200, body.encode())
        items.append(f"<item><title>{html.escape(title)}</title><link>{html.escape(loopback.url(path))}</link></item>")
    loopback.routes["/feed"] = Route(200, ("<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
                                           + "".join(items) + "</channel></rss>").encode(), {"Content-Type": "application/rss+xml"})
    db = tmp_path / "w.duckdb"
    summary = run_ingest(loopback_sources(tmp_path / "sources.toml", loopback, {"hostile": "/feed"}), db)
    con = duckdb.connect(str(db), read_only=True)
    events = con.execute("SELECT url, status, error FROM crawl_events WHERE status <> 'fetched'").fetchall()
    assert summary["status"] == "completed", events
    try:
        titles = {t for (t,) in con.execute("SELECT title FROM articles").fetchall()}
        texts = con.execute("SELECT text FROM articles ORDER BY url").fetchall()
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        databases = {d for (d,) in con.execute("SELECT database_name FROM duckdb_databases() WHERE NOT internal").fetchall()}
        [runs] = con.execute("SELECT count(*) FROM runs").fetchone()
    finally:
        con.close()
    assert titles == {title for title, _ in HOSTILE}
    assert all(text in got for (_, text), (got,) in zip(HOSTILE, texts))
    assert {"articles", "runs", "crawl_events"} <= tables and runs == 1 and databases == {"w"}
    assert not (tmp_path / "evil.duckdb").exists()


def test_every_locked_package_is_pinned_with_a_hash():
    """uv.lock pins every dependency to one version with the hashes of its files (CI installs
    with `uv sync --locked` after `uv lock --check`), so a changed upload cannot slip in."""
    lock = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
    packages = [p for p in lock["package"] if p["name"] != "socwatch"]
    assert len(packages) > 50
    unpinned = [p["name"] for p in packages
                if not p.get("version") or "registry" not in p.get("source", {})
                or not all(f.get("hash", "").startswith("sha256:") for f in [*p.get("wheels", []), *([p["sdist"]] if "sdist" in p else [])])
                or not (p.get("wheels") or p.get("sdist"))]
    assert unpinned == []
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "uv lock --check" in ci and "uv sync --locked" in ci


def test_a_password_in_the_prefect_api_url_is_never_printed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PREFECT_API_URL", "https://bob:t0ken-secret@prefect.example/api")
    result = CliRunner().invoke(app, ["config", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["setting"]: row["value"] for row in json.loads(result.stdout)}
    assert rows["prefect_api"] == "https://bob:***@prefect.example/api"
    assert "t0ken-secret" not in result.output
    table = CliRunner().invoke(app, ["config"])
    assert table.exit_code == 0 and "t0ken-secret" not in table.output


@pytest.mark.usefixtures("prefect_harness")
def test_export_writes_only_files_named_by_our_tables(tmp_path):
    """Export paths come from the catalog's table names, never from content: a warehouse whose
    rows hold path-like text still exports to OUT/<table>.parquet and nothing else."""
    db = tmp_path / "w.duckdb"
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--db", str(db)]).exit_code == 0
    con = duckdb.connect(str(db))
    con.execute("UPDATE articles SET title = '../../escaped', source = '../../../etc/passwd' WHERE rowid = (SELECT min(rowid) FROM articles)")
    con.close()
    out = tmp_path / "out"
    result = runner.invoke(app, ["export", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()} - {"w.duckdb", "w.snapshot.duckdb"}
    assert written and all(name.startswith("out/") and name.count("/") == 1 for name in written), written


def test_redirects_to_other_schemes_metadata_addresses_and_unlisted_hosts_are_never_followed(loopback):
    from test_http import PAGE, fetch_all, source_for

    from schemas.records import Status

    targets = {
        "/to-file": "file:///etc/passwd",
        "/to-metadata": "http://169.254.169.254/latest/meta-data/",
        "/to-private": "http://10.0.0.1/admin",
        "/to-ipv6-loopback": "http://[::1]/",
        "/to-userinfo": "http://127.0.0.1@evil.invalid/",
    }
    for path, location in targets.items():
        loopback.routes[path] = Route(302, b"", {"Location": location})
    loopback.routes["/ok"] = Route(200, PAGE)
    results = fetch_all(source_for(loopback), [loopback.url(p) for p in targets])
    expected = {**dict.fromkeys(targets, Status.BLOCKED_HOST), "/to-file": Status.BLOCKED_SCHEME}
    assert {p: r.status for p, r in zip(targets, results)} == expected
    assert sorted(set(loopback.requests) - {"/robots.txt"}) == sorted(targets)  # only the first hops were asked
