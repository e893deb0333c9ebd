"""The pandera model and the Polars schema of every table the pipeline loads.

`validate(table, frame)` splits a batch into the rows that pass and `Reject`s that say which
check failed and why; the caller loads the first and quarantines the second, so one bad row
never stops a batch.

Every check is a named, vectorised Polars expression (no per-row Python), made by the builders
below: the name is what `quarantine.check` records, so it stays stable and short. A value that
is NULL where the column allows it passes the value checks; where the column does not, only
`not_nullable` fails. Within a batch the first row of a key wins and later rows with the same
key are set aside (`unique_*` checks): the load would otherwise fail on them as a whole.

pandera runs and collects each check on its own (about 50 collects for a crawl_events batch,
most of the time validation takes). So a batch is first judged by the same rules in one
Polars pass; only a batch with a failing row goes through pandera, for the report of which
rows failed which checks.

`article_themes` is checked against the taxonomy in use, which the caller passes in
(`validate(..., themes=...)`): the slugs it defines and, per slug, the range of scores a
tag of it can have. `schemas` cannot import the classifier (imports go one way), and a
hard-coded list would refuse the themes of an analyst's own taxonomy (`SOCWATCH_TAXONOMY`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Literal

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from schemas.codes import ACTOR_CODES, ISO_639_1
from schemas.records import ANNOUNCEMENT_TYPES, FACT_KINDS, FUTURE_SLACK, MAX_TITLE, Status

UTC_TS = pl.Datetime("us", "UTC")
EVIDENCE = pl.List(pl.Struct({"term": pl.Utf8, "count": pl.Int32}))

ID_RE = r"^[0-9a-f]{20}$"
SHA256_RE = r"^[0-9a-f]{64}$"
# An absolute http(s) URL with a host and no white space (canonical URLs have a lower-case scheme).
HTTP_URL_RE = r"^https?://[^\s/$.?#][^\s]*$"
SOURCE_RE = r"^[a-z0-9-]+$"  # as the sources file requires of a name
MAX_URL = 2048  # the sitemaps protocol's limit; browsers and most servers accept no more
SCORE_SLACK = 5e-4  # scores are stored rounded to 3 decimals
# The tables of an article's tags, written and replaced together (a load, a reclassify).
CHILD_TABLES = ("article_themes", "article_countries", "article_dyads", "article_labels", "article_facts")
URL_KINDS = ("feed", "page")  # a discovery URL (feed, API listing, sitemap) or an article page
CHANGES = ("new", "updated", "unchanged")
STATUSES = tuple(s.value for s in Status)
# Dyads pair nations: the EU is an actor (article_countries) but never one side of a partnership.
NATION_CODES = ACTOR_CODES - {"EU"}


# Per theme slug of the taxonomy in use: the lowest and highest score a tag of it can carry.
ThemeRanges = Mapping[str, tuple[float, float]]
_THEMES: ContextVar[ThemeRanges | None] = ContextVar("socwatch_validation_themes", default=None)


def _themes() -> ThemeRanges:
    themes = _THEMES.get()
    if themes is None:  # validate() refuses this before pandera runs; here for direct Model.validate calls
        raise LookupError("article_themes is checked against the taxonomy in use: call validate(..., themes=...)")
    return themes


# --- Check builders: each returns a pandera check method for a model's class body. -----------

_RULE = "__socwatch_rule__"  # on a check method: (columns, rule, whether rule reads the whole row)


def _column_check(*columns: str, name: str, rule: Callable[[pl.Expr], pl.Expr], description: str):
    """A check named `name` on each of `columns`: `rule` maps the column to a boolean expression."""

    def check(cls, data):
        return data.lazyframe.select(rule(pl.col(data.key)))

    check.__name__ = name  # pandera takes name= from a check once; a model that inherits it gets the function's name
    method = pa.check(*columns, name=name, description=description)(check)
    setattr(method, _RULE, (columns, rule, False))
    return method


# The columns each row check reads, by check name: a reason shows their values.
ROW_CHECK_COLUMNS: dict[str, tuple[str, ...]] = {}


def _row_check(name: str, columns: tuple[str, ...], rule: Callable[..., pl.Expr], description: str):
    """A check named `name` on whole rows: `rule(*cols)` is a boolean expression of `columns`."""
    if ROW_CHECK_COLUMNS.setdefault(name, columns) != columns:
        raise ValueError(f"row check {name!r} is defined on other columns elsewhere")

    def check(cls, data):
        return data.lazyframe.select(rule(*(pl.col(c) for c in columns)))

    check.__name__ = name  # as in _column_check
    method = pa.dataframe_check(name=name, description=description)(check)
    setattr(method, _RULE, (columns, rule, True))
    return method


def _matches(pattern: str) -> Callable[[pl.Expr], pl.Expr]:
    return lambda c: c.str.contains(pattern)


def _one_of(values) -> Callable[[pl.Expr], pl.Expr]:
    allowed = sorted(values)
    return lambda c: c.is_in(allowed)


def _not_blank(c: pl.Expr) -> pl.Expr:
    return c.str.contains(r"\S")


def _not_in_future(c: pl.Expr) -> pl.Expr:
    return c <= datetime.now(UTC) + FUTURE_SLACK


def _unique(*key: str):
    """The first row of each key in the batch passes; later ones fail."""
    return _row_check(f"unique_{'_'.join(key)}", key, lambda *cols: pl.struct(*cols).is_first_distinct(),
                      f"one row per ({', '.join(key)}) in a batch: later duplicates are set aside")


def _http_url(*columns: str):
    return _column_check(*columns, name="http_url", rule=_matches(HTTP_URL_RE),
                         description="an absolute http:// or https:// URL with a host and no white space")


def _url_length(*columns: str):
    return _column_check(*columns, name="url_length", rule=lambda c: c.str.len_chars() <= MAX_URL,
                         description=f"at most {MAX_URL} characters")


def _article_id(*columns: str):
    return _column_check(*columns, name="article_id_format", rule=_matches(ID_RE),
                         description="20 lower-case hex characters (a hash of the canonical URL)")


def _source_name(*columns: str):
    return _column_check(*columns, name="source_name", rule=_matches(SOURCE_RE),
                         description="a source name as the sources file allows: [a-z0-9-]+")


def _not_blank_check(*columns: str):
    return _column_check(*columns, name="not_blank", rule=_not_blank,
                         description="not empty and not only white space")


def _future_check(*columns: str):
    return _column_check(*columns, name="not_in_future", rule=_not_in_future,
                         description="not later than a day from now (UTC)")


def _score_in_range(theme: pl.Expr, score: pl.Expr) -> pl.Expr:
    themes = _themes()
    low = theme.replace_strict({t: lo for t, (lo, _) in themes.items()}, default=None, return_dtype=pl.Float64)
    high = theme.replace_strict({t: hi for t, (_, hi) in themes.items()}, default=None, return_dtype=pl.Float64)
    # A theme the taxonomy does not define has no range: taxonomy_theme reports that row.
    return low.is_null() | ((score >= low - SCORE_SLACK) & (score <= high + SCORE_SLACK))


def _has_evidence(c: pl.Expr) -> pl.Expr:
    return (c.list.len() > 0) & c.list.eval(pl.element().struct.field("count") >= 1).list.all()


# --- The models. ---------------------------------------------------------------------------------

class _Model(pa.DataFrameModel):
    """A table's columns and checks; a frame may carry more columns than its model names (they are not checked)."""

    class Config:
        strict = False


class Articles(_Model):
    article_id: str
    url: str
    source: str
    title: str
    text: str
    language: str
    content_hash: str
    published_at: UTC_TS = pa.Field(nullable=True)
    feed_published_at: UTC_TS = pa.Field(nullable=True)
    page_published_at: UTC_TS = pa.Field(nullable=True)
    source_published_at: UTC_TS = pa.Field(nullable=True)
    updated_at: UTC_TS = pa.Field(nullable=True)

    id_format = _article_id("article_id")
    url_scheme = _http_url("url")
    url_size = _url_length("url")
    source_format = _source_name("source")
    has_content = _not_blank_check("title", "text")
    title_length = _column_check("title", name="str_length", rule=lambda c: c.str.len_chars().is_between(1, MAX_TITLE),
                                 description=f"1 to {MAX_TITLE} characters")
    language_code = _column_check("language", name="iso_639_1", rule=_one_of(ISO_639_1),
                                  description="an ISO 639-1 language code in lower case")
    hash_format = _column_check("content_hash", name="sha256_hex", rule=_matches(SHA256_RE),
                                description="64 lower-case hex characters (SHA-256 of title and text)")
    # The article's date; its sources' own dates (feed, page, API, updated) are kept as given.
    dates = _future_check("published_at")
    one_per_id = _unique("article_id")


class _Tags(_Model):
    """A table of tags an article was given by one version of the taxonomy."""

    article_id: str
    taxonomy_version: str

    id_format = _article_id("article_id")
    version = _not_blank_check("taxonomy_version")


class ArticleThemes(_Tags):
    theme: str
    score: float
    evidence: EVIDENCE

    one_per_theme = _unique("article_id", "theme")

    theme_known = _column_check("theme", name="taxonomy_theme", rule=lambda c: c.is_in(sorted(_themes())),
                                description="a theme slug the taxonomy in use defines")
    score_in_range = _row_check("score_range", ("theme", "score"), _score_in_range,
                                "from the theme's threshold to the most its terms can add up to")
    evidence_given = _column_check("evidence", name="has_evidence", rule=_has_evidence,
                                   description="at least one matched term, each with a count of 1 or more")


class ArticleCountries(_Model):
    article_id: str
    country: str

    id_format = _article_id("article_id")
    country_code = _column_check("country", name="actor_code", rule=_one_of(ACTOR_CODES),
                                 description="ISO 3166-1 alpha-2, EU or XK")
    one_per_country = _unique("article_id", "country")


class ArticleDyads(_Model):
    article_id: str
    country_a: str
    country_b: str
    relation: str = pa.Field(nullable=True)
    evidence_in: str = pa.Field(nullable=True)
    evidence_start: pl.Int32 = pa.Field(nullable=True)
    evidence_end: pl.Int32 = pa.Field(nullable=True)

    id_format = _article_id("article_id")
    nation_code = _column_check("country_a", "country_b", name="nation_code", rule=_one_of(NATION_CODES),
                                description="ISO 3166-1 alpha-2 or XK (the EU is not a partner of a dyad)")
    ordered = _row_check("ordered_pair", ("country_a", "country_b"), lambda a, b: a <= b,
                         "country_a sorts before country_b")
    distinct = _row_check("distinct_pair", ("country_a", "country_b"), lambda a, b: a != b,
                          "two different countries")
    one_per_pair = _unique("article_id", "country_a", "country_b")
    evidence_place = _column_check("evidence_in", name="evidence_place", rule=lambda c: c.is_null() | c.is_in(["text", "title"]),
                                   description="title or text")
    evidence_span = _row_check("evidence_span", ("evidence_start", "evidence_end"),
                               lambda a, b: (a.is_null() & b.is_null()) | ((a >= 0) & (b >= a)),
                               "a sentence's offsets: 0 <= start <= end")


class ArticleFacts(_Tags):
    seq: pl.Int32
    kind: str
    subject: str = pa.Field(nullable=True)
    quantity: float = pa.Field(nullable=True)
    unit: str = pa.Field(nullable=True)
    value: float = pa.Field(nullable=True)
    action: str = pa.Field(nullable=True)
    country: str = pa.Field(nullable=True)
    evidence_in: str
    evidence_start: pl.Int32
    evidence_end: pl.Int32

    seq_place = _column_check("seq", name="non_negative", rule=lambda c: c >= 0, description="0 or more")
    kind_known = _column_check("kind", name="fact_kind", rule=_one_of(FACT_KINDS), description=", ".join(FACT_KINDS))
    one_per_seq = _unique("article_id", "seq")
    evidence_place = _column_check("evidence_in", name="evidence_place", rule=_one_of(["text", "title"]),
                                   description="title or text")
    evidence_span = _row_check("evidence_span", ("evidence_start", "evidence_end"), lambda a, b: (a >= 0) & (b > a),
                               "a span's offsets: 0 <= start < end")
    finite = _column_check("quantity", "value", name="finite_positive",
                           rule=lambda c: c.is_null() | (c.is_finite() & (c > 0)), description="a positive finite number")
    agency_country = _row_check("agency_country", ("kind", "country"),
                                lambda k, c: (k != "agency") | (c.is_in(sorted(ACTOR_CODES | {"INT"})).fill_null(False)),
                                "an agency's country: ISO alpha-2, EU or INT")


class ArticleLabels(_Tags):
    bilateral: bool
    announcement_type: str
    tag_basis: str = pa.Field(nullable=True)

    type_known = _column_check("announcement_type", name="announcement_type", rule=_one_of(ANNOUNCEMENT_TYPES),
                               description=", ".join(ANNOUNCEMENT_TYPES))
    one_per_article = _unique("article_id")


class CrawlEvents(_Model):
    source: str
    # Not required to be http(s): a link of another scheme is recorded too, as blocked_host.
    url: str
    url_kind: str
    status: str
    http_status: pl.Int32 = pa.Field(nullable=True)
    final_url: str = pa.Field(nullable=True)
    bytes: pl.Int64 = pa.Field(nullable=True)
    elapsed_ms: pl.Int32 = pa.Field(nullable=True)
    article_id: str = pa.Field(nullable=True)
    change: str = pa.Field(nullable=True)
    event_at: UTC_TS

    source_format = _source_name("source")
    url_given = _not_blank_check("url")
    kind_known = _column_check("url_kind", name="url_kind", rule=_one_of(URL_KINDS), description=" or ".join(URL_KINDS))
    status_known = _column_check("status", name="crawl_status", rule=_one_of(STATUSES),
                                 description="a terminal status of schemas.records.Status")
    http_code = _column_check("http_status", name="http_status_code", rule=lambda c: c.is_between(100, 599),
                              description="an HTTP status code, 100 to 599")
    # A blocked redirect records where it pointed (file:, mailto:, ...): only a URL that was
    # read must be http(s).
    final_scheme = _row_check(
        "http_final_url", ("status", "final_url"),
        lambda status, url: url.is_null() | ~status.is_in([Status.FETCHED.value, Status.NOT_MODIFIED.value])
        | url.str.contains(HTTP_URL_RE),
        "the final URL of a page that was read is an absolute http(s) URL")
    sizes = _column_check("bytes", "elapsed_ms", name="non_negative", rule=lambda c: c >= 0, description="0 or more")
    id_format = _article_id("article_id")
    change_known = _column_check("change", name="change_kind", rule=_one_of(CHANGES), description=" or ".join(CHANGES))
    when = _future_check("event_at")
    stored_only = _row_check(
        "article_when_stored", ("status", "article_id"),
        lambda status, a_id: a_id.is_null() | status.is_in([s.value for s in Status if s.names_article]),
        "an article_id only for a URL that was fetched or not modified (or listed by another source that did)")
    one_per_url = _unique("source", "url")


class HttpCache(_Model):
    url: str
    source: str
    etag: str = pa.Field(nullable=True)
    last_modified: str = pa.Field(nullable=True)

    url_scheme = _http_url("url")
    url_size = _url_length("url")
    source_format = _source_name("source")
    validator_given = _row_check(
        "has_validator", ("etag", "last_modified"),
        lambda etag, modified: _not_blank(etag).fill_null(False) | _not_blank(modified).fill_null(False),
        "an ETag or a Last-Modified to send back")
    one_per_url = _unique("url")


@dataclass(frozen=True)
class TableSpec:
    """One table the pipeline loads, declared once: its frame's columns and types (the load
    reads columns by name), its key, how a load writes it, its pandera model, and the column
    that names a record in quarantine. The migrations stay hand-written SQL;
    tests/test_contracts.py checks each spec against them.

    `load`: "upsert" (a row whose key is there already is replaced, but for the `kept`
    columns), "insert" (one already there is kept as it was), or "replace" (the article's
    rows are deleted, then its new ones inserted: the tag tables). `stamped`: the columns the
    load fills itself, beside the frame's, and with what (an SQL parameter, in order)."""

    name: str
    columns: dict[str, pl.DataType]
    key: tuple[str, ...]
    load: Literal["upsert", "insert", "replace"]
    model: type[pa.DataFrameModel]
    record_key: str = "article_id"
    stamped: tuple[tuple[str, str], ...] = ()  # (column, what fills it: "stamp", "run_id")
    kept: tuple[str, ...] = ()
    # Whether the key is the table's primary (or unique) key. articles has no index: the load
    # keeps its key unique, and DuckDB appends a run's rows to it as a row group of their own.
    indexed: bool = True


TABLES: dict[str, TableSpec] = {spec.name: spec for spec in (
    TableSpec("articles", {
        "article_id": pl.Utf8, "url": pl.Utf8, "source": pl.Utf8, "publisher": pl.Utf8, "title": pl.Utf8,
        "text": pl.Utf8, "description": pl.Utf8, "author": pl.Utf8, "site_name": pl.Utf8, "language": pl.Utf8,
        "published_at": UTC_TS, "feed_published_at": UTC_TS, "page_published_at": UTC_TS, "content_hash": pl.Utf8,
        "source_published_at": UTC_TS, "updated_at": UTC_TS, "document_type": pl.Utf8,
        "organisations": pl.List(pl.Utf8), "withdrawn": pl.Boolean, "original_url": pl.Utf8, "original_title": pl.Utf8,
        "original_text": pl.Utf8,
    }, ("article_id",), "upsert", Articles,  # a new content_hash also adds a version (warehouse/load.py)
        stamped=(("first_seen_at", "stamp"), ("last_seen_at", "stamp"), ("last_run_id", "run_id")), kept=("first_seen_at",),
        indexed=False),
    TableSpec("article_themes", {"article_id": pl.Utf8, "theme": pl.Utf8, "score": pl.Float64, "evidence": EVIDENCE,
                                 "taxonomy_version": pl.Utf8},
              ("article_id", "theme"), "replace", ArticleThemes),
    TableSpec("article_countries", {"article_id": pl.Utf8, "country": pl.Utf8},
              ("article_id", "country"), "replace", ArticleCountries),
    TableSpec("article_dyads", {"article_id": pl.Utf8, "country_a": pl.Utf8, "country_b": pl.Utf8, "relation": pl.Utf8,
                                "evidence_in": pl.Utf8, "evidence_start": pl.Int32, "evidence_end": pl.Int32},
              ("article_id", "country_a", "country_b"), "replace", ArticleDyads),
    TableSpec("article_labels", {"article_id": pl.Utf8, "bilateral": pl.Boolean, "announcement_type": pl.Utf8,
                                 "taxonomy_version": pl.Utf8, "tag_basis": pl.Utf8},
              ("article_id",), "replace", ArticleLabels, stamped=(("classified_at", "stamp"),)),
    TableSpec("article_facts", {"article_id": pl.Utf8, "seq": pl.Int32, "kind": pl.Utf8, "subject": pl.Utf8,
                                "quantity": pl.Float64, "unit": pl.Utf8, "value": pl.Float64, "action": pl.Utf8,
                                "country": pl.Utf8, "evidence_in": pl.Utf8, "evidence_start": pl.Int32,
                                "evidence_end": pl.Int32, "taxonomy_version": pl.Utf8},
              ("article_id", "seq"), "replace", ArticleFacts),
    TableSpec("crawl_events", {
        "source": pl.Utf8, "url": pl.Utf8, "url_kind": pl.Utf8, "status": pl.Utf8, "http_status": pl.Int32,
        "error": pl.Utf8, "final_url": pl.Utf8, "content_type": pl.Utf8, "bytes": pl.Int64, "elapsed_ms": pl.Int32,
        "article_id": pl.Utf8, "change": pl.Utf8, "event_at": UTC_TS,
    }, ("run_id", "source", "url"), "insert", CrawlEvents, record_key="url",  # one terminal status per URL, source and run
        stamped=(("run_id", "run_id"),)),
    TableSpec("http_cache", {"url": pl.Utf8, "source": pl.Utf8, "etag": pl.Utf8, "last_modified": pl.Utf8},
              ("url",), "upsert", HttpCache, record_key="url",  # the validators of answers that loaded
              stamped=(("stored_at", "stamp"),)),
)}


@dataclass(frozen=True, slots=True)
class Reject:
    """A record set aside: which table, which check, why, and the record itself (JSON)."""

    table_name: str
    record_key: str | None
    check: str
    reason: str
    record: str


def frame(table: str, rows: list[dict]) -> pl.DataFrame:
    """A typed frame for `table` from plain rows (missing keys become NULL)."""
    schema = TABLES[table].columns
    return pl.DataFrame([{name: row.get(name) for name in schema} for row in rows], schema=schema, orient="row")


def _plain(value):
    """`value` as JSON can hold it: NaN and infinities (no JSON numbers) become text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def record_json(row: dict) -> str:
    return json.dumps(_plain(row), default=_json_default, ensure_ascii=False, allow_nan=False)


def _shown(value):
    return value if value is None or len(str(value)) <= 80 else str(value)[:77] + "..."


@dataclass(frozen=True)
class _Verdict:
    """A model's checks as one Polars pass: whether every row passes, without the report."""

    columns: dict  # name -> pandera Column (its dtype and nullability)
    rules: tuple[tuple[tuple[str, ...], Callable[..., pl.Expr], bool], ...]


@lru_cache(maxsize=None)
def _verdict(table: str) -> _Verdict | None:
    """None when the model has a check the builders above did not make (then pandera decides alone)."""
    model = TABLES[table].model
    schema = model.to_schema()
    rules = tuple(getattr(v, _RULE) for klass in model.__mro__ for v in vars(klass).values() if hasattr(v, _RULE))
    column_checks = sum(len(columns) for columns, _, row in rules if not row)
    if (schema.unique or any(c.unique for c in schema.columns.values()) or len(schema.checks) != sum(r[2] for r in rules)
            or sum(len(c.checks) for c in schema.columns.values()) != column_checks):
        return None
    return _Verdict(dict(schema.columns), rules)


def _all_pass(table: str, df: pl.DataFrame) -> bool:
    """True when pandera would pass `df` (the common case): one vectorised pass of the same
    rules, where pandera collects each check apart. Anything else goes to pandera for the report."""
    verdict = _verdict(table)
    if verdict is None:
        return False
    exprs = []
    for name, column in verdict.columns.items():
        if name not in df.schema or not column.dtype.check(df.schema[name]):
            return False
        if not column.nullable:
            present = pl.col(name).is_not_null()
            exprs.append(present & pl.col(name).is_not_nan().fill_null(False) if df.schema[name].is_float() else present)
    for columns, rule, whole_row in verdict.rules:
        if whole_row:
            exprs.append(rule(*(pl.col(c) for c in columns)).fill_null(True))  # pandera: a NULL outcome passes
        else:
            exprs.extend(rule(pl.col(c)).fill_null(True) for c in columns)
    return bool(df.select(pl.all_horizontal(exprs).all()).item())


def validate(table: str, df: pl.DataFrame, themes: ThemeRanges | None = None) -> tuple[pl.DataFrame, list[Reject]]:
    """Rows of `df` that pass the table's model, and a Reject per failing row.

    `themes`: the taxonomy in use, slug -> (lowest, highest) score; needed for article_themes,
    ignored for the other tables."""
    if table == "article_themes" and themes is None:
        raise ValueError("article_themes is checked against the taxonomy in use: pass themes=")
    if df.height == 0:
        return df, []
    token = _THEMES.set(themes)
    try:
        if _all_pass(table, df):
            return df, []
        return TABLES[table].model.validate(df, lazy=True), []
    except SchemaErrors as errors:
        cases = errors.failure_cases
    finally:
        _THEMES.reset(token)
    batch_level = cases.filter(pl.col("index").is_null())
    reasons: dict[int, list[tuple[str, str]]] = {}
    if batch_level.height:  # a column or type is wrong, or a check could not run: the whole batch is bad
        reason = "; ".join(f"{r['column']}: {r['check']} ({r['failure_case']})" for r in batch_level.iter_rows(named=True))
        reasons = {i: [("schema", reason)] for i in range(df.height)}
    else:
        for case in cases.iter_rows(named=True):
            check = str(case["check"])
            if case["schema_context"] == "DataFrameSchema":  # a row check: the values of the columns it reads
                row = df.row(case["index"], named=True)
                values = ", ".join(f"{c}={_shown(row[c])!r}" for c in ROW_CHECK_COLUMNS.get(check, ()))
                reason = f"row: {check} failed for {values}"
            else:
                reason = f"{case['column']}: {check} failed for {_shown(case['failure_case'])!r}"
            reasons.setdefault(case["index"], []).append((check, reason))
    key_column = TABLES[table].record_key
    rejects = []
    for index in sorted(reasons):
        row = df.row(index, named=True)
        checks = reasons[index]
        rejects.append(
            Reject(
                table_name=table,
                record_key=row.get(key_column),
                check=", ".join(sorted({c for c, _ in checks})),
                reason="; ".join(r for _, r in checks),
                record=record_json(row),
            )
        )
    good = df.with_row_index("__row").filter(~pl.col("__row").is_in(list(reasons))).drop("__row")
    return good, rejects
