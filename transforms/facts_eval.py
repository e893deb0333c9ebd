"""Scoring facts against hand labels (tests/data/facts_gold.jsonl; its conventions in
tests/data/FACTS.md). Pure: labelled records and extracted facts in, counts out.

A fact matches a label of its kind with the same key: a drug by substance and mass (kg,
to three significant digits; a count by quantity and unit), money by currency and amount
(three significant digits; its action is scored apart, over the matched amounts), counts
by number, an operation by name (case folded), an agency by canonical name and country
(a label's name is mapped through agencies.toml's names, so "Federal Bureau of
Investigation" and "FBI" are one body).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from schemas.records import FACT_KINDS, Fact
from transforms.facts import FactsVocabulary, facts_vocabulary


def _sig(x: float | None) -> float | None:
    return None if x is None else float(f"{x:.3g}")


def _agency_name(fv: FactsVocabulary, name: str) -> str:
    return fv.agencies.get(name, (name, None))[0].casefold()


def label_key(fv: FactsVocabulary, label: dict) -> tuple:
    kind = label["kind"]
    if kind == "drug":
        return (kind, label["substance"], _sig(label["kg"])) if label.get("kg") else (
            kind, label["substance"], _sig(label["quantity"]), label["unit"])
    if kind == "money":
        return kind, label["currency"], _sig(label["amount"])
    if kind in ("firearms", "ammunition", "arrests", "charged"):
        return kind, int(label["count"])
    if kind == "operation":
        return kind, label["name"].strip("\"'“”‘’ ").casefold()
    return kind, _agency_name(fv, label["name"]), label["country"]


def fact_key(fv: FactsVocabulary, fact: Fact) -> tuple:
    kind = fact.kind
    if kind == "drug":
        return (kind, fact.subject, _sig(fact.value)) if fact.value else (kind, fact.subject, _sig(fact.quantity), fact.unit)
    if kind == "money":
        return kind, fact.subject, _sig(fact.value)
    if kind in ("firearms", "ammunition", "arrests", "charged"):
        return kind, int(fact.value or 0)
    if kind == "operation":
        return kind, (fact.subject or "").casefold()
    return kind, (fact.subject or "").casefold(), fact.country


def load_gold(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score_facts(gold: Sequence[dict], predicted: Sequence[Sequence[Fact]], fv: FactsVocabulary | None = None) -> dict:
    """Per fact kind: true positives, false positives, false negatives, precision, recall, F1;
    plus money actions: how many matched amounts carry the labelled action."""
    fv = fv or facts_vocabulary()
    counts = {k: Counter() for k in FACT_KINDS}
    actions_right = actions_total = 0
    for record, facts in zip(gold, predicted, strict=True):
        want = Counter(label_key(fv, f) for f in record["facts"])
        got = Counter(fact_key(fv, f) for f in facts)
        both = want & got
        for key, n in both.items():
            counts[key[0]]["tp"] += n
        for key, n in (got - both).items():
            counts[key[0]]["fp"] += n
        for key, n in (want - both).items():
            counts[key[0]]["fn"] += n
        label_action = {label_key(fv, f): f.get("action") for f in record["facts"] if f["kind"] == "money"}
        for fact in facts:
            key = fact_key(fv, fact)
            if fact.kind == "money" and key in both:
                actions_total += 1
                actions_right += label_action.get(key) == fact.action
    out = {kind: _prf(c) for kind, c in counts.items()}
    out["all"] = _prf(sum(counts.values(), Counter()))
    out["money action"] = {"right": actions_right, "of": actions_total,
                           "accuracy": actions_right / actions_total if actions_total else None}
    return out


def _prf(c: Counter) -> dict:
    tp, fp, fn = c["tp"], c["fp"], c["fn"]
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f = 2 * p * r / (p + r) if p and r else (0.0 if (tp + fp) and (tp + fn) else None)
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f}


def texts_of(gold: Iterable[dict], shared: Path) -> list[dict]:
    """The corpus records the labels name (`source` under ../shared, `line` in it)."""
    cache: dict[str, list[str]] = {}
    out = []
    for record in gold:
        lines = cache.get(record["source"])
        if lines is None:
            lines = cache[record["source"]] = (shared / record["source"]).read_text(encoding="utf-8").splitlines()
        doc = json.loads(lines[record["line"]])
        if doc.get("url") != record["url"]:
            raise ValueError(f"{record['source']} line {record['line']}: its url is not the label's ({record['url']})")
        out.append(doc)
    return out
