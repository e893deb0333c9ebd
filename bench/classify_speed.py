"""Benchmark: classification throughput on one core.

    uv run python bench/classify_speed.py [N]      # default N = 10000

The dev gold texts (../shared/gold, joined by its build.py) repeated to N documents, each
classified (themes, countries, partnership, type) in this one process; then the same
documents' facts (transforms/facts.py) alone, and both as a run and reclassify do (`tag`).
Each is timed ROUNDS times, the three in turn, and the fastest round counts: on a shared
machine a single round varies by 10-30%.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gold_texts import dev_gold  # noqa: E402
from transforms.classify import classify, tag  # noqa: E402
from transforms.facts import extract_facts, facts_vocabulary  # noqa: E402
from transforms.evaluate import publisher_country  # noqa: E402
from transforms.vocabulary import vocabulary  # noqa: E402


ROUNDS = 3


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    docs = dev_gold()
    corpus = [docs[i % len(docs)] for i in range(n)]
    vocab = vocabulary()
    fv = facts_vocabulary()
    words = sum(len(d["text"].split()) for d in corpus)
    print(f"\n{n} documents ({words / n:.0f} words on average), one core:")
    runs = {
        "classify (themes, countries, partnership, type)":
            lambda i, d: classify(str(i), d["title"], d["text"], publisher_country(d["url"]), vocab),
        "facts alone": lambda i, d: extract_facts(d["title"], d["text"], d.get("language"), publisher_country(d["url"]), fv),
        "both (tag: what a run and reclassify do)":
            lambda i, d: tag(str(i), d["title"], d["text"], publisher_country(d["url"]), d.get("language"), None, vocab),
    }
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(ROUNDS):
        for name, work in runs.items():
            started = time.perf_counter()
            for i, d in enumerate(corpus):
                work(i, d)
            best[name] = min(best[name], time.perf_counter() - started)
    for name, seconds in best.items():
        print(f"  {name}: {seconds:.2f} s, {n / seconds:,.0f} docs/s (fastest of {ROUNDS} rounds)")

if __name__ == "__main__":
    main()
