"""Classification: an article's title and text in, its Tags out.

Vocabulary is data (transforms/vocabulary.py), logic is code: the themes from weighted,
position-aware evidence, the countries acting and their partnerships from roles and relations
(transforms/actors.py), the announcement's type from its cues.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace

from schemas.records import Tags, ThemeScore
from transforms.actors import Pieces, Sentence, find_actors, line_words, sentence_index, sentences
from transforms.errors import internal_error
from transforms.facts import extract_facts
from transforms.matcher import Match, fold, fold_all, words
from transforms.vocabulary import Vocabulary, vocabulary

LEAD_WORDS = 60  # the first words of the text weigh as the lead
MENU_LINE_WORDS = 4  # a shorter line without sentence punctuation reads as navigation ...
MENU_WEIGHT = 0.2  # ... and its matches count this much, as do those in appeals to the public
APPEAL_GAP = 3  # two sentences that ask the public this close hold one appeal between them
REPEAT_DECAY = 0.5  # the n-th occurrence of one term counts DECAY**(n-1) of the first
# A transcript (press briefing, interview, press availability) gives its speakers' turns as
# lines that open with "QUESTION:", "MR PRICE:", "SECRETARY BLINKEN:"; this many make one.
_SPEAKER_TURN = re.compile(
    r"(?:QUESTION|MODERATOR|OPERATOR|PARTICIPANT|INTERVIEWER|Q"
    r"|(?:MR|MRS|MS|DR|SECRETARY|MINISTER|AMBASSADOR|PRESIDENT|SENATOR|GENERAL|ADMIRAL|DIRECTOR|COMMISSIONER|SPOKESPERSON)"
    r"\.?(?: [A-Z][A-Z'-]+){1,2}):")
TRANSCRIPT_TURNS = 5
# Who asks in a transcript; one other speaker answering them all is a briefing or an interview.
# Any line that opens with a name in capitals and a colon gives a turn ("HIGH REPRESENTATIVE
# BORRELL:", "SENIOR STATE DEPARTMENT OFFICIAL:"), whatever the title.
_ASKING = frozenset({"QUESTION", "Q", "MODERATOR", "OPERATOR", "PARTICIPANT", "INTERVIEWER"})
_ANY_TURN = re.compile(r"[A-Z][A-Z.'’-]*(?: [A-Z][A-Z.'’-]*){0,5}:")
HEADER_LINES, HEADER_WORDS = 6, 8  # a header is at most this many lines of at most this many words
# A dateline: a place, a comma and its country or state ("San Jose, Costa Rica", "Washington,
# D.C.", "Port of Spain, Trinidad and Tobago"); in a header it follows the line of who speaks.
_PLACE = r"[A-Z][\w.'’-]*(?: (?:[A-Z]|of |and |the |de |d['’])[\w.'’-]*){0,3}"
_DATELINE = re.compile(rf"\s*{_PLACE}, ({_PLACE})\s*$")
# A theme word in the name of the office that prosecutes ("the Fraud Section", "the Human
# Trafficking Unit") tells who handles the case, hardly what it is about: it weighs as a menu's.
_UNIT_WORDS = frozenset({"Section", "Unit", "Division", "Squad", "Office", "Bureau", "Branch", "Team", "Taskforce"})


def _position_weight(vocab: Vocabulary, index: int, title_len: int, menu: frozenset[int] = frozenset()) -> float:
    if index < title_len:
        return vocab.title_weight
    if index in menu:
        return MENU_WEIGHT
    if index < title_len + LEAD_WORDS:
        return vocab.lead_weight
    return 1.0


def _body_words(text: str, offset: int, tail: frozenset[tuple[str, ...]] = frozenset()
                ) -> tuple[list[str], frozenset[int], list[str], list[Pieces]]:
    """The words of the text up to a line that opens a page's tail ("Related posts", "Lees
    ook": links to other announcements, not this one's content) in the second half of the
    text (earlier, such a line is more likely a box inside the article); the indexes of those on
    menu-like lines, short lines with no sentence punctuation as page navigation leaves in
    scraped text ("Human Trafficking Unit" in a prosecutor's menu is no evidence of what the
    announcement is about); the lines read, and their pieces (actors.line_words: the
    sentences' word counts)."""
    out: list[str] = []
    menu: set[int] = set()
    lines: list[str] = []
    pieces: list[Pieces] = []
    max_short = max(MENU_LINE_WORDS, max(map(len, tail), default=0))
    half, read = len(text) / 2, 0
    for line in text.split("\n"):
        found, cuts = line_words(line)
        read += len(line) + 1
        if len(found) <= max_short:
            if read > half and tail and tuple(fold(w) for w in found) in tail:
                break
            if len(found) <= MENU_LINE_WORDS and not line.rstrip().endswith((".", "!", "?", ":", ";")):
                menu.update(range(offset + len(out), offset + len(out) + len(found)))
        out += found
        lines.append(line)
        pieces.append(cuts)
    return out, frozenset(menu), lines, pieces


def _appeals(matches: list[Match], spans: list[Sentence], sentence_of: list[int]) -> tuple[frozenset[int], frozenset[int]]:
    """The indexes of the words in the text's sentences that appeal to the public ("call 101",
    "meld het anoniem"): the stock paragraph asking readers to report crime names crimes in
    general, not what the announcement is about; and those of the sentences between two that
    ask, at most APPEAL_GAP apart: the same paragraph ("... Denk aan drugs, wapen- of
    mensenhandel. ... Dat kan via 0800-7000."), whose theme words weigh as little (a cooperation
    said there still counts: "Het onderzoek gebeurt samen met de Belgische politie.")."""
    asking: set[int] = set()
    between: set[int] = set()
    ask = sorted(n for n in {sentence_of[m.start] for m in matches} if spans[n].where == "text")
    for n, after in zip(ask, [*ask[1:], None]):
        asking.update(range(spans[n].first, spans[n].last))
        if after is not None and 1 < after - n <= APPEAL_GAP:
            between.update(range(spans[n + 1].first, spans[after - 1].last))
    return frozenset(asking), frozenset(between)


def _decayed(weights_by_term: dict[object, list[float]]) -> float:
    total = 0.0
    for weights in weights_by_term.values():
        ordered = sorted(weights, key=abs, reverse=True)
        total += sum(w * REPEAT_DECAY**n for n, w in enumerate(ordered))
    return total


def score_bounds(vocab: Vocabulary) -> dict[str, tuple[float, float]]:
    """Per theme, the lowest and highest score a tag of it can carry (what article_themes is
    validated against): its threshold, below which it is not tagged, and the sum over its
    positive terms of what each can add at the heaviest position, repeats decaying."""
    heaviest = max(vocab.title_weight, vocab.lead_weight, 1.0, MENU_WEIGHT) / (1 - REPEAT_DECAY)
    most = dict.fromkeys(vocab.themes, 0.0)
    for pattern in vocab.matcher.patterns:
        if pattern.key[0] == "theme" and pattern.key[3] > 0:
            most[pattern.key[1]] += pattern.key[3] * heaviest
    return {slug: (theme.threshold, most[slug]) for slug, theme in vocab.themes.items()}


def classify(article_id: str, title: str, text: str, publisher_country: str | None = None,
             vocab: Vocabulary | None = None) -> Tags:
    vocab = vocab or vocabulary()
    title_words = words(title)
    title_len = len(title_words)
    body, menu, lines, pieces = _body_words(text, title_len, vocab.tail_headings)
    original = title_words + body
    folded = fold_all(original)
    found: dict[str, list[Match]] = defaultdict(list)
    for m in vocab.matcher.find(original, folded):
        found[m.key[0]].append(m)
    spans = sentences(title, lines, title_len, pieces)
    sentence_of = sentence_index(spans, len(original))
    theme_menu = menu  # where theme words weigh as a menu's: also the sentences between two appeals
    if found["appeal"]:
        asking, between = _appeals(found["appeal"], spans, sentence_of)
        menu = menu | asking
        theme_menu = menu | between

    # Themes: weighted, position-aware, repeats decay, negatives cancel.
    # A word is evidence once per theme: where two of its terms match the same words ("fraude"
    # by "*fraude*" and "fraud*", "money laundering" and "launder*"), the heavier one counts.
    # A sentence that names `listing_themes` or more themes is an enumeration ("fraude,
    # mensenhandel en witwassen"; a unit's remit, a briefing's agenda): it names topics in
    # passing, and its matches weigh `listing_weight`.
    named_in: dict[int, set[str]] = defaultdict(set)
    for m in found["theme"]:
        if m.key[3] > 0:
            named_in[sentence_of[m.start]].add(m.key[1])
    listing = {n for n, themes_here in named_in.items() if len(themes_here) >= vocab.listing_themes}
    per_theme: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    # The same undiscounted, where there is an enumeration (else it is per_theme itself).
    undiscounted: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list)) if listing else per_theme
    used: dict[str, set[int]] = defaultdict(set)
    # A phrase belongs to the theme that names it most fully: within "child sexual
    # exploitation" (child abuse), "sexual exploitation" (trafficking) is no evidence.
    covered = _covered_by_other_theme(found["theme"])
    for m in sorted(found["theme"], key=_heaviest_first):
        if m in covered:
            continue
        _, theme, term, weight = m.key
        if weight > 0:
            taken = used[theme]
            if m.start in taken or (m.end - m.start > 1 and not taken.isdisjoint(range(m.start, m.end))):
                continue
            taken.update(range(m.start, m.end))
        at = weight * _position_weight(vocab, m.start, title_len, theme_menu)
        if weight > 0 and m.end < len(original) and original[m.end] in _UNIT_WORDS:
            at *= MENU_WEIGHT
        if listing:
            undiscounted[theme][term].append(at)
            if sentence_of[m.start] in listing:
                at *= vocab.listing_weight
        per_theme[theme][term].append(at)
    scores = {theme: _decayed(terms) for theme, terms in per_theme.items()}
    # A long document (a press briefing, a speech) names many topics in passing: past
    # `long_words` words a theme needs evidence in proportion to the root of its length.
    scale = max(1.0, (len(original) / vocab.long_words) ** vocab.long_power)
    reached = frozenset(theme for theme, score in scores.items() if score >= vocab.themes[theme].threshold * scale)
    # Umbrella themes are judged against the other themes the article names (enumerations
    # included: "money laundering, cocaine and firearms by organised crime groups" is about
    # those) that have no umbrella words of their own: the outcome does not depend on the
    # order themes are looked at.
    specific = frozenset(t for t, terms in undiscounted.items() if not vocab.themes[t].umbrella
                         and _decayed(terms) >= vocab.themes[t].threshold * scale)
    passed = set(reached)
    for theme in sorted(reached - specific):
        spec = vocab.themes[theme]
        if len(specific) >= spec.umbrella_after:
            own = {t: ws for t, ws in per_theme[theme].items() if t not in spec.umbrella}
            if _decayed(own) < spec.threshold * scale:
                passed.discard(theme)
    themes = []
    for theme in passed:
        terms = per_theme[theme]
        evidence = tuple(sorted(((t, len(ws)) for t, ws in terms.items() if ws[0] > 0), key=lambda e: (-e[1], e[0])))
        themes.append(ThemeScore(theme=theme, score=round(scores[theme], 3), evidence=evidence))
    themes.sort(key=lambda t: (-t.score, t.theme))

    # Countries acting, and the partnerships between them (transforms/actors.py).
    named = [m for m in _longest(found["country"]) if m.key[2] != "not_actor"]
    country_words = frozenset(i for m in named for i in range(m.start, m.end))  # for _is_origin
    coop = [m for m in found["coop"] if m.key[2] > 0]
    multilateral = [m for m in found["coop"] if m.key[2] < 0]
    origins: dict[tuple[int, int], bool] = {}  # find_actors asks of a mention several times

    def is_origin(start: int, end: int) -> bool:
        if (start, end) not in origins:
            origins[start, end] = _is_origin(vocab, folded, start, end, country_words)
        return origins[start, end]

    datelines = _datelines(lines, pieces, title_len)
    turns, speakers = _speakers(lines)
    transcript = turns >= TRANSCRIPT_TURNS
    countries, links = find_actors(vocab.roles, original, folded, named, is_origin,
                                   coop, multilateral, spans, sentence_of, publisher_country, menu,
                                   transcript, found["worldwide"], datelines, found["forum"])
    dyads = tuple((d.country_a, d.country_b) for d in links)
    bilateral = bool(dyads)

    # Announcement type: the best-scoring type above the threshold.
    per_type: dict[str, dict[object, list[float]]] = defaultdict(lambda: defaultdict(list))
    for m in found["type"]:
        _, kind, term, weight = m.key
        first = max(spans[sentence_of[m.start]].first, m.start - vocab.negation_window)
        if not vocab.type_negations.isdisjoint(folded[first : m.start]):
            continue
        at = weight * _position_weight(vocab, m.start, title_len, menu)
        if m.start >= title_len + LEAD_WORDS:
            at /= scale  # a long document's body names many kinds of thing: its title and lead say what it is
        per_type[kind][term].append(at)
    scored = {kind: _decayed(terms) for kind, terms in per_type.items()}
    best = max(scored, key=lambda k: (scored[k], k), default=None)
    announcement_type = best if best is not None and scored[best] >= vocab.type_threshold else "other"
    if transcript and len(speakers - _ASKING) == 1 and not any(m.start < title_len for m in found["type"]):
        # One official answering questions, and a title that names no kind of event ("Secretary
        # Blinken with Chris Wallace of Fox News Sunday"): an interview or a briefing, a
        # statement; not the meetings and visits its answers talk about.
        announcement_type = "statement"

    return Tags(article_id=article_id, taxonomy_version=vocab.version, themes=tuple(themes), countries=countries,
                dyads=dyads, bilateral=bilateral, announcement_type=announcement_type,
                dyad_evidence=tuple((d.relation, d.where, d.start, d.end) for d in links))


def _datelines(lines: list[str], pieces: list[Pieces], title_len: int) -> frozenset[tuple[int, int]]:
    """The word ranges of what follows the comma in the datelines of the text's header ("San
    Jose, Costa Rica": where the announcement was made). The header is the short lines before
    the first sentence or speaker's turn that say who speaks and where ("Antony J. Blinken,
    Secretary of State", "San Jose, Costa Rica", "Chief of Mission Residence"); a dateline
    follows the first of them."""
    index = title_len
    found = set()
    for line, cuts in zip(lines[:HEADER_LINES], pieces):
        n = sum(c[0] for c in cuts)
        if n > HEADER_WORDS or _SPEAKER_TURN.match(line):
            break
        dateline = _DATELINE.match(line)
        if dateline is None and line.rstrip().endswith((".", "!", "?", ":", ";")):
            break
        if dateline is not None and index > title_len:  # not the first line: "Home, Mexico" is a menu
            after = len(words(dateline.group(1)))
            found.add((index + n - after, index + n))
        index += n
    return frozenset(found)


def _speakers(lines: list[str]) -> tuple[int, frozenset[str]]:
    """How many of the text's lines open with a speaker's turn of the known kinds ("QUESTION:",
    "MR PRICE:"), and who speaks in any turn ("QUESTION", "MR PRICE", "FOREIGN MINISTER WANG")."""
    turns, who = 0, set()
    for line in lines:
        if line[:1].isupper() and (m := _ANY_TURN.match(line)):
            who.add(m.group(0)[:-1])
            turns += _SPEAKER_TURN.match(line) is not None
    return turns, frozenset(who)


def _covered_by_other_theme(matches: list[Match]) -> set[Match]:
    """The positive theme matches lying inside a longer positive match of another theme."""
    longer = [m for m in matches if m.end - m.start > 1 and m.key[3] > 0]
    if not longer:
        return set()
    covering: dict[int, list[Match]] = defaultdict(list)
    for m in longer:
        for i in range(m.start, m.end):
            covering[i].append(m)
    return {m for m in matches if m.key[3] > 0 and m.start in covering and any(
        c.key[1] != m.key[1] and c.start <= m.start and m.end <= c.end and c.end - c.start > m.end - m.start
        for c in covering[m.start])}


def _heaviest_first(m: Match) -> tuple[bool, float, int]:
    return m.key[3] <= 0, -m.key[3], m.start


def _longest(matches: list[Match]) -> list[Match]:
    """Leftmost-longest matches only: "Northern Ireland" is not also "Ireland"."""
    kept: list[Match] = []
    last_end = -1
    for m in sorted(matches, key=lambda m: (m.start, m.start - m.end)):
        if m.start >= last_end:
            kept.append(m)
            last_end = m.end
    return kept


def _is_origin(vocab: Vocabulary, folded: list[str], start: int, end: int, country_words: frozenset[int] = frozenset()) -> bool:
    for n in vocab.origin_lengths:
        if start >= n and tuple(folded[start - n : start]) in vocab.origin_before:
            return True
    if end < len(folded) and folded[end] in vocab.origin_after:
        return True
    # "met de Colombiaanse en de Dominicaanse nationaliteit": a nationality said a few words on,
    # with only small words and other countries' adjectives in between.
    for i in range(end, min(len(folded), end + vocab.nationality_window)):
        if folded[i] in vocab.nationality:
            return True
        if folded[i] not in vocab.nationality_between and i not in country_words:
            return False
    return False


def tag(article_id: str, title: str, text: str, publisher_country: str | None, language: str | None,
        original_url: str | None = None, vocab: Vocabulary | None = None) -> Tags:
    """The tags of an article, with their basis: its own title and text where the vocabulary
    covers its language; a translation's original (`title` and `text` are then the original's,
    named by `original_url`); else none: a language without vocabulary is marked so
    (`no_vocabulary`, the publisher's country only), never tagged "no theme" as if it were read."""
    vocab = vocab or vocabulary()
    if original_url:
        tags = replace(classify(article_id, title, text, publisher_country, vocab), basis=f"original {original_url}")
        return replace(tags, facts=extract_facts(title, text, None, publisher_country))
    if not language or language in vocab.languages:
        tags = classify(article_id, title, text, publisher_country, vocab)
        return replace(tags, facts=extract_facts(title, text, language, publisher_country))
    return Tags(article_id=article_id, taxonomy_version=vocab.version,
                countries=(publisher_country,) if publisher_country else (), basis="no_vocabulary")


def classify_many(rows: list[tuple], taxonomy: str | None = None) -> list[Tags | tuple[str, str]]:
    """Tag (article_id, title, text, publisher country, language, original url) rows (title
    and text are the original's where there is one) with the vocabulary of `taxonomy` (else
    the shipped one): the reclassify pool's unit. An article the classifier fails on comes
    back as (article_id, error), never raising."""
    vocab = vocabulary(taxonomy)
    out: list[Tags | tuple[str, str]] = []
    for article_id, title, text, country, language, original_url in rows:
        try:
            out.append(tag(article_id, title or "", text or "", country, language, original_url, vocab))
        except Exception as exc:
            out.append((article_id, internal_error(exc)))
    return out
