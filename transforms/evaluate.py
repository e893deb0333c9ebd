"""Scoring the classifier against a gold file (JSON Lines: id, url, title, text, language,
themes, countries, bilateral, type). Pure: gold records and predictions in, scores out; save
`stored_originals`, which reads the stored Content API items a translation's original is in."""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from schemas.records import Tags

# Publishers' countries by the host's last labels, for gold files that do not say it.
_SUFFIX_COUNTRY = {"europa.eu": "EU", "gov.uk": "GB", "uk": "GB", "nl": "NL", "gov": "US", "be": "BE", "de": "DE", "fr": "FR"}


def publisher_country(url: str) -> str | None:
    """The country a publisher's host implies (gov.uk -> GB, politie.nl -> NL, a .gov -> US)."""
    host = (urlsplit(url).hostname or "").lower()
    labels = host.split(".")
    for n in (2, 1):
        country = _SUFFIX_COUNTRY.get(".".join(labels[-n:]))
        if country:
            return country
    return None


def stored_originals(docs: list[dict], corpus: Path) -> dict[int, tuple[str, str, str]]:
    """(url, title, text) of the English original of each gold document that is a GOV.UK
    translation whose original is stored beside it: a Content API item (its `source`, relative
    to `corpus`) whose `links.available_translations` name an English item that is also in that
    folder (one not withdrawn first). A run tags a translation from its original, fetched from
    the Content API; scored as a run tags it, a translation is tagged from the stored one."""
    from schemas.records import Source
    from transforms.errors import ParseError
    from transforms.govuk import article_from_content_item, original_document_path

    def read(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except OSError:  # a dangling link, a folder named x.json: not an item
            return None

    out: dict[int, tuple[str, str, str]] = {}
    english: dict[Path, dict[str, list[tuple[bool, Path]]]] = {}  # folder -> base path -> (withdrawn, file)
    root = corpus.resolve()
    for i, doc in enumerate(docs):
        path = (corpus / str(doc.get("source") or "")).resolve()
        if path.suffix != ".json" or not path.is_relative_to(root):  # a source outside the corpus is not read
            continue
        body = read(path)
        wanted = original_document_path(body) if body is not None else None
        if wanted is None:
            continue
        if path.parent not in english:
            index: dict[str, list[tuple[bool, Path]]] = defaultdict(list)
            for item_path in sorted(path.parent.glob("*.json")):
                try:
                    item = json.loads(read(item_path) or b"")
                except (ValueError, RecursionError):
                    continue
                if isinstance(item, dict) and item.get("locale") == "en" and isinstance(item.get("base_path"), str):
                    index[item["base_path"]].append((bool(item.get("withdrawn_notice")), item_path))
            english[path.parent] = index
        base_path = wanted.removeprefix("/api/content")
        stored = sorted(english[path.parent].get(base_path, ()))
        if not stored:
            continue
        parts = urlsplit(str(doc.get("url") or "https://www.gov.uk/"))
        url = f"{parts.scheme}://{parts.netloc}{base_path}"
        source = Source("gold", "govuk", url, "GB", "en", (parts.netloc,))
        try:
            original = article_from_content_item(read(stored[0][1]) or b"", url, None, source)
        except ParseError:
            continue
        out[i] = (url, original.title, original.text)
    return out


def token_f1(got: str, want: str) -> float:
    """Token-level F1 of an extracted text against the expected one (words, case folded)."""
    a, b = Counter(re.findall(r"\w+", got.lower())), Counter(re.findall(r"\w+", want.lower()))
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float
    support: int

    @classmethod
    def of(cls, tp: int, fp: int, fn: int) -> PRF:
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(round(precision, 4), round(recall, 4), round(f1, 4), tp + fn)

    def as_dict(self, support: bool = True) -> dict:
        out = {"precision": self.precision, "recall": self.recall, "f1": self.f1}
        if support:
            out["support"] = self.support
        return out


def _pairs(gold: Iterable[set], predicted: Iterable[set]) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for g, p in zip(gold, predicted, strict=True):
        tp += len(g & p)
        fp += len(p - g)
        fn += len(g - p)
    return tp, fp, fn


def score(gold: list[dict], predicted: list[Tags], themes: Iterable[str]) -> dict:
    """Scores in the contract's shape: micro_f1, macro_f1 (over themes with gold support),
    per_theme, bilateral, countries; plus type accuracy and the number of documents."""
    gold_themes = [set(g["themes"]) for g in gold]
    pred_themes = [{t.theme for t in p.themes} for p in predicted]
    per_theme = {}
    for theme in sorted(themes):
        tp, fp, fn = _pairs([{theme} & g for g in gold_themes], [{theme} & p for p in pred_themes])
        per_theme[theme] = PRF.of(tp, fp, fn)
    micro = PRF.of(*_pairs(gold_themes, pred_themes))
    supported = [s for s in per_theme.values() if s.support]
    macro = round(sum(s.f1 for s in supported) / len(supported), 4) if supported else 0.0
    bilateral = PRF.of(
        sum(1 for g, p in zip(gold, predicted) if g["bilateral"] and p.bilateral),
        sum(1 for g, p in zip(gold, predicted) if not g["bilateral"] and p.bilateral),
        sum(1 for g, p in zip(gold, predicted) if g["bilateral"] and not p.bilateral),
    )
    countries = PRF.of(*_pairs([set(g["countries"]) for g in gold], [set(p.countries) for p in predicted]))
    type_hits = sum(1 for g, p in zip(gold, predicted) if g.get("type") == p.announcement_type)
    return {
        "documents": len(gold),
        "micro_f1": micro.f1,
        "macro_f1": macro,
        "per_theme": {theme: s.as_dict() for theme, s in per_theme.items()},
        "bilateral": bilateral.as_dict(support=False),
        "countries": countries.as_dict(support=False),
        "type_accuracy": round(type_hits / len(gold), 4) if gold else 0.0,
        "micro": micro.as_dict(),
    }


def publisher(url: str) -> str:
    """The publisher of a gold document: the host of its URL, without "www."."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.") or "(no url)"


INTERVAL_ROUNDS = 1000  # resamples of a publisher's documents ...
INTERVAL = (0.05, 0.95)  # ... and the quantiles of their F1 that make its 90% interval


def _f1(tp: int, fp: int, fn: int) -> float | None:
    """F1 of the counts; None where there is nothing to score (no label expected nor found)."""
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None


def f1_intervals(gold: list[dict], predicted: list[Tags], seed: int = 0) -> dict[str, list[float]]:
    """90% bootstrap intervals of micro-F1 (themes) and countries F1 over these documents: the
    documents resampled with replacement INTERVAL_ROUNDS times (a fixed seed, so the figures
    repeat); [0, 0] where no document has anything to score. A few dozen documents with a
    dozen labels give wide intervals: a publisher's gap to the total means little where its
    interval reaches the total's figure."""
    counts = {"micro_f1": [], "countries_f1": []}
    for g, p in zip(gold, predicted, strict=True):
        for name, want, got in (("micro_f1", set(g["themes"]), {t.theme for t in p.themes}),
                                ("countries_f1", set(g["countries"]), set(p.countries))):
            counts[name].append((len(want & got), len(got - want), len(want - got)))
    rng = random.Random(seed)
    n = len(gold)
    samples = [rng.choices(range(n), k=n) for _ in range(INTERVAL_ROUNDS)] if n else []
    out = {}
    for name, per_doc in counts.items():
        # A resample with nothing to score (only documents without labels, none found) is left out.
        f1s = sorted(f for f in (_f1(*(sum(per_doc[i][k] for i in sample) for k in range(3))) for sample in samples)
                     if f is not None)
        out[name] = [round(f1s[int(q * (len(f1s) - 1))], 3) for q in INTERVAL] if f1s else [0.0, 0.0]
    return out


def by_publisher(gold: list[dict], predicted: list[Tags], themes: Iterable[str]) -> dict[str, dict]:
    """`score` per publisher, largest first; each also with its number of bilateral documents
    and the 90% intervals of its micro-F1 and countries F1 (`f1_intervals`)."""
    groups: dict[str, list[int]] = {}
    for i, g in enumerate(gold):
        groups.setdefault(publisher(g.get("url") or ""), []).append(i)
    themes = list(themes)
    out = {}
    for host, idx in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        s = score([gold[i] for i in idx], [predicted[i] for i in idx], themes)
        s.pop("per_theme")
        s["bilateral_support"] = sum(1 for i in idx if gold[i]["bilateral"])
        s["bilateral_found"] = sum(1 for i in idx if predicted[i].bilateral)
        s["intervals"] = f1_intervals([gold[i] for i in idx], [predicted[i] for i in idx])
        out[host] = s
    return out


def mistakes(gold: list[dict], predicted: list[Tags]) -> list[dict]:
    """Every document with a wrong tag: {id, publisher, title, wrong: {field: [expected, found]}}."""
    out = []
    for i, (g, p) in enumerate(zip(gold, predicted, strict=True)):
        found = {"themes": sorted(t.theme for t in p.themes), "countries": sorted(p.countries),
                 "bilateral": p.bilateral, "type": p.announcement_type}
        want = {"themes": sorted(g["themes"]), "countries": sorted(g["countries"]), "bilateral": g["bilateral"],
                "type": g.get("type", found["type"])}
        wrong = {k: [want[k], found[k]] for k in found if want[k] != found[k]}
        if wrong:
            out.append({"id": str(g.get("id", i)), "publisher": publisher(g.get("url") or ""), "title": g.get("title") or "",
                        "wrong": wrong, "partners": [f"{a}-{b}" for a, b in p.dyads]})
    return out
