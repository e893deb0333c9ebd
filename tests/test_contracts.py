"""Data-quality contracts: every check of every table's pandera model, fed a row that breaks it.

Each case builds a small valid batch for one table (rows written for this test), breaks one
row so that exactly one check fails, and sends the batch through the pipeline's own path
(`frame` -> `validate` -> `load_batch`) into a real warehouse file. The broken row must be in
`quarantine` under that check, with its record, and the other rows in the table. A check
added to a model without a case here fails `test_every_check_of_every_model_has_a_case`.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from flows.validate import build_batch, tag_frames
from schemas import tables
from schemas.records import Article, Fetched, Processed, Status, Tags, ThemeScore
from schemas.tables import frame, record_json, validate
from transforms import classify
from transforms.documents import content_hash
from transforms.urls import article_id
from transforms.vocabulary import CUES_FILE, TAXONOMY_FILE, vocabulary
from warehouse import db as wdb
from warehouse.ledger import start_run
from warehouse.load import load_batch, register

CHILD_TABLES = tables.CHILD_TABLES
# The columns that tell the rows of a table apart, to see which rows were loaded.
ROW_KEYS = {
    "articles": ("article_id",),
    "article_themes": ("article_id", "theme"),
    "article_countries": ("article_id", "country"),
    "article_dyads": ("article_id", "country_a", "country_b"),
    "article_labels": ("article_id",),
    "article_facts": ("article_id", "seq"),
    "crawl_events": ("url",),
    "http_cache": ("url",),
}
RECENT = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
FUTURE = datetime.now(UTC) + timedelta(days=3)
URLS = [f"https://www.gov.example/news/announcement-{i}" for i in range(4)]
IDS = [article_id(u) for u in URLS]


def themes() -> dict[str, tuple[float, float]]:
    """The ranges the pipeline checks article_themes against: those of the taxonomy in use."""
    return classify.score_bounds(vocabulary())


# --- Valid batches (text written for these tests). -----------------------------------------------

def articles_rows() -> list[dict]:
    rows = []
    for i, (url, a_id) in enumerate(zip(URLS, IDS, strict=True)):
        title = f"Minister announces joint action against organised crime, part {i}"
        text = f"Written for the contract tests.\nAgencies of two countries agreed to share intelligence, item {i}."
        rows.append({
            "article_id": a_id, "url": url, "source": "gov-example", "publisher": "Example Office", "title": title,
            "text": text, "description": None, "author": None, "site_name": "GOV.EXAMPLE", "language": ("en", "nl", "cy", "en")[i],
            "published_at": RECENT, "feed_published_at": RECENT, "page_published_at": RECENT - timedelta(hours=1),
            "content_hash": content_hash(title, text), "source_published_at": RECENT, "updated_at": RECENT,
            "document_type": "press_release", "organisations": ["Example Office"], "withdrawn": False,
        })
    return rows


def themes_rows() -> list[dict]:
    first, second = sorted(themes())[:2]
    return [
        {"article_id": a_id, "theme": theme, "score": round(themes()[theme][0] + 1.25, 3),
         "evidence": [{"term": "example term", "count": 2}], "taxonomy_version": "tx-contract"}
        for a_id in IDS[:2] for theme in (first, second)
    ]


def countries_rows() -> list[dict]:
    return [{"article_id": a, "country": c} for a, c in ((IDS[0], "GB"), (IDS[0], "NL"), (IDS[1], "EU"), (IDS[1], "FR"))]


def dyads_rows() -> list[dict]:
    return [{"article_id": a, "country_a": x, "country_b": y}
            for a, x, y in ((IDS[0], "GB", "NL"), (IDS[1], "BE", "NL"), (IDS[2], "DE", "FR"))]


def labels_rows() -> list[dict]:
    return [{"article_id": a, "bilateral": b, "announcement_type": t, "taxonomy_version": "tx-contract"}
            for a, b, t in ((IDS[0], True, "agreement"), (IDS[1], False, "operation_result"), (IDS[2], False, "other"))]


def facts_rows() -> list[dict]:
    base = {"subject": None, "quantity": None, "unit": None, "value": None, "action": None, "country": None,
            "evidence_in": "text", "taxonomy_version": "tx-contract"}
    return [
        {**base, "article_id": IDS[0], "seq": 0, "kind": "drug", "subject": "cocaine", "quantity": 3.2, "unit": "t",
         "value": 3200.0, "evidence_start": 10, "evidence_end": 28},
        {**base, "article_id": IDS[0], "seq": 1, "kind": "money", "subject": "EUR", "quantity": 1.5e6, "unit": "EUR",
         "value": 1.5e6, "action": "seized", "evidence_start": 40, "evidence_end": 54},
        {**base, "article_id": IDS[0], "seq": 2, "kind": "agency", "subject": "FIOD", "country": "NL",
         "evidence_in": "title", "evidence_start": 0, "evidence_end": 4},
        {**base, "article_id": IDS[1], "seq": 0, "kind": "arrests", "quantity": 2.0, "value": 2.0, "evidence_start": 5,
         "evidence_end": 20},
    ]


def events_rows() -> list[dict]:
    base = {"source": "gov-example", "http_status": 200, "error": None, "content_type": "text/html; charset=utf-8",
            "bytes": 20_000, "elapsed_ms": 120, "change": None, "event_at": RECENT}
    return [
        {**base, "url": "https://www.gov.example/news.atom", "url_kind": "feed", "status": "fetched",
         "final_url": "https://www.gov.example/news.atom", "article_id": None},
        {**base, "url": URLS[0], "url_kind": "page", "status": "fetched", "final_url": URLS[0], "article_id": IDS[0]},
        {**base, "url": URLS[1], "url_kind": "page", "status": "not_modified", "http_status": 304, "bytes": None,
         "final_url": URLS[1], "article_id": IDS[1]},
        {**base, "url": "mailto:press@gov.example", "url_kind": "page", "status": "blocked_host", "http_status": None,
         "error": "not an http(s) URL", "content_type": None, "bytes": None, "elapsed_ms": None, "final_url": None,
         "article_id": None},
        # a redirect refused: where it pointed is recorded, whatever its scheme
        {**base, "url": "https://www.gov.example/news/moved", "url_kind": "page", "status": "blocked_host",
         "http_status": 302, "error": "redirect to a host not allowed", "content_type": None, "bytes": None,
         "final_url": "file:///etc/passwd", "article_id": None},
    ]


def cache_rows() -> list[dict]:
    return [
        {"url": URLS[0], "source": "gov-example", "etag": '"abc123"', "last_modified": None},
        {"url": URLS[1], "source": "gov-example", "etag": None, "last_modified": "Tue, 03 Mar 2026 10:00:00 GMT"},
        {"url": "https://www.gov.example/news.atom", "source": "gov-example", "etag": 'W/"feed-7"',
         "last_modified": "Tue, 03 Mar 2026 09:00:00 GMT"},
    ]


VALID = {
    "articles": articles_rows, "article_themes": themes_rows, "article_countries": countries_rows,
    "article_dyads": dyads_rows, "article_labels": labels_rows, "article_facts": facts_rows, "crawl_events": events_rows,
    "http_cache": cache_rows,
}


# --- One case per check (some checks have a second way to break them). ------------------------------

@dataclass(frozen=True)
class Case:
    table: str
    column: str | None  # None: a check of the whole row
    check: str
    change: dict | Callable[[list[dict]], dict]  # new values for the broken row (or made from the batch)
    row: int = 1
    variant: str = ""

    @property
    def id(self) -> str:
        return "-".join(p for p in (self.table, self.column or "row", self.check, self.variant) if p)


def _copy_of_first(*columns: str) -> Callable[[list[dict]], dict]:
    return lambda rows: {c: rows[0][c] for c in columns}


def _not_null(table: str, *columns: str) -> list[Case]:
    return [Case(table, c, "not_nullable", {c: None}) for c in columns]


DATES = ("published_at",)

CASES = [
    # articles
    *_not_null("articles", "article_id", "url", "source", "title", "text", "language", "content_hash"),
    Case("articles", "article_id", "article_id_format", {"article_id": "0123456789ABCDEF0123"}),
    Case("articles", None, "unique_article_id", _copy_of_first("article_id"), row=2),
    Case("articles", "url", "http_url", {"url": "ftp://www.gov.example/news/1"}),
    Case("articles", "url", "http_url", {"url": "https://www.gov.example/news with space"}, variant="space"),
    Case("articles", "url", "url_length", {"url": "https://www.gov.example/" + "a" * 2100}),
    Case("articles", "source", "source_name", {"source": "Gov Example"}),
    Case("articles", "title", "not_blank", {"title": " \n\t "}),
    Case("articles", "title", "str_length", {"title": "A" * 2001}),
    Case("articles", "text", "not_blank", {"text": "\u00a0\n  \n"}),
    Case("articles", "language", "iso_639_1", {"language": "xx"}),
    Case("articles", "language", "iso_639_1", {"language": "EN"}, variant="upper"),
    Case("articles", "content_hash", "sha256_hex", {"content_hash": "not-a-hash"}),
    *(Case("articles", c, "not_in_future", {c: FUTURE}) for c in DATES),
    # article_themes
    *_not_null("article_themes", "article_id", "theme", "score", "evidence", "taxonomy_version"),
    Case("article_themes", "article_id", "article_id_format", {"article_id": "x"}),
    Case("article_themes", "theme", "taxonomy_theme", {"theme": "not_a_theme_of_this_taxonomy"}),
    Case("article_themes", None, "score_range", lambda rows: {"score": themes()[rows[1]["theme"]][0] - 0.5}, variant="below"),
    Case("article_themes", None, "score_range", {"score": float("inf")}, variant="infinite"),
    Case("article_themes", None, "score_range", lambda rows: {"score": themes()[rows[1]["theme"]][1] + 1}, variant="above"),
    Case("article_themes", "evidence", "has_evidence", {"evidence": []}),
    Case("article_themes", "evidence", "has_evidence", {"evidence": [{"term": "x", "count": 0}]}, variant="zero"),
    Case("article_themes", "taxonomy_version", "not_blank", {"taxonomy_version": "  "}),
    Case("article_themes", None, "unique_article_id_theme", _copy_of_first("article_id", "theme", "score"), row=2),
    # article_countries
    *_not_null("article_countries", "article_id", "country"),
    Case("article_countries", "article_id", "article_id_format", {"article_id": ""}),
    Case("article_countries", "country", "actor_code", {"country": "UK"}),
    Case("article_countries", None, "unique_article_id_country", _copy_of_first("article_id", "country"), row=3),
    # article_dyads
    *_not_null("article_dyads", "article_id", "country_a", "country_b"),
    Case("article_dyads", "article_id", "article_id_format", {"article_id": "g" * 20}),
    Case("article_dyads", "country_a", "nation_code", {"country_a": "EU"}, row=2),
    Case("article_dyads", "country_b", "nation_code", {"country_b": "ZZ"}),
    Case("article_dyads", None, "ordered_pair", {"country_a": "NL", "country_b": "BE"}),
    Case("article_dyads", None, "distinct_pair", {"country_a": "NL", "country_b": "NL"}),
    Case("article_dyads", None, "unique_article_id_country_a_country_b",
         _copy_of_first("article_id", "country_a", "country_b"), row=2),
    Case("article_dyads", "evidence_in", "evidence_place", {"evidence_in": "summary", "evidence_start": 0, "evidence_end": 9}),
    Case("article_dyads", None, "evidence_span", {"relation": "samen met", "evidence_in": "text", "evidence_start": 40,
                                                  "evidence_end": 12}),
    # article_labels
    *_not_null("article_labels", "article_id", "bilateral", "announcement_type", "taxonomy_version"),
    Case("article_labels", "article_id", "article_id_format", {"article_id": "1234"}),
    Case("article_labels", "announcement_type", "announcement_type", {"announcement_type": "press_release"}),
    Case("article_labels", "taxonomy_version", "not_blank", {"taxonomy_version": ""}),
    Case("article_labels", None, "unique_article_id", _copy_of_first("article_id"), row=2),
    # article_facts
    *_not_null("article_facts", "article_id", "seq", "kind", "evidence_in", "evidence_start", "evidence_end",
               "taxonomy_version"),
    Case("article_facts", "article_id", "article_id_format", {"article_id": "facts"}),
    Case("article_facts", "seq", "non_negative", {"seq": -1}),
    Case("article_facts", "kind", "fact_kind", {"kind": "seizure"}),
    Case("article_facts", "taxonomy_version", "not_blank", {"taxonomy_version": " "}),
    Case("article_facts", None, "unique_article_id_seq", _copy_of_first("article_id", "seq"), row=3),
    Case("article_facts", "evidence_in", "evidence_place", {"evidence_in": "summary"}),
    Case("article_facts", None, "evidence_span", {"evidence_start": 30, "evidence_end": 30}),
    Case("article_facts", "quantity", "finite_positive", {"quantity": float("nan")}),
    Case("article_facts", "value", "finite_positive", {"value": -3.0}),
    Case("article_facts", None, "agency_country", {"country": "UK"}, row=2),
    # crawl_events
    *_not_null("crawl_events", "source", "url", "url_kind", "status", "event_at"),
    Case("crawl_events", "source", "source_name", {"source": ""}),
    Case("crawl_events", "url", "not_blank", {"url": " "}),
    Case("crawl_events", "url_kind", "url_kind", {"url_kind": "sitemap"}),
    Case("crawl_events", "status", "crawl_status", {"status": "ok"}, row=0),
    Case("crawl_events", "http_status", "http_status_code", {"http_status": 999}),
    Case("crawl_events", "http_status", "http_status_code", {"http_status": 0}, variant="zero"),
    Case("crawl_events", None, "http_final_url", {"final_url": "gopher://www.gov.example/1"}),
    Case("crawl_events", "bytes", "non_negative", {"bytes": -1}),
    Case("crawl_events", "elapsed_ms", "non_negative", {"elapsed_ms": -5}),
    Case("crawl_events", "article_id", "article_id_format", {"article_id": "not-an-id"}),
    Case("crawl_events", "change", "change_kind", {"change": "deleted"}),
    Case("crawl_events", "event_at", "not_in_future", {"event_at": FUTURE}),
    Case("crawl_events", None, "article_when_stored", {"article_id": IDS[3]}, row=3),
    Case("crawl_events", None, "unique_source_url", _copy_of_first("url"), row=2),
    # http_cache
    *_not_null("http_cache", "url", "source"),
    Case("http_cache", "url", "http_url", {"url": "gov.example/news"}),
    Case("http_cache", "url", "url_length", {"url": "https://www.gov.example/?q=" + "b" * 2100}),
    Case("http_cache", "source", "source_name", {"source": "gov_example"}),
    Case("http_cache", None, "has_validator", {"etag": None, "last_modified": None}),
    Case("http_cache", None, "has_validator", {"etag": "  ", "last_modified": None}, variant="blank"),
    Case("http_cache", None, "unique_url", _copy_of_first("url"), row=2),
]


def broken_rows(case: Case) -> list[dict]:
    """The table's valid batch with the case's row broken."""
    rows = VALID[case.table]()
    change = case.change(rows) if callable(case.change) else case.change
    rows[case.row] = {**rows[case.row], **change}
    return rows


def model_checks() -> set[tuple[str, str | None, str]]:
    """(table, column or None for a row check, check name) of every check the models define."""
    found = set()
    for table, model in ((name, spec.model) for name, spec in tables.TABLES.items()):
        schema = model.to_schema()
        for name, column in schema.columns.items():
            if not column.nullable:
                found.add((table, name, "not_nullable"))
            if column.unique:
                found.add((table, name, "field_uniqueness"))
            found.update((table, name, check.name) for check in column.checks)
        found.update((table, None, check.name) for check in schema.checks)
        if schema.unique:
            found.add((table, None, "multiple_fields_uniqueness"))
    return found


# --- The warehouse: migrated once, copied per test. -------------------------------------------------

@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("contracts") / "template.duckdb"
    wdb.connect(path).close()
    return path


@pytest.fixture
def con(template, tmp_path):
    path = tmp_path / "w.duckdb"
    shutil.copyfile(template, path)
    c = wdb.connect(path)
    start_run(c, "run-1", "ingest")
    yield c
    c.close()


def load_through_pipeline(con, table: str, rows: list[dict]) -> None:
    """What flows.validate does with a batch, then warehouse.load: tag rows come with their
    (valid) articles, whose load is what writes them."""
    frames, rejects = {}, []
    if table in CHILD_TABLES:
        frames["articles"], parent_rejects = validate("articles", frame("articles", articles_rows()))
        assert parent_rejects == []
    frames[table], table_rejects = validate(table, frame(table, rows), themes())
    rejects.extend(table_rejects)
    load_batch(con, "run-1", frames, rejects)


def stored_keys(con, table: str) -> list[tuple]:
    columns = ", ".join(ROW_KEYS[table])
    return sorted(con.execute(f"SELECT {columns} FROM {table}").fetchall())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_row_breaking_a_check_is_quarantined_with_its_reason_and_the_rest_loads(con, case):
    rows = broken_rows(case)
    bad = frame(case.table, rows).row(case.row, named=True)

    load_through_pipeline(con, case.table, rows)

    quarantined = con.execute('SELECT table_name, record_key, "check", reason, record FROM quarantine').fetchall()
    assert len(quarantined) == 1, quarantined
    table_name, record_key, check, reason, record = quarantined[0]
    assert table_name == case.table
    assert record_key == bad[tables.TABLES[case.table].record_key]
    assert check == case.check, reason  # exactly this check failed
    assert reason.count(" failed for ") == 1 and reason.startswith(f"{case.column or 'row'}: {case.check}"), reason
    assert json.loads(record) == json.loads(record_json(bad))
    others = [r for i, r in enumerate(rows) if i != case.row]
    assert stored_keys(con, case.table) == sorted(tuple(r[c] for c in ROW_KEYS[case.table]) for r in others)


@pytest.mark.parametrize("table", sorted(VALID))
def test_the_valid_batches_load_whole(con, table):
    rows = VALID[table]()
    load_through_pipeline(con, table, rows)
    assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
    assert stored_keys(con, table) == sorted(tuple(r[c] for c in ROW_KEYS[table]) for r in rows)


@pytest.mark.parametrize("table", sorted(VALID))
def test_the_one_pass_verdict_is_pandera_s(table):
    """validate() judges a batch in one Polars pass and asks pandera only when a row fails:
    every model's checks are in that pass, and pandera itself passes what it passes."""
    assert tables._verdict(table) is not None, "a check not made by the builders in schemas/tables.py"
    df = frame(table, VALID[table]())
    token = tables._THEMES.set(themes())
    try:
        assert tables._all_pass(table, df)
        tables.TABLES[table].model.validate(df, lazy=True)  # raises if pandera disagrees
        for case in (c for c in CASES if c.table == table):  # and the pass fails every broken batch
            assert not tables._all_pass(table, frame(table, broken_rows(case))), case.id
    finally:
        tables._THEMES.reset(token)


def test_every_check_of_every_model_has_a_case():
    assert set(tables.TABLES) == set(VALID) == set(ROW_KEYS)
    covered = {(c.table, c.column, c.check) for c in CASES}
    defined = model_checks()
    assert defined - covered == set(), "checks without a case in CASES"
    assert covered - defined == set(), "cases of checks the models do not define"
    assert len({c.id for c in CASES}) == len(CASES)


def test_every_table_the_load_writes_has_a_model():
    assert {"articles", "crawl_events", "http_cache", *tables.CHILD_TABLES} == set(tables.TABLES)


def test_each_table_spec_matches_the_migrated_table(tmp_path):
    """The specs and the hand-written migrations say the same: every column of a spec is a
    column of its table with the same DuckDB type as its frame's, and the spec's key is the
    table's primary key (or, for crawl_events, its unique key), or, for a table the spec
    says has no index (articles), the table has no key nor index at all."""
    con = wdb.connect(tmp_path / "w.duckdb")
    try:
        for name, spec in tables.TABLES.items():
            columns = {row[0]: row[1] for row in con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?", [name]).fetchall()}
            assert set(spec.columns) <= set(columns), (name, set(spec.columns) - set(columns))
            register(con, "spec_frame", tables.frame(name, []))
            try:
                frame_types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE spec_frame)").fetchall())
            finally:
                con.unregister("spec_frame")
            differing = {c: (frame_types[c], columns[c]) for c in spec.columns if frame_types[c] != columns[c]}
            assert differing == {}, (name, differing)
            keys = [tuple(k) for (k,) in con.execute(
                "SELECT constraint_column_names FROM duckdb_constraints() WHERE table_name = ? "
                "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')", [name]).fetchall()]
            if spec.indexed:
                assert spec.key in keys, (name, spec.key, keys)
            else:
                indexes = con.execute("SELECT count(*) FROM duckdb_indexes() WHERE table_name = ?", [name]).fetchone()[0]
                assert (keys, indexes) == ([], 0), (name, keys, indexes)
    finally:
        con.close()


# --- The vocabularies the checks share with the code that makes the rows. ----------------------------

def test_code_lists_match_their_producers():
    from schemas.records import Status

    cues = tomllib.loads(CUES_FILE.read_text(encoding="utf-8"))["types"]
    assert {name for name, value in cues.items() if isinstance(value, dict)} == set(tables.ANNOUNCEMENT_TYPES)
    assert set(tables.STATUSES) == {s.value for s in Status}
    assert len(tables.ISO_639_1) == 183 and all(len(c) == 2 and c.islower() for c in tables.ISO_639_1)
    # The languages the sources and the real samples use (en, nl; GOV.UK's cy, ar, ur; feeds' de, it, pt).
    assert {"en", "nl", "cy", "ar", "ur", "de", "it", "pt"} <= tables.ISO_639_1
    assert "EU" in tables.ACTOR_CODES and "EU" not in tables.NATION_CODES


def test_a_date_less_than_a_day_ahead_passes():
    rows = articles_rows()
    rows[0]["published_at"] = datetime.now(UTC) + timedelta(hours=20)  # a time zone's worth ahead
    good, rejects = validate("articles", frame("articles", rows))
    assert rejects == [] and good.height == len(rows)


def test_score_bounds_hold_what_the_classifier_produces():
    vocab = vocabulary()
    bounds = classify.score_bounds(vocab)
    assert set(bounds) == set(vocab.themes)
    assert all(vocab.themes[s].threshold == low < high for s, (low, high) in bounds.items())
    title = "Police seize cocaine and heroin; drug traffickers and money launderers arrested"
    text = ("Officers seized cocaine, heroin and cannabis. The drug trafficking network laundered the money "
            "through shell companies, and cash couriers moved the criminal cash. ") * 5
    tags = classify.classify(IDS[0], title, text, "GB")
    assert tags.themes
    frames, rejects = tag_frames([tags], bounds)
    assert rejects == [] and frames["article_themes"].height == len(tags.themes)


def test_validating_themes_needs_the_taxonomy_in_use():
    with pytest.raises(ValueError, match="taxonomy in use"):
        validate("article_themes", frame("article_themes", themes_rows()))


def test_themes_are_checked_against_the_loaded_taxonomy_not_a_fixed_list(tmp_path):
    """An analyst's own taxonomy (the taxonomy setting): its slugs pass, the shipped ones it
    does not define are set aside, as reclassify would see them."""
    shipped = TAXONOMY_FILE.read_text(encoding="utf-8")
    own = tmp_path / "taxonomy.toml"
    own.write_text(shipped.replace("[themes.drugs", "[themes.narcotics"), encoding="utf-8")
    vocab = vocabulary(own)
    low = vocab.themes["narcotics"].threshold
    tags = [Tags(article_id=a_id, taxonomy_version="tx-own", themes=(ThemeScore(theme, low + 2, (("cocaine", 1),)),),
                 countries=(), dyads=(), bilateral=False, announcement_type="other")
            for a_id, theme in ((IDS[0], "narcotics"), (IDS[1], "drugs"))]
    frames, rejects = tag_frames(tags, classify.score_bounds(vocab))
    assert frames["article_themes"]["theme"].to_list() == ["narcotics"]
    assert [(r.record_key, r.check) for r in rejects] == [(IDS[1], "taxonomy_theme")]


def test_build_batch_sets_aside_a_bad_cache_row_and_loads_the_rest(con):
    """http_cache is validated on the way in like the other tables (build_batch, the ingest path)."""
    def fetched(url, etag):
        return Fetched(source="gov-example", url=url, status=Status.FETCHED, http_status=200, body=b"<html/>",
                       etag=etag, fetched_at=RECENT)

    def processed(url):
        title, text = "Joint statement", f"Written for the contract tests: two ministers met ({url[-1]})."
        article = Article(article_id=article_id(url), url=url, source="gov-example", publisher="Example Office", title=title,
                          text=text, language="en", content_hash=content_hash(title, text), published_at=RECENT)
        tags = Tags(article_id=article.article_id, taxonomy_version="tx-contract", themes=(), countries=("GB",), dyads=(),
                    bilateral=False, announcement_type="statement")
        return Processed(url, Status.FETCHED, article=article, tags=tags)

    pages = [(fetched(URLS[0], '"v1"'), processed(URLS[0])), (fetched(URLS[1], "   "), processed(URLS[1]))]
    batch = build_batch([f for f, _ in pages], [p for _, p in pages], themes())
    load_batch(con, "run-1", batch.frames, batch.rejects)
    assert con.execute("SELECT url FROM http_cache").fetchall() == [(URLS[0],)]
    assert con.execute('SELECT table_name, record_key, "check" FROM quarantine').fetchall() == [
        ("http_cache", URLS[1], "has_validator")]
    assert con.execute("SELECT count(*) FROM articles").fetchone() == (2,)
    assert batch.outcome({}).per_source["gov-example"].quarantined == 1
