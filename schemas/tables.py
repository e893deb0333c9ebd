"""The pandera model and the Polars schema of every table the pipeline loads.

`validate(table, frame)` splits a batch into the rows that pass and `Reject`s that say which
check failed and why; the caller loads the first and quarantines the second, so one bad row
never stops a batch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from schemas.codes import ACTOR_CODES

UTC_TS = pl.Datetime("us", "UTC")
EVIDENCE = pl.List(pl.Struct({"term": pl.Utf8, "count": pl.Int32}))

ID_RE = r"^[0-9a-f]{20}$"
URL_RE = r"^https?://[^\s/$.?#][^\s]*$"
SOURCE_RE = r"^[a-z0-9-]+$"
LANG_RE = r"^[a-z]{2}$"
SLUG_RE = r"^[a-z][a-z_]*$"
MAX_URL = 2048
ANNOUNCEMENT_TYPES = ["dialogue_meeting", "agreement", "operation_result", "policy_legislation", "funding", "statement", "other"]


def _not_in_future(data) -> pl.LazyFrame:
    limit = datetime.now(UTC) + timedelta(days=1)
    column = pl.col(data.key)
    return data.lazyframe.select(column.is_null() | (column <= limit))


class Articles(pa.DataFrameModel):
    article_id: str = pa.Field(unique=True, str_matches=ID_RE)
    url: str = pa.Field(str_matches=URL_RE, str_length={"max_value": MAX_URL})
    source: str = pa.Field(str_matches=SOURCE_RE)
    title: str = pa.Field(str_length={"min_value": 1, "max_value": 2000})
    text: str = pa.Field(str_length={"min_value": 1})
    language: str = pa.Field(str_matches=LANG_RE)
    content_hash: str = pa.Field(str_matches=r"^[0-9a-f]{64}$")
    published_at: UTC_TS = pa.Field(nullable=True)

    @pa.check("published_at", name="not_in_future")
    def published_not_in_future(cls, data):
        return _not_in_future(data)

    class Config:
        strict = False


class ArticleThemes(pa.DataFrameModel):
    article_id: str = pa.Field(str_matches=ID_RE)
    theme: str = pa.Field(str_matches=SLUG_RE)
    score: float = pa.Field(ge=0)
    taxonomy_version: str = pa.Field(str_length={"min_value": 1})

    class Config:
        strict = False
        unique = ["article_id", "theme"]


class ArticleCountries(pa.DataFrameModel):
    article_id: str = pa.Field(str_matches=ID_RE)
    country: str = pa.Field(isin=sorted(ACTOR_CODES))

    class Config:
        strict = False
        unique = ["article_id", "country"]


class ArticleDyads(pa.DataFrameModel):
    article_id: str = pa.Field(str_matches=ID_RE)
    country_a: str = pa.Field(isin=sorted(ACTOR_CODES))
    country_b: str = pa.Field(isin=sorted(ACTOR_CODES))

    @pa.dataframe_check(name="ordered_pair")
    def ordered(cls, data):
        return data.lazyframe.select(pl.col("country_a") < pl.col("country_b"))

    class Config:
        strict = False


class ArticleLabels(pa.DataFrameModel):
    article_id: str = pa.Field(unique=True, str_matches=ID_RE)
    bilateral: bool
    announcement_type: str = pa.Field(isin=ANNOUNCEMENT_TYPES)
    taxonomy_version: str = pa.Field(str_length={"min_value": 1})

    class Config:
        strict = False


class CrawlEvents(pa.DataFrameModel):
    source: str = pa.Field(str_matches=SOURCE_RE)
    url: str = pa.Field(unique=True, str_length={"min_value": 1})
    status: str = pa.Field(str_matches=SLUG_RE)
    http_status: pl.Int32 = pa.Field(nullable=True, ge=100, le=599)

    class Config:
        strict = False


# Column order and types of each table's frame (the load reads columns by name).
FRAME_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "articles": {
        "article_id": pl.Utf8, "url": pl.Utf8, "source": pl.Utf8, "publisher": pl.Utf8, "title": pl.Utf8,
        "text": pl.Utf8, "description": pl.Utf8, "author": pl.Utf8, "site_name": pl.Utf8, "language": pl.Utf8,
        "published_at": UTC_TS, "feed_published_at": UTC_TS, "page_published_at": UTC_TS, "content_hash": pl.Utf8,
        "source_published_at": UTC_TS, "updated_at": UTC_TS, "document_type": pl.Utf8,
        "organisations": pl.List(pl.Utf8), "withdrawn": pl.Boolean,
    },
    "http_cache": {"url": pl.Utf8, "source": pl.Utf8, "etag": pl.Utf8, "last_modified": pl.Utf8},
    "article_themes": {"article_id": pl.Utf8, "theme": pl.Utf8, "score": pl.Float64, "evidence": EVIDENCE, "taxonomy_version": pl.Utf8},
    "article_countries": {"article_id": pl.Utf8, "country": pl.Utf8},
    "article_dyads": {"article_id": pl.Utf8, "country_a": pl.Utf8, "country_b": pl.Utf8},
    "article_labels": {"article_id": pl.Utf8, "bilateral": pl.Boolean, "announcement_type": pl.Utf8, "taxonomy_version": pl.Utf8},
    "crawl_events": {
        "source": pl.Utf8, "url": pl.Utf8, "url_kind": pl.Utf8, "status": pl.Utf8, "http_status": pl.Int32,
        "error": pl.Utf8, "final_url": pl.Utf8, "content_type": pl.Utf8, "bytes": pl.Int64, "elapsed_ms": pl.Int32,
        "article_id": pl.Utf8, "change": pl.Utf8, "event_at": UTC_TS,
    },
}
MODELS: dict[str, type[pa.DataFrameModel]] = {
    "articles": Articles,
    "article_themes": ArticleThemes,
    "article_countries": ArticleCountries,
    "article_dyads": ArticleDyads,
    "article_labels": ArticleLabels,
    "crawl_events": CrawlEvents,
}
# The column that names a record in quarantine, per table.
KEYS = {"crawl_events": "url"}


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
    schema = FRAME_SCHEMAS[table]
    return pl.DataFrame([{name: row.get(name) for name in schema} for row in rows], schema=schema, orient="row")


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def record_json(row: dict) -> str:
    return json.dumps(row, default=_json_default, ensure_ascii=False)


def validate(table: str, df: pl.DataFrame) -> tuple[pl.DataFrame, list[Reject]]:
    """Rows of `df` that pass the table's model, and a Reject per failing row."""
    if df.height == 0:
        return df, []
    try:
        return MODELS[table].validate(df, lazy=True), []
    except SchemaErrors as errors:
        cases = errors.failure_cases
    row_level = cases.filter(pl.col("index").is_not_null())
    if row_level.height == 0:  # a schema-level failure (a column or type): the whole batch is bad
        reason = "; ".join(f"{r['column']}: {r['check']}" for r in cases.iter_rows(named=True))
        bad_rows = range(df.height)
        reasons = {i: [("schema", reason)] for i in bad_rows}
    else:
        reasons: dict[int, list[tuple[str, str]]] = {}
        for case in row_level.iter_rows(named=True):
            value = case["failure_case"]
            shown = value if value is None or len(str(value)) <= 80 else str(value)[:77] + "..."
            reasons.setdefault(case["index"], []).append(
                (str(case["check"]), f"{case['column'] or 'row'}: {case['check']} failed for {shown!r}")
            )
    key_column = KEYS.get(table, "article_id")
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
