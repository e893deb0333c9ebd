"""Benchmark: precision and recall of the facts (issue 18) against hand labels.

    uv run python bench/facts_quality.py [--errors KIND]

Scores transforms/facts.py on tests/data/facts_gold.jsonl (108 real announcements of
../shared/corpus, labelled by reading; conventions in tests/data/FACTS.md): per fact kind and
per half (`dev`, looked at while building; `held_out`, only scored), and the share of matched
money amounts whose action is right. `--errors KIND` lists each article of the dev half where
that kind's facts differ from the labels (for your own work: never tune to a single document;
the held-out half is only scored).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from schemas.records import FACT_KINDS  # noqa: E402
from transforms.evaluate import publisher_country  # noqa: E402
from transforms.facts import extract_facts, facts_vocabulary  # noqa: E402
from transforms.facts_eval import fact_key, label_key, load_gold, score_facts, texts_of  # noqa: E402

GOLD = REPO / "tests" / "data" / "facts_gold.jsonl"
SHARED = REPO.parent / "shared"


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def main() -> None:
    if not (SHARED / "corpus").is_dir():
        sys.exit(f"needs ../shared/corpus beside the repository ({SHARED})")
    gold = load_gold(GOLD)
    docs = texts_of(gold, SHARED)
    predicted = [extract_facts(d.get("title") or "", d.get("text") or "", d.get("language"), publisher_country(d.get("url") or ""))
                 for d in docs]
    halves = {"all": range(len(gold)), **{h: [i for i, g in enumerate(gold) if g["split"] == h] for h in ("dev", "held_out")}}
    scores = {h: score_facts([gold[i] for i in idx], [predicted[i] for i in idx]) for h, idx in halves.items()}
    print(f"{len(gold)} labelled articles ({len(halves['dev'])} dev, {len(halves['held_out'])} held out)\n")
    print(f"| kind | labels | {' | '.join(f'{h} P / R / F1' for h in halves)} |")
    print(f"|---|---:|{'---|' * len(halves)}")
    for kind in (*FACT_KINDS, "all"):
        s = scores["all"][kind]
        cells = " | ".join(f"{_f(scores[h][kind]['precision'])} / {_f(scores[h][kind]['recall'])} / {_f(scores[h][kind]['f1'])}"
                           for h in halves)
        print(f"| {kind} | {s['tp'] + s['fn']} | {cells} |")
    print("\nmoney actions right, of the matched amounts: " + ", ".join(
        f"{h} {scores[h]['money action']['right']}/{scores[h]['money action']['of']}" for h in halves))
    if "--errors" in sys.argv:
        kind = sys.argv[sys.argv.index("--errors") + 1]
        fv = facts_vocabulary()
        for g, d, facts in zip(gold, docs, predicted, strict=True):
            if g["split"] != "dev":
                continue
            want = Counter(label_key(fv, f) for f in g["facts"] if f["kind"] == kind)
            got = Counter(fact_key(fv, f) for f in facts if f.kind == kind)
            if want != got:
                print(f"\n{g['source']} line {g['line']} ({g['split']}): {d.get('title')}")
                print(f"    missed: {sorted((want - got).elements(), key=str)}")
                print(f"    wrong:  {sorted((got - want).elements(), key=str)}")


if __name__ == "__main__":
    main()
