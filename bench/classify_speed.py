"""Benchmark: classification throughput on one core.

    uv run python bench/classify_speed.py [N]      # default N = 10000

The dev gold texts (../shared/gold, joined by its build.py) repeated to N documents, each
classified (themes, countries, partnership, type) in this one process.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gold_texts import dev_gold  # noqa: E402
from transforms.classify import classify  # noqa: E402
from transforms.evaluate import publisher_country  # noqa: E402
from transforms.vocabulary import vocabulary  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    docs = dev_gold()
    corpus = [docs[i % len(docs)] for i in range(n)]
    vocab = vocabulary()
    started = time.perf_counter()
    for i, d in enumerate(corpus):
        classify(str(i), d["title"], d["text"], publisher_country(d["url"]), vocab)
    seconds = time.perf_counter() - started
    words = sum(len(d["text"].split()) for d in corpus)
    print(f"\n{n} documents ({words / n:.0f} words on average), one core: {seconds:.2f} s, {n / seconds:,.0f} docs/s")


if __name__ == "__main__":
    main()
