"""Benchmark: what each stage of tagging costs per article, linking included (issue 18).

    uv run python bench/link_speed.py [--write] [--per-day=N]

The real texts of ../shared/corpus/texts (police, prosecutors, ministries; English and Dutch),
in order of publication, each tagged as a run tags it; then loaded into a new warehouse in
batches of 100, as a run loads them (build_batch, load_batch: one transaction each), where
linking (warehouse/events.py link_events) is timed on its own. Per article, CPU time of this
process (DuckDB's threads included), the fastest of ROUNDS rounds:
- classification (themes, countries, partnership, type), facts, and both (`tag`);
- linking: its profiles, candidates, evidence and the regrouping of events.
The links and events are the same in every round (a digest of event_links and event_articles
is compared), so a change to linking's speed can be checked not to change what it links.
--write puts the table into docs/performance.md (between its markers for this benchmark).
--per-day=N gives the texts new dates, N a day in their order (the corpus spreads them over 17
years, a full feed of a few hundred newsrooms publishes hundreds a day), loads them once and
prints only what the events are like: what links, and what chains, where the weeks are busy.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from perfdoc import measured, publish  # noqa: E402

TEXTS = REPO.parent / "shared" / "corpus" / "texts"
# The corpus files of one publisher each (and its country): the prosecutors' sample is many.
FILES = {"politie_nl_news_2024-11_2026-01.jsonl": "NL", "politie_nl_news_2025.jsonl": "NL",
         "doj_opa_press_releases_2009_2018_sample.jsonl": "US", "state_dept_press_2021_2022.jsonl": "US",
         "us_county_prosecutor_press_releases_sample.jsonl": "US"}
BATCH = 100
ROUNDS = 3


def articles() -> list[tuple]:
    """(Article, publisher country) of the corpus texts with a URL and a date, oldest first."""
    from schemas.records import Article
    from transforms.documents import content_hash
    from transforms.urls import article_id

    found, seen = [], set()
    for name, country in FILES.items():
        for line in (TEXTS / name).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            try:
                when = datetime.fromisoformat((record.get("published") or "")[:10]).replace(tzinfo=UTC)
            except ValueError:
                continue
            a_id = article_id(record["url"]) if record.get("url") else None
            if a_id is None or a_id in seen:
                continue
            seen.add(a_id)
            title = record.get("title") or ""
            text = "\n".join(filter(None, (record.get("summary"), record.get("text"))))
            found.append((when, Article(a_id, record["url"], name.split(".")[0].replace("_", "-")[:40].strip("-"),
                                        record.get("publisher"), title, text, record.get("language") or "en",
                                        content_hash(title, text), published_at=when), country))
    found.sort(key=lambda f: (f[0], f[1].article_id))
    return [(article, country) for _, article, country in found]


def link_once(processed: list) -> tuple[float, str, str]:
    """Load `processed` in batches into a new warehouse: CPU seconds spent linking, a digest
    of the links and events made, and what the events are like (how many, how large)."""
    from flows.validate import build_batch
    from schemas.records import Fetched, Status
    from transforms.classify import score_bounds
    from transforms.vocabulary import vocabulary
    from warehouse import events, load
    from warehouse.db import connect
    from warehouse.ledger import start_run

    spent = 0.0
    link = events.link_events

    def timed(*args, **kwargs):
        nonlocal spent
        started = time.process_time()
        try:
            return link(*args, **kwargs)
        finally:
            spent += time.process_time() - started

    bounds = score_bounds(vocabulary())
    load.linking.link_events = timed
    try:
        with tempfile.TemporaryDirectory() as tmp:
            con = connect(Path(tmp) / "link.duckdb")
            start_run(con, "bench", "ingest")
            for first in range(0, len(processed), BATCH):
                part = processed[first : first + BATCH]
                fetched = [Fetched("bench", p.fetched_url, Status.FETCHED, content_type="text/html", http_status=200,
                                   cache_url=p.fetched_url) for p in part]
                built = build_batch(fetched, part, bounds)
                load.load_batch(con, "bench", built.frames, built.rejects, built.seen_unchanged)
            made = repr(con.execute("SELECT article_a, article_b, round(score, 6), evidence FROM event_links ORDER BY 1, 2")
                        .fetchall()) + repr(con.execute("SELECT article_id, event_id, role FROM event_articles ORDER BY 1")
                                            .fetchall())
            links, linked, events, large, in_large, largest = con.execute(
                "SELECT (SELECT count(*) FROM event_links), sum(n) FILTER (WHERE n > 1), count(*) FILTER (WHERE n > 1), "
                "count(*) FILTER (WHERE n > 10), coalesce(sum(n) FILTER (WHERE n > 10), 0), max(n) "
                "FROM (SELECT count(*) AS n FROM event_articles GROUP BY event_id)").fetchone()
            shape = (f"{links:,} links; {linked:,} articles in {events:,} events of two or more; {large} events of more "
                     f"than 10 articles ({in_large:,} articles), the largest {largest}")
            con.close()
    finally:
        load.linking.link_events = link
    return spent, hashlib.sha256(made.encode()).hexdigest()[:16], shape


def main() -> None:
    if not TEXTS.exists():
        sys.exit(f"needs {TEXTS}")
    from schemas.records import Processed, Status
    from transforms.classify import classify, tag
    from transforms.facts import extract_facts, facts_vocabulary
    from transforms.vocabulary import vocabulary

    vocab, fv = vocabulary(), facts_vocabulary()
    docs = articles()
    per_day = next((float(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--per-day=")), None)
    if per_day:
        start = datetime(2025, 1, 1, tzinfo=UTC)
        docs = [(replace(a, published_at=start + timedelta(days=i / per_day)), c) for i, (a, c) in enumerate(docs)]
    n = len(docs)
    stages = {
        "classification (themes, countries, partnership, type)":
            lambda a, c: classify(a.article_id, a.title, a.text, c, vocab),
        "facts": lambda a, c: extract_facts(a.title, a.text, a.language, c, fv),
        "both (tag: what a run's extraction processes do)":
            lambda a, c: tag(a.article_id, a.title, a.text, c, a.language, None, vocab),
    }
    best = dict.fromkeys([*stages, "linking (a run's batches of 100, in the run's own process)"], float("inf"))
    digests = set()
    processed = [Processed(a.url, Status.FETCHED, article=a, tags=tag(a.article_id, a.title, a.text, c, a.language, None, vocab))
                 for a, c in docs]
    if per_day:
        print(f"Events made, {n:,} texts published {per_day:g} a day: {link_once(processed)[2]}.")
        return
    for _ in range(ROUNDS):
        for name, work in stages.items():
            started = time.process_time()
            for article, country in docs:
                work(article, country)
            best[name] = min(best[name], time.process_time() - started)
        seconds, digest, shape = link_once(processed)
        digests.add(digest)
        best["linking (a run's batches of 100, in the run's own process)"] = min(
            best["linking (a run's batches of 100, in the run's own process)"], seconds)
    if len(digests) != 1:
        sys.exit(f"linking gave different links in different rounds: {sorted(digests)}")
    classification = best["classification (themes, countries, partnership, type)"]
    lines = [measured(), "", f"{n:,} corpus texts ({sum(len(a.text.split()) for a, _ in docs) / n:.0f} words on average), "
             f"CPU per article, fastest of {ROUNDS} rounds; links and events digest `{digests.pop()}`:", "",
             "| stage | ms per article | articles/s | x classification |", "|---|---:|---:|---:|"]
    for name, seconds in best.items():
        lines.append(f"| {name} | {seconds / n * 1000:.2f} | {n / seconds:,.0f} | {seconds / classification:.2f} |")
    lines += ["", f"Events made: {shape}."]
    publish("link_speed", "\n".join(lines))


if __name__ == "__main__":
    main()
