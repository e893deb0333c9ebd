"""From a batch of records to validated table frames, and from a load back to counters.

Validation order matters: articles first; a rejected article takes its tags with it (they
are derived from it and come back with `reclassify` once it loads), and its URL's terminal
status becomes `quarantined` with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from schemas.records import Article, Fetched, Processed, Source, SourceCounts, Status, Tags
from schemas.tables import CHILD_TABLES, TABLES, Reject, frame, validate
from transforms.urls import article_id, canonical_url


@dataclass
class BatchOutcome:
    """Per-source counters of one loaded batch."""

    per_source: dict[str, SourceCounts] = field(default_factory=dict)

    def add_to(self, counts: dict[str, SourceCounts]) -> None:
        for name, part in self.per_source.items():
            total = counts.setdefault(name, SourceCounts())
            for key in ("discovered", "fetched", "new", "updated", "unchanged", "skipped", "failed", "quarantined"):
                setattr(total, key, getattr(total, key) + getattr(part, key))
            for status, n in part.statuses.items():
                total.statuses[status] = total.statuses.get(status, 0) + n


@dataclass
class Batch:
    frames: dict[str, pl.DataFrame]
    rejects: list[Reject]
    events: list[dict]  # crawl event rows, for counting once the load says what changed
    seen_unchanged: list[str] = field(default_factory=list)  # stored articles that answered 304
    owners: dict[str, str] = field(default_factory=dict)  # article_id or URL -> source, to count rejects
    # (old, new) article ids: an article stored under the URL a feed listed, now known by the
    # URL its redirects or its canonical link name, is folded into that one by the load.
    folds: list[tuple[str, str]] = field(default_factory=list)

    def outcome(self, changes: dict[str, str]) -> BatchOutcome:
        out = BatchOutcome()
        for event in self.events:
            counts = out.per_source.setdefault(event["source"], SourceCounts())
            status = Status(event["status"])
            counts.statuses[status.value] = counts.statuses.get(status.value, 0) + 1
            if event["url_kind"] == "page" and event["fetched"]:
                counts.fetched += 1
            if status.is_failure:
                counts.failed += 1
            if status.is_skip:
                counts.skipped += 1
            if status is Status.QUARANTINED:
                counts.quarantined += 1
            change = changes.get(event["article_id"] or "")
            if change and status is not Status.DUPLICATE:  # the article is counted once, for the source that fetched it
                setattr(counts, change, getattr(counts, change) + 1)
        for reject in self.rejects:
            if reject.table_name != "articles":  # rejected articles are counted by their events
                counts = out.per_source.setdefault(self.owners.get(reject.record_key or "", "unknown"), SourceCounts())
                counts.quarantined += 1
        return out


def source_rows(sources: Sequence[Source]) -> pl.DataFrame:
    return pl.DataFrame(
        [(s.name, s.kind, s.url, s.country, s.language, s.title, s.expected_every_h) for s in sources],
        schema={"source": pl.Utf8, "kind": pl.Utf8, "url": pl.Utf8, "country": pl.Utf8, "language": pl.Utf8, "title": pl.Utf8,
                "expected_every_h": pl.Float64},
        orient="row",
    )


def tag_rows(tags: Tags) -> dict[str, list[dict]]:
    """The rows of the tag tables (themes, countries, dyads, labels, facts) for one article's tags."""
    a_id = tags.article_id
    return {
        "article_themes": [{"article_id": a_id, "theme": t.theme, "score": t.score,
                            "evidence": [{"term": term, "count": n} for term, n in t.evidence],
                            "taxonomy_version": tags.taxonomy_version} for t in tags.themes],
        "article_countries": [{"article_id": a_id, "country": c} for c in tags.countries],
        "article_dyads": [{"article_id": a_id, "country_a": x, "country_b": y, "relation": why[0], "evidence_in": why[1],
                           "evidence_start": why[2], "evidence_end": why[3]}
                          for (x, y), why in zip(tags.dyads, tags.dyad_evidence or [(None,) * 4] * len(tags.dyads), strict=True)],
        "article_labels": [{"article_id": a_id, "bilateral": tags.bilateral, "announcement_type": tags.announcement_type,
                            "taxonomy_version": tags.taxonomy_version, "tag_basis": tags.basis}],
        "article_facts": [{"article_id": a_id, "seq": n, "kind": f.kind, "subject": f.subject, "quantity": f.quantity,
                           "unit": f.unit, "value": f.value, "action": f.action, "country": f.country,
                           "evidence_in": f.where, "evidence_start": f.start, "evidence_end": f.end,
                           "taxonomy_version": tags.taxonomy_version} for n, f in enumerate(tags.facts)],
    }


def tag_frames(all_tags: Sequence[Tags], bounds: dict[str, tuple[float, float]]) -> tuple[dict[str, pl.DataFrame], list[Reject]]:
    """Validated frames of the tag tables for many articles, and the rows set aside; `bounds`:
    per theme of the taxonomy in use, the scores a tag may carry (classify.score_bounds)."""
    rows: dict[str, list[dict]] = {t: [] for t in CHILD_TABLES}
    for tags in all_tags:
        for table, table_rows in tag_rows(tags).items():
            rows[table].extend(table_rows)
    frames, rejects = {}, []
    for table in CHILD_TABLES:
        frames[table], table_rejects = validate(table, frame(table, rows[table]), bounds)
        rejects.extend(table_rejects)
    return frames, rejects


def _article_row(article: Article) -> dict:
    """The articles row of an Article: its fields named as the table's columns (tuples as lists)."""
    row = {c: getattr(article, c) for c in TABLES["articles"].columns}
    return {c: list(v) if isinstance(v, tuple) else v for c, v in row.items()}


def build_batch(fetched: Sequence[Fetched], processed: Sequence[Processed], bounds: dict[str, tuple[float, float]],
                url_kind: str = "page", shared: Mapping[str, Sequence[str]] | None = None) -> Batch:
    """The validated frames of a batch, its rejects and its crawl events: one per fetched URL,
    and one `duplicate` event per other source that listed the URL (`shared`), naming the
    article the URL gave."""
    rows: dict[str, list[dict]] = {t: [] for t in ("articles", *CHILD_TABLES)}
    by_url = {p.fetched_url: p for p in processed}
    same_as: dict[str, tuple[str, str]] = {}  # fetched URL -> (article_id, URL fetched) of the article it repeats
    text_folds: list[tuple[str, str]] = []
    kept: dict[object, Processed] = {}
    for p in processed:
        if p.article is None or p.tags is None:
            continue
        a, tags = p.article, p.tags
        # One article per identity and per text of a source: a feed link that redirects to a page
        # also linked directly, or the same text under two URLs, is stored once.
        first = kept.get(a.article_id) or kept.get((a.source, a.content_hash))
        if first is not None:
            same_as[p.fetched_url] = (first.article.article_id, first.fetched_url)
            if a.article_id != first.article.article_id:  # the same text stored under its own URL before: folded
                text_folds.append((a.article_id, first.article.article_id))
            continue
        kept[a.article_id] = kept[(a.source, a.content_hash)] = p
        rows["articles"].append(_article_row(a))
        for table, table_rows in tag_rows(tags).items():
            rows[table].extend(table_rows)

    frames: dict[str, pl.DataFrame] = {}
    articles, rejects = validate("articles", frame("articles", rows["articles"]))
    frames["articles"] = articles
    rejected = {r.record_key: r for r in rejects}
    for table in CHILD_TABLES:  # article_themes is checked against the taxonomy in use
        df = frame(table, [r for r in rows[table] if r["article_id"] not in rejected])
        frames[table], child_rejects = validate(table, df, bounds)
        rejects.extend(child_rejects)

    events = []
    cache = []
    seen_unchanged = []
    folds: list[tuple[str, str]] = list(text_folds)
    now = datetime.now(UTC)
    for f in fetched:
        p = by_url.get(f.url)
        status, error = f.status, f.error
        a_id = None
        if status is Status.NOT_MODIFIED and url_kind == "page":
            a_id = article_id(canonical_url(f.final_url or f.url))  # the article is known by where the redirects end
            seen_unchanged.append(a_id)
        if p is not None:
            status, error = p.status, p.error or error
            if p.article is not None:
                a_id = p.article.article_id
                if a_id in rejected:
                    status, error = Status.QUARANTINED, rejected[a_id].reason
            if f.url in same_as:
                a_id, url = same_as[f.url]
                status, error = Status.DUPLICATE, f"the same article as {url}"
            elif status is Status.FETCHED and a_id and a_id != article_id(f.url):
                folds.append((article_id(f.url), a_id))  # an article stored under the listed URL: folded into this one
        events.append({
            "source": f.source or "", "url": f.url, "url_kind": url_kind, "status": status.value,
            "http_status": f.http_status, "error": (error or None) and error[:500], "final_url": f.final_url,
            "content_type": f.content_type, "bytes": f.size, "elapsed_ms": f.elapsed_ms,
            "article_id": a_id if status.names_article else None, "change": None,
            "event_at": f.fetched_at or now, "fetched": f.ok,
        })
        for other in (shared or {}).get(f.url, ()):
            events.append(_shared_event(events[-1], other, f.source or "", url_kind))
        if status is Status.FETCHED and (f.etag or f.last_modified):
            cache.append({"url": f.cache_url or f.url, "source": f.source, "etag": f.etag, "last_modified": f.last_modified})
    frames["http_cache"], cache_rejects = validate("http_cache", frame("http_cache", cache))
    rejects.extend(cache_rejects)
    frames["crawl_events"], event_rejects = validate("crawl_events", frame("crawl_events", events))
    rejects.extend(event_rejects)
    owners = {p.article.article_id: p.article.source for p in processed if p.article is not None}
    owners.update({f.url: f.source for f in fetched})
    owners.update({c["url"]: c["source"] for c in cache})
    return Batch(frames=frames, rejects=rejects, events=events, seen_unchanged=seen_unchanged, owners=owners, folds=folds)


def _shared_event(event: dict, other: str, fetcher: str, url_kind: str) -> dict:
    """The event of a source that listed a URL another source of the run fetched: `duplicate`,
    with the article, when the fetch got it; else the fetch's own outcome (a timeout, a 404, a
    page that is not an article ...), so each source's health counts what its listing met. The
    URL is not fetched twice in one run; the next run tries it again for both."""
    status = Status(event["status"])
    if status.names_article:
        status_value, http_status, error = Status.DUPLICATE.value, None, f"also listed by {fetcher}, which fetched it"
    else:
        status_value, http_status = status.value, event["http_status"]
        error = f"also listed by {fetcher}, whose fetch ended {status.value}" + (f": {event['error']}" if event["error"] else "")
    return {"source": other, "url": event["url"], "url_kind": url_kind, "status": status_value, "http_status": http_status,
            "error": error[:500], "final_url": None, "content_type": None, "bytes": None, "elapsed_ms": None, "change": None,
            "event_at": event["event_at"], "fetched": False, "article_id": event["article_id"]}
