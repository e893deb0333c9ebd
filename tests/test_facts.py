"""Facts from announcements (transforms/facts.py): numbers in English and Dutch, what makes a
number a fact, the spans kept as evidence, the scores on hand labels of real texts, and the
facts' way into the warehouse (article_facts, the monthly views, reclassify).

Sentences here are written for these tests; the scored texts are the real ones of
../shared/corpus, named by tests/data/facts_gold.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SEED, need_shared, rows
from flows.cli import app
from transforms.evaluate import publisher_country
from transforms.facts import extract_facts, facts_vocabulary, number
from transforms.facts_eval import load_gold, score_facts, texts_of

GOLD = Path(__file__).parent / "data" / "facts_gold.jsonl"


def facts(text: str, language: str = "en", kind: str | None = None, title: str = "", country: str | None = None):
    found = extract_facts(title, text, language, country)
    return [f for f in found if kind is None or f.kind == kind]


def one(text: str, kind: str, language: str = "en"):
    found = facts(text, language, kind)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(("written", "language", "value"), [
    ("3,2", "nl", 3.2), ("1.200", "nl", 1200), ("1.200,5", "nl", 1200.5), ("1,200", "en", 1200), ("1,200.5", "en", 1200.5),
    ("3.2", "nl", 3.2),  # a separator before other than three digits is a decimal mark in any language
    ("twee", "nl", 2), ("drieduizend", "nl", 3000), ("vijfentwintig", "nl", 25), ("five hundred", "en", 500),
    ("twenty-two", "en", 22), ("a dozen", "en", 12), ("anderhalf", "nl", 1.5),
])
def test_numbers_are_read_in_the_locale_of_the_text(written, language, value):
    assert number(facts_vocabulary(), written, None, language) == pytest.approx(value)


def test_scale_words_multiply():
    fv = facts_vocabulary()
    assert number(fv, "1,5", "miljoen", "nl") == pytest.approx(1.5e6)
    assert number(fv, "3.4", "billion", "en") == pytest.approx(3.4e9)
    assert number(fv, "2", "m", "en") == pytest.approx(2e6)


@pytest.mark.parametrize(("text", "language", "substance", "kg"), [
    ("De douane heeft in de haven 3,2 ton cocaïne in beslag genomen.", "nl", "cocaine", 3200),
    ("Agenten troffen 1.200 kilo hennep aan in een loods.", "nl", "cannabis", 1200),
    ("Officers seized two tonnes of cocaine hidden in bananas.", "en", "cocaine", 2000),
    ("Border officers found more than 400 kg of heroin in the lorry.", "en", "heroin", 400),
    ("Agents seized 50 pounds of methamphetamine during the search.", "en", "methamphetamine", 22.68),
])
def test_drug_seizures_are_normalised_to_kilograms(text, language, substance, kg):
    fact = one(text, "drug", language)
    assert (fact.subject, round(fact.value, 2)) == (substance, kg)
    assert text[fact.start:fact.end].split()[0] in text  # the span starts at the number


def test_an_amount_no_one_seized_is_no_seizure():
    assert facts("He conspired to distribute five kilograms or more of cocaine.", kind="drug") == []
    assert facts("The lab could produce 100 kilo of amphetamine per week; it was dismantled.", "nl", kind="drug") == []
    assert facts("Cocaine worth millions was shipped through the port.", kind="drug") == []  # no number


def test_counts_of_plants_and_pills_keep_their_unit_and_have_no_weight():
    fact = one("In de woning werden 450 planten hennep aangetroffen.", "drug", "nl")
    assert (fact.subject, fact.quantity, fact.unit, fact.value) == ("cannabis", 450, "plants", None)


@pytest.mark.parametrize(("text", "language", "currency", "amount", "action"), [
    ("De FIOD heeft €1,5 miljoen in beslag genomen.", "nl", "EUR", 1.5e6, "seized"),
    ("Investigators froze £2m held in the accounts.", "en", "GBP", 2e6, "frozen"),
    ("The scheme defrauded investors of $3.4 billion.", "en", "USD", 3.4e9, "defrauded"),
    ("Hij heeft ruim 50.000 euro witgewassen.", "nl", "EUR", 50_000, "laundered"),
    ("The court ordered the forfeiture of $250,000.", "en", "USD", 250_000, "confiscated"),
])
def test_money_keeps_its_currency_amount_and_what_happened_to_it(text, language, currency, amount, action):
    fact = one(text, "money", language)
    assert (fact.subject, fact.value, fact.action) == (currency, pytest.approx(amount), action)


def test_the_most_a_law_allows_a_reward_and_bail_are_not_facts():
    assert facts("Each count carries a maximum penalty of 20 years in prison and a $250,000 fine.", kind="money") == []
    assert facts("The State Department offers a reward of up to $5 million for information.", kind="money") == []
    assert facts("He is being held on $50,000 bail.", kind="money") == []


def test_firearms_and_ammunition_count_only_where_they_were_seized():
    assert one("Police seized three handguns and a rifle at the address.", "firearms").value == 4
    assert one("In de auto werden twee vuurwapens en 200 kogels aangetroffen.", "firearms", "nl").value == 2
    assert one("In de auto werden twee vuurwapens en 200 kogels aangetroffen.", "ammunition", "nl").value == 200
    assert facts("The two men were armed with guns.", kind="firearms") == []


@pytest.mark.parametrize(("text", "language", "count"), [
    ("Een 34-jarige man is zondag aangehouden.", "nl", 1),
    ("Agenten hebben een man (23) en een vrouw (31) aangehouden.", "nl", 2),
    ("Police arrested five suspects in raids across the city.", "en", 5),
    ("De politie hield drie verdachten aan.", "nl", 3),
])
def test_arrests_count_the_people_of_an_arrest(text, language, count):
    assert one(text, "arrests", language).value == count


@pytest.mark.parametrize("text, language, count", [
    ("Na onderzoek is er op 27 februari 2025 een verdachte aangehouden.", "nl", 1),
    ("Op 20 mei 2025 zijn twee verdachten aangehouden.", "nl", 2),
    ("On June 5, 2025 two suspects were arrested.", "en", 2),
    ("In September 2024 three men were arrested.", "en", 3),
    ("On Mar. 3rd, 2025 two suspects were arrested.", "en", 2),
    ("Op 27 februari\xa02025 zijn twee verdachten aangehouden.", "nl", 2),
])
def test_the_year_of_a_date_before_the_people_is_no_count(text, language, count):
    assert [f.value for f in facts(text, language, kind="arrests")] == [count]


def test_charges_count_the_people_charged_and_not_the_counts_of_an_indictment():
    assert one("Seven defendants were charged in a 12-count indictment.", "charged").value == 7
    assert one("Smith was charged with wire fraud on Tuesday.", "charged").value == 1


def test_a_programmes_running_total_is_background_not_a_fact_of_this_action():
    text = ("Four defendants were charged on Tuesday. Since its inception in 2007, the task force has charged "
            "more than 900 defendants. To date, the operation has led to 350 arrests.")
    assert [f.value for f in facts(text, kind="charged")] == [4]
    assert facts(text, kind="arrests") == []
    assert [f.value for f in facts("Sinds 2019 zijn 40 verdachten aangehouden. Vandaag hield de politie twee mannen aan.",
                                   "nl", kind="arrests")] == [2]
    # Only before the count, in its clause: today's action keeps its count.
    for text, language, count in (("As part of an ongoing investigation, police arrested five suspects on Tuesday.", "en", 5),
                                  ("Police arrested five suspects on Tuesday, the largest seizure to date.", "en", 5),
                                  ("Keeping records up to date, police arrested five suspects.", "en", 5),
                                  ("Sinds 2020 werd het netwerk gevolgd; gisteren zijn drie verdachten aangehouden.", "nl", 3)):
        assert [f.value for f in facts(text, language, kind="arrests")] == [count], text


def test_a_heading_run_into_its_paragraph_names_no_operation():
    text = "Grootschalig onderzoek Sinds de melding van de vermissing zoekt de politie met man en macht."
    assert facts(text, "nl", kind="operation") == []


def test_named_operations_and_investigations():
    assert [f.subject for f in facts("The arrests follow Operation Venetic, led by the NCA.", kind="operation")] == ["Venetic"]
    assert [f.subject for f in facts("De verdachten zijn in beeld gekomen in het onderzoek 26Lemont.", "nl",
                                     kind="operation")] == ["26Lemont"]
    assert facts("Project Safe Neighborhoods brings together officials.", kind="operation") == []


def test_agencies_are_named_canonically_with_their_country():
    found = {(f.subject, f.country) for f in facts("The Guardia Civil and the Federal Bureau of Investigation arrested "
                                                   "him at the request of the FIOD.", kind="agency")}
    assert found == {("Guardia Civil", "ES"), ("FBI", "US"), ("FIOD", "NL")}
    local = facts("The Anaheim Police Department investigated the case.", kind="agency", country="US")
    assert [(f.subject, f.country) for f in local] == [("Anaheim Police Department", "US")]


def test_a_fact_in_the_title_and_the_text_is_one_fact_with_the_title_s_span():
    title = "Customs seize 3,2 ton cocaïne"
    text = "De douane heeft vorige week 3,2 ton cocaïne in beslag genomen in de haven."
    found = [f for f in extract_facts(title, text, "nl") if f.kind == "drug"]
    assert len(found) == 1 and found[0].where == "title"
    assert title[found[0].start:found[0].end] == "3,2 ton"


def test_the_seed_announcement_has_its_facts():
    text = SEED.read_text(encoding="utf-8") if SEED.exists() else need_shared("seed")
    found = extract_facts("UK-Netherlands Serious and Organised Crime Dialogue", text, "en", "GB")
    # A dialogue reports commitments, not a case: its one fact is the publishing department acting.
    assert {(f.kind, f.subject, f.country) for f in found} == {("agency", "HMRC", "GB")}
    assert all(f.kind != "drug" for f in found)  # "multi-tonne cocaine seizures" gives no number


# --- Scores on hand labels of real texts --------------------------------------------------------

# What the extractor reaches on tests/data/facts_gold.jsonl (bench/facts_quality.py prints it):
# pins move only up. F1 per half and kind, for the kinds with at least 19 labels.
PINS = {
    "dev": {"all": 0.75, "agency": 0.80, "money": 0.76, "arrests": 0.79, "charged": 0.57, "drug": 0.66},
    "held_out": {"all": 0.70, "agency": 0.72, "money": 0.71, "arrests": 0.61, "charged": 0.38, "drug": 0.90},
}


@pytest.fixture(scope="module")
def scored() -> dict:
    shared = need_shared("corpus", "texts").parent.parent
    gold = load_gold(GOLD)
    docs = texts_of(gold, shared)
    predicted = [extract_facts(d.get("title") or "", d.get("text") or "", d.get("language"),
                               publisher_country(d.get("url") or "")) for d in docs]
    return {half: score_facts([g for g in gold if g["split"] == half],
                              [p for g, p in zip(gold, predicted, strict=True) if g["split"] == half])
            for half in PINS}


@pytest.mark.parametrize("half", sorted(PINS))
def test_facts_hold_their_scores_on_hand_labels(scored, half):
    got = {kind: round(scored[half][kind]["f1"], 3) for kind in PINS[half]}
    assert all(got[k] >= PINS[half][k] for k in PINS[half]), got


def test_the_labels_are_of_real_texts_and_say_which_half_they_are_in():
    gold = load_gold(GOLD)
    assert len(gold) >= 80
    assert {g["split"] for g in gold} == {"dev", "held_out"}
    assert len({(g["source"], g["line"]) for g in gold}) == len(gold)
    assert all(set(f) >= {"kind"} for g in gold for f in g["facts"])
    json.dumps(gold)  # plain data


# --- Into the warehouse ---------------------------------------------------------------------------

def test_facts_load_with_the_tags_and_feed_the_monthly_views(tmp_path, prefect_harness):
    db = tmp_path / "demo.duckdb"
    result = CliRunner().invoke(app, ["demo", "--db", str(db)])  # the bundled sample, offline
    assert result.exit_code == 0, result.output
    kinds = dict(rows(db, "SELECT kind, count(*) FROM article_facts GROUP BY kind"))
    assert {"drug", "money", "agency", "arrests"} <= set(kinds)
    # Every fact's span lies in its article's title or text.
    bad = rows(db, """SELECT count(*) FROM article_facts f JOIN articles a USING (article_id)
                      WHERE evidence_end > length(CASE evidence_in WHEN 'title' THEN a.title ELSE a.text END)""")
    assert bad == [(0,)]
    seized = rows(db, "SELECT sum(kg) FROM seizures_monthly WHERE substance = 'cocaine'")[0][0]
    assert seized and seized > 0
    euros = rows(db, "SELECT count(*), count(amount_eur) FROM money_facts WHERE currency IN ('EUR', 'GBP', 'USD')")[0]
    assert euros[0] > 0 and euros[0] == euros[1]
    assert rows(db, "SELECT count(*) FROM announcements WHERE len(facts) > 0")[0][0] > 0


def test_patterns_found_by_their_anchors_match_as_the_patterns_do_on_real_texts():
    """The finders look for a cue's literal beginning with str.find and try the pattern there
    (Anchored): the same matches as the pattern's own finditer and search, over whole texts
    and over windows of them."""
    import re

    texts = need_shared("corpus", "texts")
    fv = facts_vocabulary()
    anchored = {"arrest": fv.arrest, "charge": fv.charge, "arrested_one": fv.arrested_one, "arrested_name": fv.arrested_name,
                "charged_one": fv.charged_one, "operation": fv.operation,
                **{f"money: {k}": a for k, a in fv.money_actions.items()}}
    checked = 0
    for path in sorted(texts.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines()[:60]:
            text = json.loads(line).get("text") or ""
            for name, a in anchored.items():
                s = text if name in ("arrested_name", "operation") else text.lower()
                for lo, hi in ((0, len(s)), (len(s) // 3, len(s) // 3 + 300)):
                    assert [m.span() for m in a.finditer(s, lo, hi)] == [m.span() for m in a.rx.finditer(s, lo, hi)], (name, path.name)
                    got, want = a.search(s, lo, hi), a.rx.search(s, lo, hi)
                    assert (got and got.span()) == (want and want.span()), (name, path.name)
                    checked += bool(want)
    assert checked > 100  # the cues are in these texts: the comparison saw matches

    from transforms.facts import Anchored

    with pytest.raises(ValueError, match="begins with a pattern character"):
        Anchored.of(re.compile(r"\b(?:\w+ing|seized)"), [r"\w+ing", "seized"])
    with pytest.raises(ValueError, match="has alternatives"):
        Anchored.of(re.compile(r"\b(?:ab|cd|seized)"), ["ab|cd", "seized"])  # not every match begins with "ab"
    with pytest.raises(ValueError, match="ignores case"):
        Anchored.of(re.compile(r"\bseized", re.IGNORECASE), ["seized"])
