"""The first classifier: vocabulary files, the seed announcement, Dutch, negatives, actors."""

from pathlib import Path

import pytest

from conftest import SEED, need_shared
from transforms.classify import classify
from transforms.matcher import Matcher, PatternError, compile_pattern, fold, words
from transforms.vocabulary import COUNTRIES_FILE, CUES_FILE, TAXONOMY_FILE, TaxonomyError, load_vocabulary, vocabulary


def themes(tags):
    return {t.theme for t in tags.themes}


def test_the_vocabulary_has_the_thirteen_themes_of_the_guide():
    vocab = vocabulary()
    assert set(vocab.themes) == {
        "illicit_finance", "drugs", "firearms", "organised_immigration_crime", "human_trafficking", "fraud", "cybercrime",
        "child_sexual_abuse", "corruption", "offender_management", "organised_property_crime", "environmental_crime",
        "criminal_networks"}
    assert all(t.empact and t.uk_soc and t.description for t in vocab.themes.values())


@pytest.mark.corpus
def test_the_seed_announcement_is_a_gb_nl_partnership_on_its_four_themes():
    lines = [line for line in need_shared("seed", SEED.name).read_text(encoding="utf-8").splitlines() if line.strip()]
    tags = classify("seed", lines[0], "\n".join(lines[1:]), publisher_country="GB")
    assert themes(tags) == {"illicit_finance", "drugs", "firearms", "offender_management"}
    assert {"GB", "NL"} <= set(tags.countries)
    assert tags.bilateral and tags.dyads == (("GB", "NL"),)
    assert tags.announcement_type == "dialogue_meeting"
    evidence = {t.theme: dict(t.evidence) for t in tags.themes}
    assert "underground banking" in evidence["illicit_finance"]


def test_dutch_compounds_inflections_and_diacritics():
    tags = classify("a", "Drugslab opgerold in Brabant", "De politie heeft een hennepkwekerij en een drugslab ontmanteld. "
                    "Er werd cocaïne gevonden en de verdachten worden verdacht van witwassen.", publisher_country="NL")
    assert {"drugs", "illicit_finance"} <= themes(tags) and tags.countries == ("NL",)
    assert tags.announcement_type == "operation_result"


def test_a_drug_driving_campaign_is_road_safety_not_drug_supply():
    tags = classify("a", "Christmas drink and drug driving campaign launched",
                    "Police will carry out roadside checks for drink driving and drug driving over the holidays. "
                    "Drivers who take drugs risk their lives.", publisher_country="GB")
    assert "drugs" not in themes(tags)


def test_a_country_named_only_as_origin_or_nationality_is_not_acting():
    tags = classify("a", "Cocaine seized at Rotterdam", "Customs found 800 kilos of cocaine from Ecuador in a container. "
                    "Two Albanian nationals were arrested by the Dutch police.", publisher_country="NL")
    assert "EC" not in tags.countries and "AL" not in tags.countries and "NL" in tags.countries


def test_a_nationality_said_a_few_words_on_is_not_acting():
    tags = classify("a", "Drugslab opgerold", "De politie hield drie mannen aan met de Colombiaanse en de Peruaanse "
                    "nationaliteit. Het lab stond in Nederland.", publisher_country="NL")
    assert tags.countries == ("NL",)


def test_a_nationality_after_an_acting_country_does_not_unseat_it():
    tags = classify("a", "Joint operation", "Belgian police arrested two men with Dutch nationality after a joint "
                    "investigation with the NCA.", publisher_country="GB")
    assert tags.countries == ("BE", "GB") and tags.bilateral


def test_an_appeal_to_the_public_is_no_evidence_of_the_theme():
    body = ("Agenten hielden zaterdag een 30-jarige man aan op de markt na een ruzie over een parkeerplaats. "
            "Iedereen kan meehelpen om ondermijning en mensenhandel in de wijk te bestrijden. "
            "Heeft u informatie? Bel 0800-7000.")
    assert themes(classify("a", "Man aangehouden na ruzie", body, publisher_country="NL")) == set()
    # The same words stated as what happened do count.
    stated = body.replace("Iedereen kan meehelpen om ondermijning en mensenhandel in de wijk te bestrijden.",
                          "Het onderzoek richt zich op mensenhandel en arbeidsuitbuiting in de wijk.")
    assert "human_trafficking" in themes(classify("a", "Man aangehouden na ruzie", stated, publisher_country="NL"))


def test_the_sentences_between_two_that_ask_the_public_are_the_same_appeal():
    body = ("Agenten hielden zaterdag een 30-jarige man aan op de markt na een ruzie. Melden helpt! "
            "Denk aan mensenhandel en uitbuiting in de wijk. Maar ook corruptie kunt u melden. Bel 0800-7000.")
    assert themes(classify("a", "Man aangehouden na ruzie", body, publisher_country="NL")) == set()
    # A cooperation said between them still counts.
    joint = classify("a", "x", "Agenten hielden een man aan. Heeft u informatie? Het onderzoek gebeurt samen met de "
                     "Belgische politie. Bel 0800-7000.", publisher_country="NL")
    assert joint.dyads == (("BE", "NL"),)
    # Far from any sentence that asks, the same words are the announcement's.
    apart = body.replace("Melden helpt! ", "").replace(" Bel 0800-7000.", " De man zit vast. Hij is 30. Meer volgt later.")
    assert "human_trafficking" in themes(classify("a", "Man aangehouden na ruzie", apart, publisher_country="NL"))


def test_links_to_other_announcements_at_the_page_tail_are_not_read():
    body = ("The county council approved the new budget for road repairs on Tuesday after a short debate.\n"
            "Related posts\n"
            "Three charged with human trafficking and money laundering\nRead more")
    assert themes(classify("a", "Council approves road budget", body, publisher_country="US")) == set()


def test_umbrella_words_do_not_make_criminal_networks_of_an_article_on_other_themes():
    title = "Organised crime: new plan against criminal networks"
    body = ("The plan targets money laundering, cocaine trafficking and firearms smuggling by organised crime groups. "
            "Criminal networks launder the proceeds of drug trafficking through shell companies.")
    assert "criminal_networks" not in themes(classify("a", title, body, publisher_country="GB"))
    # With the theme's own evidence it stays.
    violent = body + " The network's gang violence included a contract killing and grenade attacks."
    assert "criminal_networks" in themes(classify("a", title, violent, publisher_country="GB"))
    # And umbrella words alone still decide it where nothing else is going on.
    assert "criminal_networks" in themes(classify("a", "Organised crime group dismantled",
                                                  "The criminal network was dismantled; its organised crime group leaders were arrested.",
                                                  publisher_country="GB"))


def test_a_summit_of_many_countries_is_not_a_partnership():
    body = ("Leaders from France, Germany and the UK met at the summit to agree closer cooperation and information "
            "sharing against organised crime.")
    assert not classify("a", "Summit on organised crime", body, publisher_country="GB").bilateral
    talks = body.replace("at the summit", "for a dialogue")
    assert classify("a", "Dialogue on organised crime", talks, publisher_country="GB").bilateral


def test_matcher_patterns():
    m = Matcher([compile_pattern("witwas*", "w"), compile_pattern("*smokkel", "s"), compile_pattern("drug* traffick*", "t"),
                 compile_pattern("US", "us", case_sensitive=True)])
    found = [x.key for x in m.find(words("Witwaspraktijken en cocaïnesmokkel; drugs-trafficking by the US, not us"))]
    assert found == ["w", "s", "t", "us"]
    assert fold("Cocaïne") == "cocaine"
    with pytest.raises(PatternError):
        compile_pattern("drug(s)?", "x")


def test_the_matchers_memo_starts_afresh_when_full_and_finds_the_same(monkeypatch):
    import transforms.matcher as matcher

    patterns = [compile_pattern("witwas*", "w"), compile_pattern("in samenwerking met", "coop"),
                compile_pattern("drug* traffick*", "t"), compile_pattern("US", "us", case_sensitive=True)]
    texts = ["Witwassen in samenwerking met de politie", "drugs-trafficking by the US, not us", "in de haven, in samenwerking met"]
    expected = [Matcher(patterns).find(words(t)) for t in texts]
    monkeypatch.setattr(matcher, "MEMO_WORDS", 4)
    monkeypatch.setattr(matcher, "FOLDED_WORDS", 3)
    small = Matcher(patterns)
    assert [small.find(words(t)) for t in texts * 3] == expected * 3
    assert len(small._plans) <= 4 + max(len(set(words(t))) for t in texts)
    assert matcher.fold_all(["Cocaïne", "CAFÉ", "Cocaïne", "x"]) == ["cocaine", "cafe", "cocaine", "x"]


def test_the_matchers_memo_starting_afresh_leaves_another_threads_call_whole(monkeypatch):
    """Classification runs in threads where there is no process pool: one thread's reset of
    the full memo must not take the words from under another's scan."""
    import random
    import sys
    import threading

    import transforms.matcher as matcher

    patterns = [compile_pattern("in samenwerking met", "coop"), compile_pattern("witwas*", "w"),
                compile_pattern("drug* traffick*", "t")]
    rng = random.Random(7)
    texts = [[*(f"w{rng.randrange(10_000)}" for _ in range(300)), "in", "samenwerking", "met", "witwassen", "in"]
             for _ in range(60)]
    expected = [Matcher(patterns).find(t) for t in texts]
    monkeypatch.setattr(matcher, "MEMO_WORDS", 700)
    shared, wrong = Matcher(patterns), []

    def work(order):
        for k in order:
            try:
                if shared.find(texts[k]) != expected[k]:
                    wrong.append(k)
            except KeyError as exc:
                wrong.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(rng.sample(range(60), 60) * 3,)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert wrong == []


def test_each_sentence_holds_the_words_counted_for_it_on_real_texts():
    """The words of each sentence's characters are the sentence's words: the pieces the body
    reader counts once (actors.line_words) add up, as tokenising each sentence again would."""
    import json

    from transforms.actors import sentences
    from transforms.classify import _body_words

    texts = need_shared("corpus", "texts")
    checked = 0
    for path in sorted(texts.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines()[:40]:
            doc = json.loads(line)
            title_len = len(words(doc["title"]))
            body, _, lines, pieces = _body_words(doc["text"], title_len)
            spans = sentences(doc["title"], lines, title_len, pieces)
            assert spans == sentences(doc["title"], lines, title_len)
            all_words = words(doc["title"]) + body
            for s in spans:
                source = doc["title"] if s.where == "title" else doc["text"]
                assert words(source[s.start : s.end]) == all_words[s.first : s.last]
            assert spans[-1].last == len(all_words) or not body
            checked += 1
    assert checked > 200


def test_a_malformed_taxonomy_names_the_file_and_the_place(tmp_path):
    bad = tmp_path / "taxonomy.toml"
    bad.write_text('[meta]\nthreshold = 3\n\n[themes.drugs]\nlabel = "Drugs"\nterms = { "cocaine" = }\n')
    with pytest.raises(TaxonomyError, match=r"taxonomy.toml: invalid TOML: .*line 6"):
        load_vocabulary(bad, COUNTRIES_FILE, CUES_FILE)
    bad.write_text('[themes.drugs]\nlabel = "Drugs"\ndescription = "d"\nempact = "e"\nuk_soc = "u"\n[themes.drugs.terms]\n"drug(s)" = 2\n')
    with pytest.raises(TaxonomyError, match=r"\[themes.drugs.terms\] bad word"):
        load_vocabulary(bad, COUNTRIES_FILE, CUES_FILE)
    bad.write_text('[themes.drugs]\nlabel = "Drugs"\n')
    with pytest.raises(TaxonomyError, match="lacks the key 'description'"):
        load_vocabulary(bad, COUNTRIES_FILE, CUES_FILE)
    theme = '[themes.drugs]\nlabel = "Drugs"\ndescription = "d"\nempact = "e"\nuk_soc = "u"\n[themes.drugs.terms]\n"drugs" = 2\n'
    bad.write_text(theme + '[themes.drugs.umbrella]\nafter_themes = "three"\nterms = ["drugs"]\n')
    with pytest.raises(TaxonomyError, match=r"\[themes.drugs.umbrella\] after_themes must be a whole number"):
        load_vocabulary(bad, COUNTRIES_FILE, CUES_FILE)
    bad.write_text(theme + '[themes.drugs.umbrella]\nafter_themes = 1\nterms = ["heroin"]\n')
    with pytest.raises(TaxonomyError, match="terms not among the theme's terms: heroin"):
        load_vocabulary(bad, COUNTRIES_FILE, CUES_FILE)


def test_the_version_follows_the_content(tmp_path):
    copy = tmp_path / "taxonomy.toml"
    copy.write_text(TAXONOMY_FILE.read_text(encoding="utf-8") + "\n# a comment changes nothing\n", encoding="utf-8")
    same = load_vocabulary(copy, COUNTRIES_FILE, CUES_FILE)
    assert same.version == vocabulary().version
    copy.write_text(TAXONOMY_FILE.read_text(encoding="utf-8").replace("title_weight = 3.0", "title_weight = 3.1", 1), encoding="utf-8")
    assert load_vocabulary(copy, COUNTRIES_FILE, CUES_FILE).version != same.version


def test_the_version_follows_the_rules_code(tmp_path, monkeypatch):
    """An upgrade that changes how tags are decided (code, not vocabulary) gives a new version,
    so `reclassify` re-tags what the former rules tagged."""
    import transforms.vocabulary as vocab_module

    here = Path(vocab_module.__file__).parent
    same, other = tmp_path / "same", tmp_path / "other"
    for copy in (same, other):
        copy.mkdir()
        for name in vocab_module.RULE_MODULES:
            (copy / name).write_bytes((here / name).read_bytes())
    (other / "actors.py").write_bytes((here / "actors.py").read_bytes() + b"\n# another rule\n")
    assert vocab_module.rules_digest(same) == vocab_module.rules_digest()
    changed = vocab_module.rules_digest(other)
    assert changed != vocab_module.rules_digest()
    before = load_vocabulary().version
    monkeypatch.setattr(vocab_module, "rules_digest", lambda: changed)
    assert load_vocabulary().version != before


# Countries acting as roles, partnerships as relations (transforms/actors.py). The sentences
# are written for these tests.

def test_a_demonym_before_a_person_or_a_good_is_no_actor():
    tags = classify("a", "Hacker sentenced", "A Russian hacker who sold Colombian cocaine online was sentenced "
                    "in federal court to ten years in prison.", publisher_country="US")
    assert tags.countries == ("US",) and not tags.bilateral


def test_an_arrest_abroad_links_the_two_states_and_keeps_its_evidence():
    text = "De verdachte werd vorige week in Spanje aangehouden. Hij wordt binnenkort uitgeleverd."
    tags = classify("a", "Verdachte drugshandel aangehouden", text, publisher_country="NL")
    assert tags.countries == ("ES", "NL") and tags.dyads == (("ES", "NL"),)
    [(relation, where, start, end)] = tags.dyad_evidence
    assert relation == "action abroad: aangehouden" and where == "text"
    assert text[start:end] == "De verdachte werd vorige week in Spanje aangehouden."

def test_a_place_said_before_a_list_holds_for_each_place_of_the_list():
    tags = classify("a", "Suspects arrested", "Officers arrested twelve suspects in Spain, Portugal and France on Tuesday.",
                    publisher_country="US")
    # The publisher's own arrests abroad: a relation with each country, not among them.
    assert tags.countries == ("ES", "FR", "PT", "US") and tags.dyads == (("ES", "US"), ("FR", "US"), ("PT", "US"))
    dutch = classify("a", "Verdachten aangehouden", "De politie heeft in Duitsland en België drie verdachten aangehouden.",
                     publisher_country="NL")
    assert dutch.dyads == (("BE", "NL"), ("DE", "NL"))
    # A list after an origin is no place of the action: "a man from Albania and Kosovo".
    origin = classify("a", "t", "A man from Albania and Kosovo was arrested in Spain.", publisher_country="GB")
    assert origin.countries == ("ES", "GB")
    # A list ends with its "and": a name after it begins another clause.
    said = classify("a", "t", "Agents arrested suspects in Spain and Italy, Germany said.", publisher_country="US")
    assert said.countries == ("ES", "IT", "US")
    # A foreign authority acting abroad relates the two foreign states, not the publisher.
    theirs = classify("a", "t", "The Spanish National Police arrested the suspect in Portugal.", publisher_country="US")
    assert theirs.dyads == (("ES", "PT"),)



def test_foreign_authorities_credited_make_a_dyad_named_officials_alone_do_not():
    credited = classify("a", "Fraudster extradited", "The FBI thanks the Royal Thai Police and the Spanish National Police "
                        "for their assistance.", publisher_country="US")
    assert set(credited.dyads) == {("ES", "US"), ("TH", "US")}
    spoken_of = classify("a", "Press briefing", "The Turkish President said on Monday that the talks would go on.",
                         publisher_country="US")
    assert spoken_of.countries == ("US",) and not spoken_of.bilateral


def test_a_title_a_name_and_of_make_a_party():
    tags = classify("a", "PM call with Prime Minister Trudeau of Canada", "The Prime Minister spoke to the Prime "
                    "Minister of Canada this evening.", publisher_country="GB")
    assert tags.countries == ("CA", "GB") and tags.dyads == (("CA", "GB"),)


def test_a_list_of_countries_is_not_a_pair_of_parties_and_many_partners_are_multilateral():
    listed = classify("a", "Briefing", "The statement was signed by Australia, Canada, Denmark and Finland in support "
                      "of cooperation.", publisher_country="US")
    assert listed.countries == ("US",) and not listed.bilateral
    many = classify("a", "Action day", "Together with the police of Belgium, Germany, France, Spain and Italy, officers "
                    "arrested twelve suspects.", publisher_country="NL")
    assert not many.bilateral and many.dyads == ()


def test_an_abbreviation_ends_no_sentence():
    """"U.K." and "U.S." are no sentence ends: the agency credited is in the sentence of its cue."""
    from transforms.actors import sentences

    line = "Assistance came from the U.K. Serious Fraud Office. He met Mr. Smith on Jan. 8, 2009. John F. Kennedy spoke."
    assert [line[x.start : x.end] for x in sentences("t", [line], 1)[1:]] == [
        "Assistance came from the U.K. Serious Fraud Office.", "He met Mr. Smith on Jan. 8, 2009.", "John F. Kennedy spoke."]
    # But an abbreviation may end a sentence where the next word opens one; "Jan." is a month
    # only before a number; a plural with an apostrophe is no initial.
    ends = "He was held in the U.K. The police searched a house. Jan. Hij kwam. Er waren 6 taxi’s. Dit leidde tot boetes."
    assert [ends[x.start : x.end] for x in sentences("t", [ends], 1)[1:]] == [
        "He was held in the U.K.", "The police searched a house.", "Jan.", "Hij kwam.", "Er waren 6 taxi’s.",
        "Dit leidde tot boetes."]
    tags = classify("a", "Executive sentenced", "The case was investigated by the FBI with significant assistance from "
                    "the U.K. Serious Fraud Office.", publisher_country="US")
    assert tags.dyads == (("GB", "US"),)


def test_dutch_police_cooperation_words_link_the_two_polices():
    together = classify("a", "Onderzoek", "De Nederlandse en Duitse politie trekken samen op in het onderzoek.",
                        publisher_country="NL")
    assert together.dyads == (("DE", "NL"),)
    assistance = classify("a", "Bijstand", "De Nederlandse politie verleent bijstand aan de Belgische politie.",
                          publisher_country="NL")
    assert assistance.dyads == (("BE", "NL"),)


def test_an_organisation_named_after_a_country_is_no_authority_of_it():
    tags = classify("a", "Hacker arrested in Malaysia", "Malaysian authorities detained him on a U.S. warrant alleging "
                    "he supported the Islamic State of Iraq and the Levant.", publisher_country="US")
    assert tags.countries == ("MY", "US") and tags.dyads == (("MY", "US"),)


def test_officers_from_a_list_of_countries_act_for_each():
    dutch = classify("a", "Actieweek", "Tijdens deze actieweek hebben politieagenten uit Nederland, België en Duitsland "
                     "hun krachten gebundeld.", publisher_country="NL")
    assert dutch.countries == ("BE", "DE", "NL") and dutch.dyads == (("BE", "NL"), ("DE", "NL"))
    english = classify("a", "Joint action", "Investigators from Spain and Portugal joined forces with the NCA.",
                       publisher_country="GB")
    assert english.countries == ("ES", "GB", "PT") and english.dyads == (("ES", "GB"), ("GB", "PT"))


def test_an_operation_its_title_calls_worldwide_is_multilateral():
    text = "Together with the German police, officers arrested four suspects in Germany."
    assert classify("a", "Suspects arrested in DDoS investigation", text, publisher_country="NL").dyads == (("DE", "NL"),)
    wide = classify("a", "Wereldwijde actie tegen DDoS-diensten", text, publisher_country="NL")
    assert wide.dyads == () and not wide.bilateral and wide.countries == ("DE", "NL")
    # "Worldwide" of the crime, in the body or the title, is its reach, not the operation's.
    scheme = classify("a", "Suspects arrested", text + " They ran a worldwide fraud scheme.", publisher_country="NL")
    assert scheme.dyads == (("DE", "NL"),)
    reach = classify("a", "Verdachten van wereldwijde oplichting aangehouden", text, publisher_country="NL")
    assert reach.dyads == (("DE", "NL"),)


def test_an_ambiguous_name_needs_its_country_named_otherwise():
    state = classify("a", "Man charged", "The man was arrested in Atlanta, Georgia, on Monday.", publisher_country="US")
    assert "GE" not in state.countries
    country = classify("a", "Man extradited", "The man was arrested in Georgia by the Georgian police at the request "
                       "of the United States.", publisher_country="US")
    assert "GE" in country.countries and ("GE", "US") in country.dyads


def test_a_common_noun_office_is_the_uks_only_where_the_uk_is_named_otherwise():
    us = classify("a", "Protocol for federal cases", "The office drafted the Federal Immigration Enforcement Action "
                  "Protocol. Officers charged two men. The Home Secretary of the state met the mayor.", publisher_country="US")
    assert us.countries == ("US",)
    uk = classify("a", "Smugglers charged", "Immigration Enforcement officers arrested two men in Dover after a joint "
                  "investigation with the UK Border Force.", publisher_country="NL")
    assert "GB" in uk.countries


@pytest.mark.parametrize(("text", "publisher", "countries"), [
    ("A staff member of the U.S. Embassy in London was charged with stalking.", "US", ("US",)),
    ("Een medewerker van de Nederlandse ambassade in Bogota is aangehouden.", "NL", ("NL",)),
    ("The fugitive was arrested in London with the assistance of the U.S. Embassy.", "US", ("GB", "US")),
])
def test_a_missions_seat_is_no_place_of_action(text, publisher, countries):
    tags = classify("a", "Case", text, publisher_country=publisher)
    assert tags.countries == countries and (len(countries) == 2) == bool(tags.dyads)


def test_an_origin_is_a_place_of_action_only_for_a_transfer_from_there():
    assert classify("a", "t", "A man from Albania was arrested in London on Tuesday.", publisher_country="GB").countries == ("GB",)
    assert classify("a", "t", "Officers seized cocaine shipped from Colombia.", publisher_country="GB").countries == ("GB",)
    extradited = classify("a", "Fugitive returned", "He was extradited from Thailand on Tuesday.", publisher_country="US")
    assert extradited.dyads == (("TH", "US"),)


def test_an_authority_is_read_within_its_sentence():
    tags = classify("a", "Man arrested with cocaine bound for Spain", "Police said the drugs were worth millions.",
                    publisher_country="GB")
    assert tags.countries == ("GB",) and not tags.bilateral


def test_two_foreign_parties_without_the_publisher_are_their_own_pair():
    tags = classify("a", "t", "France and Spain signed an extradition treaty on Monday.", publisher_country="GB")
    assert tags.dyads == (("ES", "FR"),)


def test_dyad_evidence_offsets_cut_the_sentence_exactly():
    text = "Man held. Second one here, in Spain, arrested.  Third."
    tags = classify("a", "x", text, publisher_country="NL")
    assert [text[start:end] for _, _, start, end in tags.dyad_evidence] == ["Second one here, in Spain, arrested."]


BRIEFING = """MR PRICE: Good afternoon. I have two things at the top.
QUESTION: On Afghanistan: will the Special Representative travel to Kabul to meet the Afghan police?
MR PRICE: He was in Kabul last week. The Spanish police arrested two suspects in Madrid, together with the FBI.
QUESTION: And Russia? The Russian Government has detained an American citizen in Moscow.
MR PRICE: We call on Moscow to release him.
QUESTION: Thank you.
MR PRICE: Thank you all."""


def test_in_a_transcript_only_the_subject_of_the_title_and_its_relations_act():
    plain = classify("a", "Department Press Briefing", BRIEFING.replace(":", " said."), publisher_country="US")
    assert {"AF", "ES"} <= set(plain.countries)  # the same words, read as a press release
    briefing = classify("a", "Department Press Briefing", BRIEFING, publisher_country="US")
    assert briefing.countries == ("US",) and not briefing.bilateral
    visit = classify("a", "Briefing on the Secretary's Travel to Spain", BRIEFING, publisher_country="US")
    assert visit.countries == ("ES", "US") and visit.dyads == (("ES", "US"),)


def test_a_phrase_counts_for_the_theme_that_names_it_most_fully():
    tags = classify("a", "Man sentenced", "He downloaded images of the sexual exploitation of children and "
                    "was sentenced for child sexual exploitation.", publisher_country="US")
    assert themes(tags) == {"child_sexual_abuse"}


def test_a_theme_word_in_the_name_of_the_prosecuting_office_weighs_little():
    text = ("The company agreed to pay a penalty to resolve charges that it paid bribes to officials. "
            "The case was prosecuted by the Fraud Section. Trial attorneys of the Fraud Section and the "
            "Fraud Unit handled it.")
    assert themes(classify("a", "Company resolves bribery charges", text, publisher_country="US")) == {"corruption"}
    assert "fraud" in themes(classify("a", "Company resolves bribery charges", text.replace("Fraud Section", "fraud")
                                      .replace("Fraud Unit", "fraud"), publisher_country="US"))


def test_a_negated_cue_is_no_evidence_of_the_type():
    said = "Er is nog geen aanhouding verricht. De politie heeft nog niemand aangehouden. Getuigen worden gezocht."
    assert classify("a", "Overval op winkel", said, publisher_country="NL").announcement_type == "other"
    done = "Er is een aanhouding verricht. De politie heeft een man aangehouden. Getuigen worden gezocht."
    assert classify("a", "Overval op winkel", done, publisher_country="NL").announcement_type == "operation_result"


def test_a_long_documents_type_is_read_from_its_title_and_lead_more_than_its_body():
    policy = "Parliament debated the legislation, the bill, the policy and the reforms."
    filler = "The speaker spoke of history, of courts and of judges in many places and times."
    short = " ".join([filler] * 10 + [policy])
    long = " ".join([filler] * 10 + [policy] + [filler] * 140)
    title = "Annual lecture by the Attorney General"
    assert classify("a", title, short, publisher_country="GB").announcement_type == "policy_legislation"
    assert classify("a", title, long, publisher_country="GB").announcement_type == "statement"


def test_two_spaces_after_an_abbreviation_end_the_sentence_where_the_typist_ends_sentences_so():
    text = ("The Deputy Secretary met with the Irish Foreign Minister today in Washington, D.C.  Deputy Secretary "
            "Sherman condemned Moscow's war of choice.  They spoke of trade.  They spoke of the region.  They spoke "
            "of energy.")
    tags = classify("a", "Deputy Secretary's meeting", text, publisher_country="US")
    assert tags.countries == ("IE", "US") and tags.dyads == (("IE", "US"),)
    assert [text[s:e] for _, _, s, e in tags.dyad_evidence] == [text[: text.index("  ")]]
    # Where two spaces come and go ("the U.S.  Attorney", "on Nov.  9"), they end no sentence.
    haphazard = ("The Colombian National Police arrested him on Nov.  9 at the request of the Spanish authorities. "
                 "The Spanish National Police and the U.S.  Drug Enforcement Administration conducted a joint investigation. "
                 "He was held. He was charged.  He was extradited.")
    assert classify("a", "x", haphazard, publisher_country="GB").dyads == (("CO", "ES"), ("ES", "US"))


def test_the_country_an_office_deals_with_is_no_actor():
    text = "The Special Representative for the DPRK will travel to Seoul to meet with senior officials."
    tags = classify("a", "Special Envoy travels", text, publisher_country="US")
    assert tags.countries == ("KR", "US") and tags.dyads == (("KR", "US"),)
    assert "KP" in classify("a", "x", "The DPRK government detained two men.", publisher_country="US").countries
    # The abbreviation after the name is the same mention, in its role.
    named = classify("a", "x", "The Special Representative for the Democratic People's Republic of Korea (DPRK) "
                     "Ambassador Sung Kim will travel to Seoul.", publisher_country="US")
    assert named.countries == ("KR", "US")
    # A representative for an authority speaks for it.
    spokesman = classify("a", "x", "A representative for the Spanish police said the extradition was agreed with the "
                         "Colombian authorities.", publisher_country="GB")
    assert spokesman.dyads == (("CO", "ES"),)


def test_the_target_of_pressure_is_no_actor_but_a_passive_agent_is():
    assert classify("a", "x", "They discussed more pressure on the Kremlin and the Russian government.",
                    publisher_country="US").countries == ("US",)
    said = classify("a", "x", "The charges against him, the FBI said, followed a joint investigation with the Dutch "
                    "police.", publisher_country="NL")
    assert said.dyads == (("NL", "US"),)


def test_the_democratic_peoples_republic_of_korea_is_not_the_republic_of_korea():
    tags = classify("a", "x", "The police of the Democratic People's Republic of Korea arrested him.", publisher_country="US")
    assert tags.countries == ("KP", "US")


def test_a_meeting_links_countries_only_where_officials_are_met():
    official = classify("a", "Special Envoy's Travel to Thailand", "In Bangkok, the envoy will meet with government officials.",
                        publisher_country="US")
    assert official.dyads == (("TH", "US"),)
    suspects = classify("a", "Man sentenced", "He arranged for a co-conspirator to travel to China to meet with "
                        "representatives of a company.", publisher_country="US")
    assert not suspects.bilateral


def test_a_journey_takes_place_where_it_goes_only_for_an_official():
    trip = classify("a", "x", "The Secretary will travel to Bali, Indonesia, for talks.", publisher_country="US")
    assert "ID" in trip.countries
    suspect = classify("a", "Man charged", "He was arrested at the airport while attempting to travel to Syria to join "
                       "the group, assisted by two friends.", publisher_country="US")
    assert suspect.countries == ("US",) and not suspect.bilateral
    # A case's action still takes place where it happened.
    assert "ES" in classify("a", "x", "He was arrested in Spain.", publisher_country="US").countries


def test_dutch_journeys_and_consultations_with_officials():
    trip = classify("a", "x", "De staatssecretaris reist naar Colombia voor overleg met de Colombiaanse autoriteiten.",
                    publisher_country="NL")
    assert trip.dyads == (("CO", "NL"),)
    suspect = classify("a", "x", "De verdachte reisde naar Spanje en werd op Schiphol aangehouden.", publisher_country="NL")
    assert suspect.countries == ("NL",)


def test_two_leaders_before_their_meeting_are_partners():
    tags = classify("a", "Secretary Blinken and Moldovan Foreign Minister Popescu Before Their Meeting",
                    "SECRETARY BLINKEN: Good morning.", publisher_country="US")
    assert tags.dyads == (("MD", "US"),)


def test_a_visit_to_several_countries_pairs_the_visitor_with_each_host():
    tags = classify("a", "Special Envoy's Visit to Egypt, Oman, and Iraq", "The envoy returns next week.",
                    publisher_country="US")
    assert tags.dyads == (("EG", "US"), ("IQ", "US"), ("OM", "US"))
    two = classify("a", "Special Envoy's Visit to Egypt and Oman", "The envoy returns next week.", publisher_country="US")
    assert two.dyads == (("EG", "US"), ("OM", "US"))
    # A visitor named after the cue is a party, not a host; a "visitatie" (a body search) is no visit.
    assert classify("a", "x", "Het bezoek van de Belgische minister aan Marokko.", publisher_country="NL").dyads == (("BE", "MA"),)
    search = classify("a", "x", "Bij een visitatie van bezoekers vonden de Duitse politie en de Belgische politie drugs.",
                      publisher_country="NL")
    assert not search.bilateral
    # Without a visit two countries named together are each other's partners.
    joint = classify("a", "Egypt and Oman sign an agreement", "The ministers signed it.", publisher_country="US")
    assert joint.dyads == (("EG", "OM"),)


def test_places_spoken_of_beside_a_cue_are_no_parties():
    text = "The envoy will meet with Emirati government officials to discuss ending the war in Yemen and Syria."
    tags = classify("a", "Envoy's travel", text, publisher_country="US")
    assert tags.countries == ("AE", "US") and tags.dyads == (("AE", "US"),)
    assert {"FR", "ES"} <= set(classify("a", "x", "France and Spain signed an extradition treaty.",
                                        publisher_country="US").countries)
    # Thanks go to parties; an authority's seat is its country.
    assert {"ES", "PT"} <= set(classify("a", "x", "Special thanks to Spain and Portugal for their cooperation.",
                                        publisher_country="GB").countries)
    seat = classify("a", "x", "The case was investigated with the assistance of the High Tech Crime Unit in the "
                    "Netherlands and the Spanish National Police.", publisher_country="US")
    assert {"ES", "NL"} <= set(seat.countries)


def test_capitals_stand_for_their_countries():
    tags = classify("a", "x", "He was arrested in Bamako and extradited from Addis Ababa.", publisher_country="US")
    assert {"ML", "ET"} <= set(tags.countries)


def test_the_country_of_a_headers_dateline_acts_without_a_relation():
    """A transcript or a speech says where it was made ("San Jose, Costa Rica"): the place of
    the event, so its country acts; but a dateline links no one."""
    def tagged(header: str, title: str = "Secretary at a Press Availability", body: str = ""):
        text = (f"Antony J. Blinken, Secretary of State\n{header}\nChief of Mission Residence\n"
                f"SECRETARY BLINKEN: Good morning. We talked about the economy and our partnership.\n{body}")
        return classify("a", title, text, publisher_country="US")

    made_there = tagged("San Jose, Costa Rica")
    assert made_there.countries == ("CR", "US") and made_there.dyads == ()
    assert tagged("Berlin, Germany", "Secretary With Rene Pfister of Der Spiegel").countries == ("DE", "US")
    assert tagged("Atlanta, Georgia").countries == ("US",)  # an ambiguous name is no dateline country
    assert tagged("Washington, D.C.").countries == ("US",)
    assert tagged("Washington, D.C.\nSan Jose, Costa Rica").countries == ("CR", "US")
    assert tagged("Port of Spain, Trinidad and Tobago").countries == ("TT", "US")
    assert tagged("Mexico, Colombia").countries == ("US",)  # a list of countries, no dateline
    # The first line is the speaker's, not a dateline: "Home, Mexico" is a menu.
    assert classify("a", "Statement", "Home, Mexico\nThe police arrested two men.", publisher_country="US").countries == ("US",)
    # Only the header's lines: a city and a country after the first sentence are no dateline.
    late = classify("a", "Statement", "We talked about the economy today.\nSan Jose, Costa Rica\n", publisher_country="US")
    assert late.countries == ("US",)


def test_one_official_answering_questions_under_a_title_that_names_no_event_is_a_statement():
    """An interview or a briefing (one speaker answering questions) talks of meetings and visits;
    it is a statement, unless its title names the kind of event (an upcoming trip)."""
    answers = "\n".join(
        "QUESTION: What did you discuss?\nSECRETARY BLINKEN: We held a bilateral meeting and a dialogue, "
        "and we signed an agreement during the visit." for _ in range(3))
    interview = classify("a", "Secretary Blinken with Chris Wallace of Fox News Sunday", answers, publisher_country="US")
    assert interview.announcement_type == "statement"
    trip = classify("a", "Briefing on the Secretary's Upcoming Travel to Indonesia", answers, publisher_country="US")
    assert trip.announcement_type == "dialogue_meeting"
    joint = answers + "\nMINISTER JAISHANKAR: We held a bilateral meeting.\nQUESTION: And next?\nMINISTER JAISHANKAR: A dialogue."
    assert classify("a", "Secretary Blinken and Minister Jaishankar", joint, publisher_country="US").announcement_type \
        != "statement"
    # A second speaker whose title the transcript rule does not list still answers.
    borrell = answers + "\nHIGH REPRESENTATIVE BORRELL: We signed an agreement.\nQUESTION: And next?"
    assert classify("a", "Secretary Blinken and High Representative Borrell at a Joint Press Availability", borrell,
                    publisher_country="US").announcement_type != "statement"


def test_dutch_compounds_of_a_drug_are_the_drug():
    """Dutch writes a drug and what is done with it as one word: cocaïnesmokkel, heroïnehandel."""
    for title in ("Werkplan tegen cocaïnesmokkel", "Onderzoek naar heroïnehandel", "Amfetaminelab opgerold"):
        tags = classify("a", title, "Het kabinet en de politie werken samen.", publisher_country="NL")
        assert "drugs" in [t.theme for t in tags.themes], title


def test_an_agency_condemned_for_its_deeds_is_no_actor():
    """"The Kremlin's unprovoked war", "Kremlin-backed forces": an agency condemned is talked
    about, not acting; "the FBI's investigation" is the FBI acting."""
    call = ("Secretary Blinken spoke with Turkish Foreign Minister Cavusoglu about the Kremlin's unprovoked war "
            "against Ukraine. They spoke with each other about the Kremlin's lies.")
    tags = classify("a", "Secretary Blinken's Call with Turkish Foreign Minister Cavusoglu", call, publisher_country="US")
    assert "RU" not in tags.countries and ("TR", "US") in tags.dyads
    acting = classify("a", "Fraud ring charged", "The FBI's investigation found the scheme, the Kremlin said.",
                      publisher_country="GB")
    assert "US" in acting.countries


def test_an_arrest_abroad_told_as_repression_links_no_one():
    """An arrest abroad in a case is a request between two states; a state's detention of
    journalists or protesters that the publisher condemns is none."""
    case = classify("a", "Fugitive arrested", "The fugitive was arrested in Spain on March 3 and awaits extradition.",
                    publisher_country="US")
    assert ("ES", "US") in case.dyads
    for text in ("Our citizen was unjustly detained in Iran for six years.",
                 "We condemn the arrest of journalists and protesters in Belarus.",
                 "Many have been killed, arrested or tortured in Myanmar since the coup."):
        tags = classify("a", "On the anniversary", text, publisher_country="US")
        assert tags.dyads == () and not tags.bilateral, text


def test_the_action_of_a_body_of_many_states_is_multilateral():
    """A title naming the G7, NATO or the OSCE tells that body's action: no dyads, save where
    the title also names another country's officials."""
    text = "The United States and Ukraine issued a joint statement on assistance."
    assert ("UA", "US") in classify("a", "Foreign Ministers' Statement on the war", text, publisher_country="US").dyads
    g7 = classify("a", "G7 Foreign Ministers' Statement on the war", text, publisher_country="US")
    assert g7.dyads == () and not g7.bilateral and "UA" in g7.countries
    call = classify("a", "Secretary Blinken's Call with Polish Foreign Minister and OSCE Chairman-in-Office Rau",
                    "Secretary Blinken spoke with Polish Foreign Minister Rau about cooperation.", publisher_country="US")
    assert ("PL", "US") in call.dyads


def test_the_topic_of_a_statement_and_a_government_called_on_are_no_parties():
    """"Joint Statement on Cuba", "we call on the Cuban government to release ...": the
    country is spoken to or of, not a partner."""
    tags = classify("a", "Joint Statement on Cuba",
                    "We call on the Cuban government to release the prisoners and to end the arrests.",
                    publisher_country="US")
    assert tags.dyads == () and not tags.bilateral
    with_ = classify("a", "Joint Statement of the United States and Cuba",
                     "The two governments signed a memorandum of understanding.", publisher_country="US")
    assert ("CU", "US") in with_.dyads
