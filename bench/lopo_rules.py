"""Leave-one-publisher-out cross-validation of the two values-from-data rules of
taxonomy.toml [meta]: the long-document rule (long_document_words, long_document_power) and
the enumeration rule (listing_themes, listing_weight). For each publisher of the gold files,
the grid point with the best micro-F1 on the other publishers is chosen and scored on the one
left out; the held-out predictions of all publishers are scored together.

    uv run python bench/lopo_rules.py ../shared/gold/dev.jsonl ../shared/gold/dev2.jsonl

Label files are joined with their texts by ../shared/gold/build.py first.
"""

from __future__ import annotations

import dataclasses
import sys
from itertools import product
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gold_texts import gold_texts  # noqa: E402
from transforms.classify import classify  # noqa: E402
from transforms.evaluate import publisher, publisher_country, score  # noqa: E402
from transforms.vocabulary import vocabulary  # noqa: E402

WORDS = (400, 600, 1000, 1e9)
POWERS = (0.3, 0.5)
LISTING = (3, 4, 1_000_000)
LISTING_WEIGHTS = (0.3, 0.6)


def main(label_files: list[str]) -> None:
    docs = [doc for labels in label_files for doc in gold_texts(Path(labels))]
    base = vocabulary()
    grid = list(product(WORDS, POWERS, LISTING, LISTING_WEIGHTS))
    predictions = {}
    for words, power, listing, weight in grid:
        vocab = dataclasses.replace(base, long_words=float(words), long_power=power, listing_themes=listing, listing_weight=weight)
        predictions[words, power, listing, weight] = [classify(d["id"], d["title"], d["text"], publisher_country(d["url"]), vocab) for d in docs]
    hosts = sorted({publisher(d["url"]) for d in docs})
    held_out = [None] * len(docs)
    for host in hosts:
        train = [i for i, d in enumerate(docs) if publisher(d["url"]) != host]
        best = max(grid, key=lambda g: (score([docs[i] for i in train], [predictions[g][i] for i in train], base.themes)["micro_f1"], -g[0]))
        for i, d in enumerate(docs):
            if publisher(d["url"]) == host:
                held_out[i] = predictions[best][i]
        print(f"{host:32} chosen on the others: words={best[0]:g} power={best[1]} listing={best[2]} weight={best[3]}")
    cv = score(docs, held_out, base.themes)
    chosen = (base.long_words, base.long_power, base.listing_themes, base.listing_weight)
    fixed = score(docs, predictions[chosen], base.themes) if chosen in predictions else None
    off = score(docs, predictions[1e9, 0.3, 1_000_000, 0.3], base.themes)
    print(f"micro-F1 / macro-F1: both rules off {off['micro_f1']:.3f} / {off['macro_f1']:.3f}; "
          f"leave-one-publisher-out {cv['micro_f1']:.3f} / {cv['macro_f1']:.3f}"
          + (f"; as shipped {chosen} {fixed['micro_f1']:.3f} / {fixed['macro_f1']:.3f}" if fixed else ""))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
