"""Benchmark: precision and recall of event linking (issue 18) against hand-labelled pairs.

    uv run python bench/events_quality.py [--errors]

Each pair of tests/data/event_pairs.jsonl names two real announcements of ../shared/corpus
(conventions in tests/data/EVENTS.md) and says whether they report the same event. Both are
tagged as a run tags them (themes, countries, partners, type, facts) and fingerprinted, then
judged as the warehouse judges a candidate pair (warehouse/events.py: blocking by date window
and shared country, then the weighted evidence); an undated record counts as first seen with
the other. Prints precision, recall and F1 of "linked",
per relation and per language. `--errors` lists each pair judged wrongly with its evidence.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from transforms.classify import tag  # noqa: E402
from transforms.evaluate import publisher_country  # noqa: E402
from warehouse.events import WINDOW_DAYS, Profile, Rarity, fact_key, linked, profile, simhash  # noqa: E402

PAIRS = REPO / "tests" / "data" / "event_pairs.jsonl"
SHARED = REPO.parent / "shared"


def record(ref: dict, cache: dict) -> dict:
    lines = cache.setdefault(ref["source"], (SHARED / ref["source"]).read_text(encoding="utf-8").splitlines())
    doc = json.loads(lines[ref["line"]])
    if doc.get("url") != ref["url"]:
        raise ValueError(f"{ref['source']} line {ref['line']}: its url is not the label's")
    return doc


def published(doc: dict) -> datetime | None:
    if not doc.get("published"):
        return None
    value = datetime.fromisoformat(str(doc["published"])[:19].replace(" ", "T"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _fact_tuples(facts) -> list[tuple[str, str, str]]:
    """Facts as the warehouse's profiles take them."""
    return [fact_key(f.kind, f.subject, f.value) for f in facts]


def block_profile(doc: dict) -> Profile:
    """What the block's counts take of a record: its headline words, its facts and its partner pairs."""
    url = doc.get("url") or ""
    tags = tag("", doc.get("title") or "", doc.get("text") or "", publisher_country(url), doc.get("language"))
    return profile("", datetime(2020, 1, 1, tzinfo=UTC), "", None, doc.get("title"), (), (), [f"{a}-{b}" for a, b in tags.dyads],
                   "", _fact_tuples(tags.facts), None)


def profile_of(doc: dict, key: str, when: datetime) -> Profile:
    url = doc.get("url") or ""
    tags = tag(key, doc.get("title") or "", doc.get("text") or "", publisher_country(url), doc.get("language"))
    facts = _fact_tuples(tags.facts)
    return profile(key, when, url.split("/")[2] if "//" in url else "", doc.get("language"), doc.get("title"),
                   tags.countries, [t.theme for t in tags.themes], [f"{a}-{b}" for a, b in tags.dyads],
                   tags.announcement_type, facts, simhash(doc.get("text") or ""))


def main() -> None:
    if not (SHARED / "corpus").is_dir():
        sys.exit(f"needs ../shared/corpus beside the repository ({SHARED})")
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()]
    cache: dict = {}
    # The block, as the warehouse has it: every record of the pair's files published within the
    # window (undated records: all of their file), with its headline words and its facts.
    dated: dict[str, list[tuple[datetime | None, Profile]]] = {}

    def block(sources: set[str], when: datetime) -> Rarity:
        profiles = []
        for source in sources:
            if source not in dated:
                lines = cache.setdefault(source, (SHARED / source).read_text(encoding="utf-8").splitlines())
                dated[source] = [(published(d), block_profile(d)) for d in map(json.loads, lines)]
            profiles += [p for t, p in dated[source] if t is None or abs(t - when).days <= WINDOW_DAYS]
        return Rarity(profiles)

    counts, by_relation = Counter(), Counter()
    wrong = []
    for p in pairs:
        a, b = record(p["a"], cache), record(p["b"], cache)
        # An undated record (the county prosecutors' have none) is taken as first seen with the
        # other, as two pages of one run are in the warehouse.
        when_a, when_b = published(a), published(b)
        when_a = when_a or when_b or datetime(2020, 1, 1, tzinfo=UTC)
        when_b = when_b or when_a
        rarity = block({p["a"]["source"], p["b"]["source"]}, when_a)
        got, score, why = linked(profile_of(a, "a", when_a), profile_of(b, "b", when_b), rarity)
        language = a.get("language") if a.get("language") == b.get("language") else "mixed"
        key = ("tp" if got else "fn") if p["linked"] else ("fp" if got else "tn")
        counts[key] += 1
        counts[(language, key)] += 1
        by_relation[(p["relation"], got == p["linked"])] += 1
        if got != p["linked"]:
            wrong.append((p, a, b, score, why))
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    print(f"{len(pairs)} labelled pairs ({tp + fn} linked, {counts['fp'] + counts['tn']} not linked)\n")
    print(f"linking: precision {precision:.3f}, recall {recall:.3f}, F1 {f1:.3f} (tp {tp}, fp {fp}, fn {fn}, tn {counts['tn']})")
    for language in sorted({k[0] for k in counts if isinstance(k, tuple)}):
        c = {k: counts[(language, k)] for k in ("tp", "fp", "fn", "tn")}
        print(f"  {language}: tp {c['tp']}, fp {c['fp']}, fn {c['fn']}, tn {c['tn']}")
    print("\nright per relation: " + ", ".join(
        f"{rel} {by_relation[(rel, True)]}/{by_relation[(rel, True)] + by_relation[(rel, False)]}"
        for rel in sorted({r for r, _ in by_relation})))
    if "--errors" in sys.argv:
        for p, a, b, score, why in wrong:
            print(f"\n{'missed' if p['linked'] else 'wrongly linked'} ({p['relation']}), score {score:.1f}: {why}")
            print(f"    {a.get('published')} {a.get('title')}\n    {b.get('published')} {b.get('title')}")


if __name__ == "__main__":
    main()
