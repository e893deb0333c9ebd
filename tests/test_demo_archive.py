"""The bundled demo archive is what flows/demo_archive.py makes of flows/demo/articles.json."""

import json

from warcio.archiveiterator import ArchiveIterator

from flows.demo_archive import DEMO_DIR, NOTICE, responses, sources_toml


def test_the_committed_archive_and_sources_file_are_current():
    data = json.loads((DEMO_DIR / "articles.json").read_text(encoding="utf-8"))
    expected = {url: body for url, _type, body in responses(data)}
    stored = {}
    with (DEMO_DIR / "sample.warc.gz").open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                stored[record.rec_headers.get_header("WARC-Target-URI")] = record.content_stream().read()
    assert stored == expected, "run: uv run python -m flows.demo_archive"
    assert (DEMO_DIR / "sources.toml").read_text(encoding="utf-8") == sources_toml(data["sources"])


def test_the_sample_data_says_it_is_invented_and_meets_the_demo_promise():
    data = json.loads((DEMO_DIR / "articles.json").read_text(encoding="utf-8"))
    assert "invented" in data["notice"] and "invented" in NOTICE
    articles = data["articles"]
    assert len(articles) >= 30 and len({a["source"] for a in articles}) >= 3
    assert {a["language"] for a in articles} == {"en", "nl"}
    assert any(a["intended"]["bilateral"] for a in articles)
    assert sum(1 for a in articles if not a["intended"]["themes"]) >= 3  # unrelated items too
    assert all(s["host"].endswith(".example") for s in data["sources"])  # reserved names: never fetched
