"""Events (warehouse/events.py): announcements of one event linked across publishers and
languages, on the demo warehouse (invented releases of two partners in two languages, and
look-alikes that must stay apart) and on hand-labelled pairs of real texts."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from conftest import REPO, need_shared, rows
from flows.cli import app
from flows.demo_archive import DEMO_DIR
from warehouse.events import LINK_RULES, LINK_SCORE, WINDOW_DAYS, Rarity, _text_lists, evidence, linked, profile, simhash

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, prefect_harness) -> Path:
    db = tmp_path_factory.mktemp("events") / "socwatch.duckdb"
    result = runner.invoke(app, ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


def _intended_events() -> dict[str, str]:
    """slug -> the event the demo archive's author meant it to report (where it says)."""
    data = json.loads((DEMO_DIR / "articles.json").read_text(encoding="utf-8"))
    return {a["slug"]: a["intended"]["event"] for a in data["articles"] if "event" in a["intended"]}


def _events_by_slug(db: Path) -> dict[str, str]:
    return {url.rstrip("/").rsplit("/", 1)[-1]: event for url, event in
            rows(db, "SELECT a.url, e.event_id FROM event_articles e JOIN articles a USING (article_id)")}


def test_releases_of_one_event_in_two_languages_are_one_event_and_look_alikes_stay_apart(demo_db):
    intended = _intended_events()
    got = _events_by_slug(demo_db)
    assert len(intended) >= 6
    for a in intended:
        for b in intended:
            if a < b:
                same = got[a] == got[b]
                assert same == (intended[a] == intended[b]), (a, b)
    # Each bilingual event: two languages, two publishers, the partners' pair, a role each.
    linked_events = rows(demo_db, "SELECT languages, len(sources), partners FROM events WHERE articles > 1 ORDER BY title")
    assert sorted(map(tuple, (r[0] for r in linked_events))) == [("en", "nl"), ("en", "nl")]
    assert {tuple(r[2]) for r in linked_events} == {("BE-NL",), ("GB-NL",)}
    roles = dict(rows(demo_db, "SELECT role, count(*) FROM event_articles GROUP BY role"))
    assert roles["partner_release"] == 2 and roles["first_report"] == rows(demo_db, "SELECT count(*) FROM events")[0][0]


def test_every_article_has_one_event_and_links_say_why(demo_db):
    assert rows(demo_db, "SELECT count(*) FROM articles a WHERE NOT EXISTS "
                         "(SELECT 1 FROM event_articles e WHERE e.article_id = a.article_id)") == [(0,)]
    evidence_rows = rows(demo_db, "SELECT evidence FROM event_links")
    assert evidence_rows and all(e for (e,) in evidence_rows)
    assert any(any(x.startswith("operation: ") for x in e) for (e,) in evidence_rows)
    assert any(any(x.startswith("fact: cocaine") for x in e) for (e,) in evidence_rows)  # the same kilograms, in Dutch and English


def test_the_partners_question_in_one_query(demo_db):
    """"Which partners published the same event": one query over events."""
    got = rows(demo_db, "SELECT partners, publishers FROM events WHERE bilateral AND len(sources) > 1 ORDER BY first_published_at")
    assert [tuple(p) for p, _ in got] == [("GB-NL",), ("BE-NL",)]
    assert all(len(pub) == 2 for _, pub in got)


def test_the_seizures_question_in_one_query(demo_db):
    """"How much cocaine did NL and BE report seizing together per month": one query; a
    seizure both report (one event, two releases) is counted once."""
    got = rows(demo_db, """
        SELECT month, sum(kg) FROM (
            SELECT DISTINCT x.event_id, date_trunc('month', e.first_published_at)::DATE AS month, f.subject, f.value AS kg
            FROM article_facts f JOIN event_articles x USING (article_id) JOIN events e USING (event_id)
            WHERE f.kind = 'drug' AND f.subject = 'cocaine' AND list_has_all(e.countries, ['BE', 'NL']))
        GROUP BY month ORDER BY month""")
    assert (datetime(2026, 6, 1).date(), 1850.0) in [(m, kg) for m, kg in got]


def test_events_are_the_same_when_the_run_is_repeated_and_after_reclassify(demo_db, tmp_path):
    before = rows(demo_db, "SELECT article_id, event_id, role FROM event_articles ORDER BY article_id")
    # A load profiles its articles from the frames it writes; reclassify reads them back.
    profiles = rows(demo_db, "SELECT * FROM event_profiles ORDER BY article_id")
    again = runner.invoke(app, ["demo", "--db", str(demo_db)])
    assert again.exit_code == 0, again.output
    assert rows(demo_db, "SELECT article_id, event_id, role FROM event_articles ORDER BY article_id") == before
    result = runner.invoke(app, ["reclassify", "--db", str(demo_db), "--all"])
    assert result.exit_code == 0, result.output
    assert rows(demo_db, "SELECT article_id, event_id, role FROM event_articles ORDER BY article_id") == before
    assert rows(demo_db, "SELECT * FROM event_profiles ORDER BY article_id") == profiles


def test_a_loads_profiles_from_its_frames_equal_those_read_back(tmp_path):
    """A load profiles its batch from the frames it writes (texts not read back); reclassify
    from the table. A translation (tagged from its original) and an undated article included."""
    from flows.validate import build_batch
    from schemas.records import Article, Fetched, Processed, Status
    from transforms.classify import score_bounds, tag
    from transforms.documents import content_hash
    from transforms.urls import article_id
    from transforms.vocabulary import vocabulary
    from warehouse.db import connect
    from warehouse.ledger import start_run
    from warehouse.load import load_batch, replace_tags

    def page(url, title, text, published, **original):
        a_id = article_id(url)
        article = Article(a_id, url, "src", "P", title, text, "en", content_hash(title, text), published_at=published,
                          **original)
        tags = tag(a_id, original.get("original_title") or title, original.get("original_text") or text, "GB", "en",
                   original.get("original_url"))
        return (Fetched("src", url, Status.FETCHED, http_status=200, body=b"<html/>"),
                Processed(url, Status.FETCHED, article=article, tags=tags))

    when = datetime(2026, 3, 24, tzinfo=UTC)
    pages = [page("https://gov.example/dialogue", "UK and Netherlands hold dialogue on cocaine and firearms",
                  "The UK and the Netherlands held their serious and organised crime dialogue in London.", when),
             page("https://gov.example/dialogue.ar", "حوار", "النص المترجم", when,
                  original_url="https://gov.example/dialogue", original_title="UK-Netherlands dialogue held again",
                  original_text="Ministers of the UK and the Netherlands met on cocaine trafficking and firearms."),
             page("https://gov.example/undated", "Port seizure", "Officers seized 300 kg of cocaine at the port.", None)]
    con = connect(tmp_path / "w.duckdb")
    start_run(con, "r", "ingest")
    batch = build_batch([f for f, _ in pages], [p for _, p in pages], score_bounds(vocabulary()))
    load_batch(con, "r", batch.frames, batch.rejects)
    profiles = "SELECT * EXCLUDE (link_rules) FROM event_profiles ORDER BY article_id"
    from_frames = con.execute(profiles).fetchall()
    assert len(from_frames) == 3
    assert con.execute("SELECT DISTINCT link_rules FROM event_profiles").fetchall() == [(LINK_RULES,)]
    con.execute("DELETE FROM event_profiles")  # no SimHash kept: each is made again from the table's text
    ids = [p.article.article_id for _, p in pages]
    replace_tags(con, "r", ids, {k: v for k, v in batch.frames.items() if k != "articles"}, [])
    assert con.execute(profiles).fetchall() == from_frames
    # Re-tagged, they wait to be linked again (reclassify does it after its last batch).
    assert con.execute("SELECT DISTINCT link_rules FROM event_profiles").fetchall() == [(None,)]
    con.close()


def test_the_events_command_lists_events_with_their_releases_and_refuses_a_bad_pair(demo_db):
    result = runner.invoke(app, ["events", "--db", str(demo_db), "--partners", "nl-be", "--linked"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("2026-06-10  BE-NL  operation_result  2 announcements (en, nl)")
    assert any("partner_release" in line and "sample-europol" in line for line in lines[1:])
    bad = runner.invoke(app, ["events", "--db", str(demo_db), "--partners", "GBNL"])
    assert bad.exit_code == 2 and "--partners" in bad.output


def _p(a_id, day, **kw):
    base = {"source": "x", "language": "en", "title": "", "countries": ("NL",), "themes": (), "dyads": (), "kind": "other",
            "facts": (), "sh": None}
    base.update(kw)
    return profile(a_id, datetime(2026, 6, 1, tzinfo=UTC) + timedelta(days=day), base["source"], base["language"],
                   base["title"], base["countries"], base["themes"], base["dyads"], base["kind"], base["facts"], base["sh"])


def test_a_shared_operation_and_equal_facts_link_across_languages_but_themes_and_agencies_alone_do_not():
    nl = _p("a", 0, language="nl", facts=[("operation", "Kustlicht", ""), ("drug", "cocaine", "1850.0"), ("agency", "Politie", "")])
    en = _p("b", 2, language="en", facts=[("operation", "Kustlicht", ""), ("drug", "cocaine", "1850.0")])
    ok, score, why = linked(nl, en)
    assert ok and score >= LINK_SCORE and why[0] == "operation: kustlicht" and "fact: cocaine 1850.0" in why
    weak_a = _p("c", 0, themes=("drugs",), facts=[("agency", "Politie", ""), ("agency", "Douane", "")])
    weak_b = _p("d", 1, themes=("drugs",), facts=[("agency", "Politie", ""), ("agency", "Douane", "")])
    assert evidence(weak_a, weak_b)[0] == 0.0  # no anchor
    far = _p("e", WINDOW_DAYS + 1, language="en", facts=[("operation", "Kustlicht", "")])
    assert not linked(nl, far)[0]  # outside the window: another event
    elsewhere = _p("f", 1, countries=("FR",), facts=[("operation", "Kustlicht", "")])
    assert not linked(nl, elsewhere)[0]  # no country in common: not a candidate


def test_leaving_a_pair_without_an_anchor_early_gives_what_the_whole_evidence_gives():
    sh = 0x0F0F_1234_5678_9ABC
    pairs = {  # every kind of anchor, and pairs with none
        "operation": (_p("a", 0, facts=[("operation", "Venetic", "")]), _p("b", 1, facts=[("operation", "Venetic", "")])),
        "fact": (_p("a", 0, facts=[("drug", "cocaine", "400.0")]), _p("b", 1, facts=[("drug", "cocaine", "400.0")])),
        "near-duplicate": (_p("a", 0, sh=sh), _p("b", 1, sh=sh ^ 1)),
        "title": (_p("a", 0, title="Kustlicht cocaine haul"), _p("b", 1, title="Kustlicht cocaine haul")),
        "dyad and type": (_p("a", 0, dyads=("GB-NL",), kind="dialogue_meeting"),
                          _p("b", 1, dyads=("GB-NL",), kind="dialogue_meeting")),
        "themes and agencies": (_p("a", 0, themes=("drugs",), facts=[("agency", "FIOD", "")]),
                                _p("b", 1, themes=("drugs",), facts=[("agency", "FIOD", "")])),
        "dyad alone": (_p("a", 0, dyads=("GB-NL",), kind="statement"), _p("b", 1, dyads=("GB-NL",), kind="agreement")),
    }
    for name, (a, b) in pairs.items():
        score, why = evidence(a, b)
        assert evidence(a, b, links_only=True) == ((score, why) if score else (0.0, [])), name
        assert (score > 0) == (name not in ("themes and agencies", "dyad alone")), name


def test_two_calls_with_one_partner_days_apart_are_two_events():
    a = _p("a", 0, countries=("FR", "US"), dyads=("FR-US",), kind="dialogue_meeting")
    same_day = _p("b", 0, countries=("FR", "US"), dyads=("FR-US",), kind="dialogue_meeting", facts=[("agency", "State Department", "")])
    later = _p("c", 4, countries=("FR", "US"), dyads=("FR-US",), kind="dialogue_meeting", facts=[("agency", "State Department", "")])
    assert "dyad and type: FR-US dialogue_meeting" in evidence(a, same_day)[1]
    assert "dyad and type: FR-US dialogue_meeting" not in evidence(a, later)[1]
    # However alike their headlines: the same partners' calls four days apart weigh against a link.
    title = "Secretary's call with the French Foreign Minister"
    first, again = (_p(i, d, countries=("FR", "US"), dyads=("FR-US",), kind="dialogue_meeting", title=title) for i, d in (("d", 0), ("e", 4)))
    assert linked(first, _p("f", 1, countries=("FR", "US"), dyads=("FR-US",), kind="dialogue_meeting", title=title))[0]
    assert not linked(first, again)[0] and "another day: FR-US dialogue_meeting" in evidence(first, again)[1]


def test_a_trips_notices_days_apart_are_one_event_but_not_weeks_apart():
    kw = dict(countries=("TH", "US"), dyads=("TH-US",), kind="dialogue_meeting")
    notice = _p("a", 0, title="Secretary's Travel to Bali and Bangkok", **kw)
    update = _p("b", 5, title="Secretary's Travel to Bali, Bangkok, and Tokyo", **kw)
    # A block of a publisher's headlines, where "secretary" and "travel" are its template words.
    others = [_p(f"o{i}", 1, title=f"Secretary's Travel to {place}", **kw) for i, place in enumerate(("Paris", "Rome", "Lima"))]
    rarity = Rarity([notice, update, *others])
    ok, _, why = linked(notice, update, rarity)
    assert ok and "dyad and type: TH-US dialogue_meeting" in why and not any(w.startswith("another day") for w in why)
    next_trip = _p("c", 12, title="Secretary's Travel to Bali and Bangkok", **kw)
    assert "another day: TH-US dialogue_meeting" in evidence(notice, next_trip, rarity)[1]
    # Two officials' travels to one country a few days apart: one rare word (the country) is no trip.
    sherman = _p("d", 5, title="Deputy Secretary Sherman's Travel to Thailand", **kw)
    blinken = _p("e", 0, title="Secretary Blinken's Travel to Thailand", **kw)
    assert "another day: TH-US dialogue_meeting" in evidence(blinken, sherman, Rarity([blinken, sherman, *others]))[1]
    # Calls five days apart are still two calls.
    calls = [_p(i, d, title="Secretary's Call with the Thai Foreign Minister", **kw) for i, d in (("f", 0), ("g", 5))]
    assert "another day: TH-US dialogue_meeting" in evidence(*calls)[1]


def test_a_figure_common_in_the_weeks_links_nothing_alone_but_with_a_rare_name_it_does():
    """Two arrests, reported by a police force's releases every week, linked hundreds of
    unrelated releases into one event over the corpus texts; a rare name of both headlines
    with that figure still names one."""
    kw = dict(language="nl", kind="operation_result", facts=[("arrests", "", "2.0"), ("agency", "Politie", "")])
    a = _p("a", 0, title="Twee aanhoudingen na steekincident Assen", **kw)
    b = _p("b", 3, title="Verdachten aangehouden na beroving in Breda", **kw)
    week = [_p(f"o{i}", i % 9, title=f"Aanhoudingen in {town}", **kw) for i, town in enumerate(
        ("Utrecht", "Leiden", "Venlo", "Gouda", "Emmen", "Delft", "Zwolle", "Ede"))]
    assert linked(a, b, Rarity([a, b]))[0]  # alone in its block, the figure tells
    ok, _, why = linked(a, b, Rarity([a, b, *week]))
    assert not ok and "common fact: arrests 2.0" in why
    c = _p("c", 5, title="Derde verdachte aangehouden voor steekincident Assen", **kw)
    ok, _, why = linked(a, c, Rarity([a, b, c, *week]))
    assert ok and "name in both headlines: assen" in why and "common fact: arrests 2.0" in why


def test_a_partner_pair_common_in_the_weeks_is_no_anchor_but_one_meeting_still_is():
    """A prosecutor's cartel cases with Mexico, a few a week: the same pair, type, agencies and
    theme linked hundreds of unrelated cases into one event when the corpus texts were
    published at 550 a day. Held by more than FEW articles of the block, the pair anchors no
    operation; the partners' one call of a day still links their two releases."""
    kw = dict(countries=("MX", "US"), dyads=("MX-US",), kind="operation_result", themes=("drugs",),
              facts=[("agency", "DEA", ""), ("agency", "FBI", "")])
    a = _p("a", 0, title="Cartel leader sentenced for cocaine importation", **kw)
    b = _p("b", 4, title="Two men extradited to face methamphetamine charges", **kw)
    weeks = [_p(f"o{i}", i % 20, title=f"Case {i} of the month", **kw) for i in range(8)]
    ok, _, why = linked(a, b, Rarity([a, b]))
    assert ok and "dyad and type: MX-US operation_result" in why  # alone in its block, the pair tells
    ok, _, why = linked(a, b, Rarity([a, b, *weeks]))
    assert not ok and "dyad: MX-US" in why
    call = dict(countries=("MX", "US"), dyads=("MX-US",), kind="dialogue_meeting", themes=("drugs", "firearms"))
    calls = [_p(f"c{i}", 0, title=t, **call) for i, t in ((1, "Secretary's call with Foreign Secretary Ebrard"),
                                                          (2, "Llamada del canciller con el Secretario de Estado"))]
    ok, _, why = linked(*calls, Rarity([*calls, *weeks]))
    assert ok and "dyad and type: MX-US dialogue_meeting" in why


def test_a_series_headlines_alike_in_common_words_only_are_no_anchor():
    kw = dict(countries=("US",), kind="statement", facts=[("agency", "State Department", "")])
    days = [_p(f"d{i}", i, title=f"Department Press Briefing - August {10 + i}, 2021", **kw) for i in range(8)]
    ok, _, why = linked(days[0], days[1], Rarity(days))
    assert not ok and "like headlines of a series" in why
    bali = [_p(i, d, title=t, **kw) for i, d, t in (("t1", 0, "Secretary's Travel to Bali and Bangkok"),
                                                     ("t2", 5, "Secretary's Travel to Bali, Bangkok, and Tokyo"))]
    assert "like headlines" in evidence(*bali, Rarity([*bali, *days]))[1]


def test_a_bill_and_a_seizure_are_two_events_even_with_rare_words_in_common():
    words = "Vuurwapens 3D-geprinte Almere"
    bill = _p("a", 0, title=words, kind="policy_legislation", themes=("firearms",))
    seizure = _p("b", 9, title=words, kind="operation_result", themes=("firearms",))
    follow_up = _p("c", 20, title=words, kind="operation_result", themes=("firearms",))
    assert linked(seizure, follow_up)[0]  # three weeks on, the same kind of occurrence: a follow-up
    ok, _, why = linked(bill, seizure)
    assert not ok and "other kind: policy_legislation, operation_result" in why


def test_a_runs_shortlist_made_in_the_database_links_as_the_block_read_whole(demo_db, tmp_path, monkeypatch):
    """Candidates counted in SQL for a run's batch, or from the block read into Python for a
    reclassify's: the same links, with half the demo's articles stored and half new."""
    import shutil

    import polars as pl

    from warehouse import events
    from warehouse.db import connect, register

    db = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_db, db)
    con = connect(db)
    try:
        ids = [r[0] for r in con.execute("SELECT article_id FROM event_profiles ORDER BY article_id").fetchall()]
        register(con, "new_ids", pl.DataFrame({"article_id": ids[::2]}))
        batch = events._stored(con.execute("SELECT article_id, epoch_us(published_at), source, language, title_words, countries, "
                                           "themes, dyads, type, operations, agencies, facts, simhash FROM event_profiles "
                                           "WHERE article_id IN (SELECT article_id FROM new_ids) ORDER BY article_id").fetchall())
        monkeypatch.setattr(events, "SHORTLIST_MAX", len(batch))
        in_sql = events._pairs(con, batch, "new_ids")
        monkeypatch.setattr(events, "SHORTLIST_MAX", 0)
        in_python = events._pairs(con, batch, "new_ids")
    finally:
        con.close()
    assert in_sql == in_python
    assert any(a in ids[::2] and b in ids[1::2] or b in ids[::2] and a in ids[1::2] for a, b in in_sql)  # stored ones linked


# What linking reaches on tests/data/event_pairs.jsonl (bench/events_quality.py prints it).
PAIR_PINS = {"precision": 0.82, "recall": 0.57}


def test_linking_holds_its_scores_on_hand_labelled_pairs():
    need_shared("corpus", "texts")
    out = subprocess.run([sys.executable, str(REPO / "bench" / "events_quality.py")], capture_output=True, text=True,
                         check=True, cwd=REPO).stdout
    line = next(x for x in out.splitlines() if x.startswith("linking:"))
    precision = float(line.split("precision ")[1].split(",")[0])
    recall = float(line.split("recall ")[1].split(",")[0])
    assert precision >= PAIR_PINS["precision"] and recall >= PAIR_PINS["recall"], line
    labels = [json.loads(x) for x in (REPO / "tests" / "data" / "event_pairs.jsonl").read_text().splitlines() if x.strip()]
    assert sum(p["linked"] for p in labels) >= 30 and sum(not p["linked"] for p in labels) >= 30


@pytest.mark.parametrize("in_sql", [True, False])
def test_an_articles_candidates_are_its_own_in_a_batch_of_months(tmp_path, monkeypatch, in_sql):
    """A backfill's batch spans months: the places of an article's ranking go to candidates
    within its own window and countries, not to another article's look-alikes that share more
    keys with it."""
    import polars as pl

    from warehouse import events
    from warehouse.db import connect, register

    con = connect(tmp_path / "w.duckdb")
    try:
        start = datetime(2026, 1, 1, tzinfo=UTC)
        words, facts = ["havenbedrijf", "cocaine", "container"], ["cocaine 120.0"]
        # 80 look-alikes of A half a year later (in B's window, not A's), and A's partner release.
        con.execute("INSERT INTO event_profiles SELECT 'look' || i, 'h', hash('look' || i), $later, 'x', 'nl', $words, ['BE', 'NL'], ['drugs'], "
                    "['BE-NL'], 'operation_result', [], [], $facts, NULL FROM range(80) t(i)",
                    {"later": start + timedelta(days=200), "words": words, "facts": facts})
        con.execute("INSERT INTO event_profiles VALUES ('partner', 'h', 12345, $day, 'y', 'en', ['raid'], ['BE', 'NL'], [], [], "
                    "'operation_result', ['kustlicht'], [], [], NULL)", {"day": start + timedelta(days=1)})
        a = profile("a", start, "z", "nl", " ".join(words), ("BE", "NL"), ("drugs",), ("BE-NL",), "operation_result",
                    [("operation", "Kustlicht", ""), ("drug", "cocaine", "120.0")], None)
        b = profile("b", start + timedelta(days=200), "z", "nl", "other news", ("FR",), (), (), "other", [], None)
        register(con, "new_ids", pl.DataFrame({"article_id": ["a", "b"]}))
        monkeypatch.setattr(events, "SHORTLIST_MAX", 100 if in_sql else 0)
        links = events._pairs(con, [a, b], "new_ids")
    finally:
        con.close()
    assert ("a", "partner") in links and "operation: kustlicht" in links[("a", "partner")][1]
    assert not any("look" in x for pair in links for x in pair)  # months apart: not linked


def test_the_simhash_of_a_text_is_trafilaturas_on_real_texts():
    """Linking's SimHash, counted in lanes, is the value trafilatura's Simhash gives (stored
    profiles made by either compare alike), on the real texts of every corpus file."""
    from trafilatura.deduplication import Simhash

    texts = need_shared("corpus", "texts")
    samples = []
    for path in sorted(texts.glob("*.jsonl")):
        samples += [json.loads(line).get("text") or "" for line in path.read_text(encoding="utf-8").splitlines()[:40]]
    assert len(samples) > 200
    assert [simhash(t) for t in samples] == [Simhash(t).hash for t in samples]
    assert len({simhash(t) for t in samples}) > 200  # texts that differ get hashes that differ


def test_the_simhash_of_edge_cases_is_trafilaturas():
    """No text, one word, punctuation only, a text of no Latin letters, one word many times;
    more tokens than a lane of the counting holds (65,535): counted in parts."""
    from trafilatura.deduplication import Simhash

    samples = ["", "cocaine", "... !!! ,,,", "الشرطة الهولندية والمملكة المتحدة", "a b c", "politie " * 5000,
               " ".join(f"word{i}" for i in range(3000)), "politie " * 70_000,
               " ".join(f"word{i % 500}" for i in range(140_000))]
    assert [simhash(t) for t in samples] == [Simhash(t).hash for t in samples]


def test_text_lists_keep_every_list_as_it_is_even_empty_texts_and_separators():
    lists = [[], ["w:kuip", "d:NL-US"], [""], ["a", ""], ["x\x1fy"], ["één", "b4:65535"]]
    column = _text_lists(lists, "keys")
    assert column.name == "keys" and column.dtype == pl.List(pl.Utf8)
    assert column.to_list() == lists
    assert _text_lists([]).to_list() == []


def test_an_article_relinked_away_splits_its_event_and_the_rest_stays_one(tmp_path):
    from warehouse import events
    from warehouse.db import connect

    con = connect(tmp_path / "w.duckdb")
    try:
        day = datetime(2026, 3, 1, tzinfo=UTC)
        for k, a_id in enumerate("cba"):  # c is the first report of the chain's event
            con.execute("INSERT INTO event_profiles VALUES ($id, 'h', 1, $at, 'x', 'nl', [], ['NL'], [], [], 'other', [], [], [], NULL)",
                        {"id": a_id, "at": day + timedelta(days=k)})
        con.execute("INSERT INTO event_links VALUES ('a', 'b', 5.0, ['operation: kustlicht']), ('b', 'c', 5.0, ['fact: cocaine 40.0'])")
        events._regroup(con, {"a"})  # the chain a - b - c, found from one end
        assert len({r[0] for r in con.execute("SELECT event_id FROM event_articles").fetchall()}) == 1
        # c is loaded again and no longer links: the event it named is regrouped from c alone.
        con.execute("DELETE FROM event_links WHERE article_b = 'c'")
        events._regroup(con, {"c"})
        got = dict(con.execute("SELECT article_id, event_id FROM event_articles").fetchall())
        assert got["a"] == got["b"] != got["c"] and len(got) == 3
        roles = dict(con.execute("SELECT article_id, role FROM event_articles").fetchall())
        assert roles == {"a": "follow_up", "b": "first_report", "c": "first_report"}
    finally:
        con.close()


# The partner's side of the seed's dialogue: a Dutch release written for this test (the
# ministry publishes one for each dialogue; none of 2026 is in ../shared).
_DUTCH_DIALOGUE = (
    "Nederland en Verenigd Koninkrijk houden vierde dialoog over georganiseerde criminaliteit",
    "Nederland en het Verenigd Koninkrijk hebben vandaag de vierde dialoog over zware en georganiseerde "
    "criminaliteit gehouden. De minister van Justitie en Veiligheid en de Britse ministers spraken over het "
    "verstoren van criminele geldstromen, het eerder tegenhouden van cocaïne op de route naar Europa en de "
    "dreiging van 3D-geprinte vuurwapens.\n"
    "Sinds de vorige dialoog werken de politie, de FIOD en hun Britse partners nauwer samen, wat leidde tot "
    "inbeslagnames van duizenden kilo's cocaïne. Ook de aanpak van gedetineerde criminelen kwam aan bod.\n"
    "Beide landen blijven informatie delen en gezamenlijke onderzoeken doen naar wapenhandel.")


def _tagged(key: str, title: str, text: str, url: str, language: str, when: datetime):
    from transforms.classify import tag
    from transforms.evaluate import publisher_country

    tags = tag(key, title, text, publisher_country(url), language)
    facts = [(f.kind, f.subject or "", "" if f.value is None else str(round(f.value, 1))) for f in tags.facts]
    return profile(key, when, url.split("/")[2], language, title, tags.countries, [t.theme for t in tags.themes],
                   [f"{a}-{b}" for a, b in tags.dyads], tags.announcement_type, facts, simhash(text))


def test_the_seed_announcement_joins_the_dutch_release_of_its_dialogue_and_not_an_earlier_meeting():
    from conftest import SEED

    lines = [x.strip() for x in need_shared("seed", SEED.name).read_text(encoding="utf-8").splitlines() if x.strip()]
    seed = _tagged("seed", lines[0], "\n".join(lines[2:-1]), lines[-1].strip("<>"), "en",
                   datetime(2026, 3, 24, 10, tzinfo=UTC))
    assert seed.dyads == {"GB-NL"} and seed.type == "dialogue_meeting"
    title, text = _DUTCH_DIALOGUE
    dutch = _tagged("nl", title, text, "https://www.rijksoverheid.nl/actueel/nieuws/2026/03/25/dialoog", "nl",
                    datetime(2026, 3, 25, 9, tzinfo=UTC))
    ok, score, why = linked(seed, dutch)
    assert ok and "dyad and type: GB-NL dialogue_meeting" in why, (score, why)
    # The same partners' meeting of 12 March (the demo archive's work plan): another event.
    demo = json.loads((DEMO_DIR / "articles.json").read_text(encoding="utf-8"))
    plan = next(a for a in demo["articles"] if a["intended"].get("event") == "gb-nl-dialogue-2026")
    earlier = _tagged("plan", plan["title"], "\n".join(plan["paragraphs"]), "https://www.rijksoverheid.nl/actueel/nieuws/plan",
                      "nl", datetime.fromisoformat(plan["published"]))
    assert earlier.dyads == {"GB-NL"}
    ok, _, why = linked(seed, earlier)
    assert not ok and "another day: GB-NL dialogue_meeting" in why, why


def test_new_linking_rules_link_the_stored_articles_again_batch_by_batch(demo_db, tmp_path):
    """Events made under other rules (an older socwatch: here, no links at all) are made again
    by reclassify from the stored profiles, without re-tagging; a batch linked before a kill
    stays linked, and the next reclassify does the rest."""
    import shutil

    from warehouse import load
    from warehouse.db import connect
    from warehouse.events import count_to_relink, to_relink

    db = tmp_path / "w.duckdb"
    shutil.copy(demo_db, db)
    # The same events and pairs; the evidence of a pair may differ in the headline words that
    # count as rare, which depends on what else was stored when it was weighed.
    events = "SELECT article_id, event_id, role, linked_to FROM event_articles ORDER BY article_id"
    links = "SELECT article_a, article_b FROM event_links ORDER BY article_a, article_b"
    before_events, before_links = rows(db, events), rows(db, links)
    assert len(before_links) == 2 and rows(db, "SELECT DISTINCT link_rules FROM event_profiles") == [(LINK_RULES,)]
    con = connect(db)
    con.execute("UPDATE event_profiles SET link_rules = 'lr-older'")
    con.execute("DELETE FROM event_links")
    con.execute("UPDATE event_articles SET event_id = 'ev-' || article_id, role = 'first_report', linked_to = NULL, evidence = []")
    total = count_to_relink(con)
    first = to_relink(con, 10)
    load.relink(con, first)  # one batch, then the process "dies"
    assert count_to_relink(con) == total - 10
    con.close()
    waiting = runner.invoke(app, ["status", "--db", str(db)])
    assert f"{total - 10} article(s) linked into events under other rules" in waiting.output, waiting.output
    assert "10 article(s) linked again whose events are not made yet" in waiting.output, waiting.output
    assert "socwatch reclassify" in waiting.output and "not tagged" not in waiting.output

    result = runner.invoke(app, ["reclassify", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert f"{total - 10} article(s) linked again" in result.output and " 0 article(s) re-tagged" in result.output
    assert rows(db, events) == before_events and rows(db, links) == before_links
    again = runner.invoke(app, ["reclassify", "--db", str(db)])
    assert again.exit_code == 0 and "linked again" not in again.output
    assert "socwatch reclassify" not in runner.invoke(app, ["status", "--db", str(db)]).output


def test_relinked_articles_get_their_events_once_all_are_linked_and_a_stop_between_is_carried_on(demo_db, tmp_path):
    """Relinking makes the links batch by batch and the events after the last batch, each
    linked group once; a reclassify stopped between the two leaves the links made and the
    events to make, which the next one makes: the same events as linking the whole again."""
    import shutil

    from warehouse import load
    from warehouse.db import connect
    from warehouse.events import UNGROUPED, count_to_regroup, count_to_relink, to_regroup, to_relink

    db = tmp_path / "w.duckdb"
    shutil.copy(demo_db, db)
    events = "SELECT article_id, event_id, role, linked_to FROM event_articles ORDER BY article_id"
    before = rows(db, events)
    con = connect(db)
    con.execute("UPDATE event_profiles SET link_rules = 'lr-older'")
    con.execute("DELETE FROM event_links")
    con.execute("UPDATE event_articles SET event_id = 'ev-' || article_id, role = 'first_report', linked_to = NULL, evidence = []")
    while ids := to_relink(con, 7):
        load.relink(con, ids)
    assert count_to_relink(con) == 0 and count_to_regroup(con) == len(before)
    assert con.execute("SELECT count(DISTINCT event_id) FROM event_articles").fetchone()[0] == len(before)  # not made yet
    assert load.regroup(con, to_regroup(con, 3)) >= 3  # the groups of three, and their members with them
    con.close()
    assert rows(db, "SELECT count(*) FROM event_profiles WHERE link_rules = ?", UNGROUPED)[0][0] > 0
    result = runner.invoke(app, ["reclassify", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert rows(db, events) == before
    assert rows(db, "SELECT DISTINCT link_rules FROM event_profiles") == [(LINK_RULES,)]


def test_making_relinked_events_a_chunk_at_a_time_leaves_no_former_mate_behind(tmp_path):
    """T's former event held U, not relinked (a run of the new code stored it); relinking
    dropped T-U and made S-T. However the chunks fall, U is made again as its own event."""
    from warehouse import load
    from warehouse.db import connect
    from warehouse.events import UNGROUPED, to_regroup

    con = connect(tmp_path / "w.duckdb")
    for a_id, day, rules in (("S", 1, UNGROUPED), ("T", 2, UNGROUPED), ("U", 3, LINK_RULES)):
        con.execute("INSERT INTO event_profiles VALUES (?, 'h', 0, ?::TIMESTAMPTZ, 'src', 'nl', [], ['NL'], [], [], "
                    "'other', [], [], [], ?)", [a_id, f"2025-01-0{day} 00:00:00+00", rules])
    con.execute("INSERT INTO event_articles VALUES ('S', 'ev-S', 'first_report', NULL, []), "
                "('T', 'ev-T', 'first_report', NULL, []), ('U', 'ev-T', 'follow_up', 'T', ['fact: x'])")
    con.execute("INSERT INTO event_links VALUES ('S', 'T', 5.0, ['fact: y'])")
    while ids := to_regroup(con, 1):
        load.regroup(con, ids)
    made = {a: (event, role, to) for a, event, role, to in
            con.execute("SELECT article_id, event_id, role, linked_to FROM event_articles").fetchall()}
    con.close()
    assert made["S"][0] == made["T"][0] != made["U"][0]
    assert made["U"][1:] == ("first_report", None) and made["T"][2] == "S"


def test_a_police_forces_releases_of_two_months_are_not_chained_into_one_event(tmp_path):
    """400 real politie.nl releases (October and November 2025), loaded as a run loads them:
    weekly figures (two arrests, the force's own name, the type) once chained 87 of them,
    about unrelated stabbings, robberies and frauds, into one event."""
    texts = need_shared("corpus", "texts", "politie_nl_news_2025.jsonl")
    from flows.validate import build_batch
    from schemas.records import Article, Fetched, Processed, Status
    from transforms.classify import score_bounds, tag
    from transforms.documents import content_hash
    from transforms.urls import article_id
    from transforms.vocabulary import vocabulary
    from warehouse import load
    from warehouse.db import connect
    from warehouse.ledger import start_run

    vocab = vocabulary()
    docs = sorted((json.loads(line) for line in texts.read_text(encoding="utf-8").splitlines()), key=lambda d: d["published"])
    processed = []
    for d in docs:
        a = Article(article_id(d["url"]), d["url"], "politie", d.get("publisher"), d["title"], d["text"], "nl",
                    content_hash(d["title"], d["text"]), published_at=datetime.fromisoformat(d["published"]))
        processed.append(Processed(a.url, Status.FETCHED, article=a, tags=tag(a.article_id, a.title, a.text, "NL", "nl", None, vocab)))
    con = connect(tmp_path / "politie.duckdb")
    try:
        start_run(con, "test", "ingest")
        for first in range(0, len(processed), 100):
            part = processed[first:first + 100]
            built = build_batch([Fetched("politie", p.fetched_url, Status.FETCHED, content_type="text/html", http_status=200,
                                         cache_url=p.fetched_url) for p in part], part, score_bounds(vocab))
            load.load_batch(con, "test", built.frames, built.rejects, built.seen_unchanged)
        sizes = [n for (n,) in con.execute("SELECT count(*) FROM event_articles GROUP BY event_id ORDER BY 1 DESC").fetchall()]
    finally:
        con.close()
    assert len(sizes) >= 300 and sizes[0] <= 12, sizes[:5]


def test_candidates_counted_in_columns_are_those_of_their_definition(monkeypatch):
    """events._shared_keys counts keys in joins of columns; what it gives is, for each article
    of the batch, the profiles in its block (within the window, a country in common) sharing
    the most of its keys (a common word or fact is none), ties to the smaller id, at most
    MAX_CANDIDATES. Checked against that definition written out pair by pair, on a block dense
    enough to fill the candidates' places, with more countries than one 64-bit word holds and
    the batch counted in several joins."""
    import random

    from warehouse import events

    rng = random.Random(17)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    codes = [f"{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(90)]
    vocabulary_ = [f"word{i}" for i in range(60)]
    profiles = []
    for i in range(900):
        title = rng.sample(vocabulary_, 5) + (["template"] if rng.random() < 0.3 else [])  # in 270 headlines: no key
        countries = {rng.choice(codes)} | ({"NL"} if rng.random() < 0.7 else set())
        facts = [("arrests", "", str(rng.choice([2.0, 3.0, 4.0, 5.0 + i])))] if rng.random() < 0.5 else []
        profiles.append(profile(f"id{rng.randrange(10**6):06d}-{i}", start + timedelta(hours=rng.randrange(24 * 120)), "s", "en",
                                " ".join(title), countries, (), (), "other", facts, rng.choice([None, rng.getrandbits(64)])))
    rng.shuffle(profiles)
    batch = profiles[-300:]
    rarity = Rarity(profiles)
    common, window = 100, timedelta(days=WINDOW_DAYS)
    monkeypatch.setattr(events, "_QUERIES_AT_ONCE", 128)
    got = events._shared_keys(batch, profiles, rarity, common, window)

    def keys(p):
        return {k for k in events._keys(p)
                if not (k[0] == "word" and rarity.df[k[1]] > common or k[0] == "fact" and rarity.common_fact(k[1]))}

    expected = {}
    for a in batch:
        shared = [(-len(keys(a) & keys(b)), b.article_id) for b in profiles
                  if b is not a and events.in_block(a, b, window) and keys(a) & keys(b)]
        if shared:
            expected[a.article_id] = [(-n, b_id) for n, b_id in sorted(shared)[:events.MAX_CANDIDATES]]
    assert dict(got) == expected
    assert sum(len(v) == events.MAX_CANDIDATES for v in expected.values()) > 100  # places filled: the ranking decides
    assert any(not events.in_block(a, b, window) and keys(a) & keys(b) for a in batch[:20] for b in profiles)  # blocking decides
