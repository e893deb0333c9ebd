"""Countries acting and the partnerships between them, decided from roles and relations.

A country *acts* in an announcement when a mention of it has a role:

- `agency`: one of its authorities is named (the FBI, the Guardia Civil, the FIOD);
- `authority`: its name or adjective governs an authority ("the Spanish police", "Colombian
  authorities", "the government of Panama", "Thailand's Royal Police", "de Duitse politie");
- `place`: an action of the case takes place there ("arrested in Spain", "extradited from
  Thailand", "in Antwerpen aangehouden"; cities and ports map to their countries);
- `party`: it is named beside another country as a party to a cooperation ("the UK and the
  Netherlands held their dialogue").

A mention with none of these (a suspect's nationality, the origin of goods, a country talked
about, the remit of an office: "the Special Representative for the DPRK", the target of
pressure: "sanctions on the Kremlin") is no actor. The publisher's country acts in its own
announcement.

A *partnership* (a dyad) is a pair of acting countries linked by a relation in one sentence:
a judicial, operational or diplomatic cooperation cue, or an action abroad (an arrest or an
extradition in another country is a request between two states). A document whose relations
link more than `max_partners` countries is multilateral: no dyads. A meeting cue links only
where officials are met ("met with the Japanese Foreign Minister", not a case's suspects who
"met with" one another); a visit to several countries pairs the publisher's visitor with each
host, not the hosts with one another. Each dyad keeps its
evidence: the cue and the sentence (character offsets in the title or the text).

Pure: words and matches in, actors and dyads out. The vocabulary is in cues.toml ([roles],
[cooperation]) and countries.toml (names, adjectives, agencies, cities, ambiguous names).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import NamedTuple

from transforms.matcher import Match, fold, words

ACTING_ROLES = frozenset({"agency", "authority", "place", "party"})
# A country's own people named: its agencies, its authorities, its officials spoken of.
AUTHORITY_ROLES = frozenset({"agency", "authority", "official"})
_SENTENCE_END = re.compile(r"[.!?](\s+)")
_A_WORD = re.compile(r"\w")
# A period that ends an abbreviation or an initial ends no sentence: "the U.S. Attorney",
# "U.K. Serious Fraud Office", "Jan. 8", "John F. Kennedy", "Mr. Smith", "o.a. de politie".
# Three kinds, told apart by what may follow:
_TITLE = re.compile(  # a title before a name, or a word the sentence goes on after: never an end
    r"(?<![\w.])(?:Mr|Mrs|Ms|Dr|Prof|St|Gen|Lt|Col|Sgt|Capt|Rep|Sen|Gov|dhr|mevr|drs|ir|ing|bijv|ca|resp|jl|approx)\.$")
_BEFORE_NUMBER = re.compile(  # "No. 5", "Jan. 8": an abbreviation only before a number
    r"(?<![\w.])(?:No|Nos|Nr|nr|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.$")
_INITIAL = re.compile(  # "U.S.", "F.", "Jr.", "Inc.": the end of a sentence only where the next word opens one
    r"(?:(?<![^\s(\[\"“‘])|(?<=\.))[A-Za-z]\.$|(?<![\w.])(?:Jr|Sr|Inc|Ltd|Co|Corp|Dept|vs)\.$")
_SENTENCE_OPENERS = frozenset(
    "The A An He She It They We I This That These Those There His Her Its Their In On At As After But And When While "
    "According Following During De Het Een Hij Zij Ze Dit Dat Deze Er Zijn Haar Hun Op Na Bij Volgens Tijdens "
    "Daarnaast Ook Toen".split())


@dataclass(frozen=True, slots=True)
class WordSet:
    """Folded words, and prefixes written with a trailing `*`."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]

    @classmethod
    def of(cls, entries: Iterable[str]) -> WordSet:
        entries = [fold(e) for e in entries]
        return cls(frozenset(e for e in entries if not e.endswith("*")), tuple(e[:-1] for e in entries if e.endswith("*")))

    def __contains__(self, word: str) -> bool:
        return word in self.exact or word.startswith(self.prefixes)  # startswith(()) is False

    def first_in(self, some: Sequence[str]) -> str | None:
        """The first of `some` words in the set, else None: one pass, no call per word."""
        exact, prefixes = self.exact, self.prefixes
        return next((w for w in some if w in exact or w.startswith(prefixes)), None)


NOTHING = WordSet(frozenset(), ())


@dataclass(frozen=True, slots=True)
class Roles:
    """The vocabulary of roles (cues.toml [roles]); empty, no mention has a role."""

    authority_after: WordSet = NOTHING  # a country word followed (within `authority_window`) by one of these is an authority
    authority_modifiers: WordSet = NOTHING  # words allowed between ("Spanish National Police", "Indian External Affairs Minister")
    authority_window: int = 0
    # "government of", "autoriteiten in" (by their last word): then the country
    authority_before: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    place_before: WordSet = NOTHING  # prepositions of place: "in", "from", "uit"
    place_fillers: WordSet = NOTHING  # words between the preposition and the place ("in the port of")
    seats_before: WordSet = NOTHING  # "embassy", "ambassade": "the Embassy in London" is a mission's seat, no place of action
    actions: WordSet = NOTHING  # what happens in a place ("arrested", "aangehouden", "extradited")
    toward: WordSet = NOTHING  # place prepositions of a direction ("to", "naar"): there only a transfer or a journey
    journeys: WordSet = NOTHING  # an official's journey takes place where it goes ("travel", "werkbezoek") ...
    travellers: WordSet = NOTHING  # ... where the sentence names one of these ("Secretary", "minister")
    abroad_actions: WordSet = NOTHING  # actions that, abroad, are a request between two states (arrest, extradition) ...
    repression: WordSet = NOTHING  # ... save in a sentence with one of these: "unjustly detained", "arrests of protesters"
    transfers: WordSet = NOTHING  # actions that happen in a country named as an origin: "extradited from Thailand"
    action_window: int = 0  # words between a place and its action
    conjunctions: WordSet = NOTHING  # "and", "en": joins parties
    of_words: WordSet = NOTHING  # "of", "van": "Prime Minister Trudeau of Canada"
    not_acting_before: WordSet = NOTHING  # "former", "bribing": the authority is no actor ("bribing Iraqi officials")
    # "Special Envoy for", "Coordinator for" (by their last word): the country after is an
    # office's remit, not whose office it is ("the U.S. Special Representative for the DPRK")
    remit_before: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    spoken_of_before: WordSet = NOTHING  # "in", "at": two countries side by side after one are places spoken of ...
    thanks: WordSet = NOTHING  # ... save after one of these ("thanks to Spain and Portugal")
    # "pressure on", "sanctions on" (by their last word): the country or agency after is a target
    target_before: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    condemned_deeds: WordSet = NOTHING  # an agency's deed in the possessive that condemns it: "the Kremlin's war" ...
    condemned_after: WordSet = NOTHING  # ... or a word right after it: "Kremlin-backed"
    condemned_window: int = 0  # words between the possessive and the deed ("the Kremlin's unprovoked war")
    meetings: frozenset[str] = frozenset()  # cooperation cues (as written) that link only where officials are met ...
    meeting_window: int = 0  # ... an authority word within this many words after the cue
    visits: frozenset[str] = frozenset()  # cooperation cues (as written in cues.toml) that tell a visit
    ambiguous: frozenset[str] = frozenset()  # folded country words that count only when the country is also named otherwise
    max_partners: int = 4  # more linked countries than this is a multilateral action


class Sentence(NamedTuple):
    where: str  # "title" or "text"
    start: int  # character offsets in the title or the text
    end: int
    first: int  # word indexes [first, last)
    last: int


# A line's pieces: cut at each run of whitespace after . ! ? (a sentence end, unless the
# punctuation ends an abbreviation), as (words in the piece, where it ends, where the next
# begins); the last piece, the rest of the line, has -1 for the next.
Pieces = tuple[tuple[int, int, int], ...]


def line_words(line: str) -> tuple[list[str], Pieces]:
    """The words of a line, and its pieces between the places a sentence may end: tokenised
    once, for the classifier's words and the sentences' word counts alike (no word spans a cut,
    which lies in whitespace)."""
    if "." not in line and "!" not in line and "?" not in line or _A_WORD.search(line) is None:
        found = words(line)
        return found, ((len(found), len(line), -1),)
    out: list[str] = []
    pieces = []
    cut = 0
    for m in _SENTENCE_END.finditer(line):
        end, after = m.span(1)
        found = words(line, cut, end)
        out += found
        pieces.append((len(found), end, after))
        cut = after
    found = words(line, cut)
    out += found
    pieces.append((len(found), len(line), -1))
    return out, tuple(pieces)


def sentences(title: str, lines: Sequence[str], title_len: int, pieces: Sequence[Pieces] | None = None) -> list[Sentence]:
    """The title as sentence 0, then the text's sentences (cut at sentence punctuation and
    line ends) over the lines the classifier read, with their character offsets in the text;
    `pieces` are the lines' pieces (line_words), where the caller has them."""
    out = [Sentence("title", 0, len(title), 0, title_len)]
    index, offset = title_len, 0
    two_spaces = _TypistEnds(lines)
    for k, line in enumerate(lines):
        cut = n = 0
        for in_piece, end, after in (pieces[k] if pieces is not None else line_words(line)[1]):
            n += in_piece
            if after >= 0 and _no_end(line, end, after, two_spaces):
                continue
            if n:
                out.append(Sentence("text", offset + cut, offset + end, index, index + n))
                index += n
                n = 0
            cut = after
        offset += len(line) + 1
    return out


# A plain word's sentence end, and the spaces after it: how the typist ends sentences.
_PLAIN_END = re.compile(r"[a-z]{3}[.!?]( +)[A-Z]")


class _TypistEnds:
    """Whether the text's typist ends sentences with two spaces: four in five of the plain
    sentence ends ("today.  The") and at least three. Then two spaces after an initial end
    the sentence too ("in Washington, D.C.  Deputy Secretary"); where two spaces come and go
    ("the U.S.  Attorney"), they tell nothing. Looked at once, when first asked."""

    def __init__(self, lines: Sequence[str]):
        self.lines, self.known = lines, None

    def __bool__(self) -> bool:
        if self.known is None:
            gaps = [len(m.group(1)) for line in self.lines for m in _PLAIN_END.finditer(line)]
            double = sum(1 for g in gaps if g >= 2)
            self.known = double >= 3 and double >= 0.8 * len(gaps)
        return self.known


def _no_end(line: str, end: int, after: int, two_spaces: object = False) -> bool:
    """Whether the punctuation before `end` ends no sentence: an abbreviation's period (unless
    the typist ends sentences with two spaces and two follow it), or one the next word goes on
    from in lower case ("approx. five", "ca. twee")."""
    if after < len(line) and line[after].islower():
        return True
    if line[end - 1] != ".":
        return False
    lo = max(0, end - 8)
    if _TITLE.search(line, lo, end):
        return True
    if _BEFORE_NUMBER.search(line, lo, end):
        return after < len(line) and line[after].isdigit()
    if after - end >= 2 and two_spaces:
        return False  # "in Washington, D.C.  Deputy Secretary ..."
    if _INITIAL.search(line, lo, end):
        next_word = line[after:].split(None, 1)[0] if after < len(line) else ""
        return next_word.rstrip(",;:") not in _SENTENCE_OPENERS
    return False


@dataclass(frozen=True, slots=True)
class Mention:
    code: str
    kind: str  # names | adjectives | agencies | cities
    start: int
    end: int
    role: str | None  # agency | authority | official | place | party | None


@dataclass(frozen=True, slots=True)
class DyadEvidence:
    country_a: str
    country_b: str
    relation: str  # the cooperation cue, or "action abroad: <word>"
    where: str
    start: int
    end: int


def _authority_after(roles: Roles, original: Sequence[str], folded: Sequence[str], end: int, last: int) -> bool:
    """Within the sentence (words before `last`): "Spain. Police said ..." is no Spanish police."""
    return _followed_by(roles, roles.authority_after, original, folded, end, last)


def _followed_by(roles: Roles, wanted: WordSet, original: Sequence[str], folded: Sequence[str], end: int, last: int) -> bool:
    """Whether one of `wanted` follows word `end` within `authority_window` words of the sentence."""
    for i in range(end, min(last, end + roles.authority_window)):
        if folded[i] in wanted:
            return True
        # Only title-case words or modifiers between: "Spanish National Police", not "Spanish cocaine police".
        if not (folded[i] in roles.authority_modifiers or original[i][:1].isupper()):
            return False
    return False


def _authority_before(roles: Roles, original: Sequence[str], folded: Sequence[str], start: int, lo: int) -> bool:
    if start - 1 < lo:
        return False
    for at in (start, start - 1):  # "the government of the Republic of Colombia": one filler word more
        if at < start and folded[start - 1] not in roles.place_fillers:
            break
        for cue in roles.authority_before.get(folded[at - 1], ()) if at - 1 >= lo else ():
            n = len(cue)
            if at - n >= lo and tuple(folded[at - n : at]) == cue:
                return True
    # "Prime Minister Trudeau of Canada", "Foreign Minister Wang Yi of China": a title, a name, "of".
    if start - 2 >= lo and folded[start - 1] in roles.of_words:
        for i in range(start - 2, max(lo, start - 5) - 1, -1):
            if folded[i] in roles.authority_after:
                return True
            if not original[i][:1].isupper():
                return False
    return False


_ARTICLES = frozenset({"the", "de", "het"})


def _past_article(folded: Sequence[str], start: int, lo: int) -> int:
    """Where what stands before word `start` ends: `start`, or before an article there."""
    return start - 1 if start - 1 >= lo and folded[start - 1] in _ARTICLES else start


def _phrase_before(phrases: dict[str, tuple[tuple[str, ...], ...]], folded: Sequence[str], start: int, lo: int) -> bool:
    """Whether one of `phrases` (by their last word) ends right before word `start`, or
    before an article between ("Envoy for the Northern Triangle")."""
    at = _past_article(folded, start, lo)
    for cue in phrases.get(folded[at - 1], ()) if at - 1 >= lo else ():
        n = len(cue)
        if at - n >= lo and tuple(folded[at - n : at]) == cue:
            return True
    return False


def _condemned(roles: Roles, folded: Sequence[str], end: int, last: int) -> bool:
    """Whether the agency ending at word `end` is condemned, not acting: its deed in the
    possessive ("the Kremlin's unprovoked war": "kremlin", "s", ...), or a word right after it
    ("Kremlin-backed")."""
    if end < last and folded[end] in roles.condemned_after:
        return True
    if end + 1 < last and folded[end] == "s":
        return roles.condemned_deeds.first_in(folded[end + 1 : min(last, end + 2 + roles.condemned_window)]) is not None
    return False


def _officials_met(roles: Roles, folded: Sequence[str], end: int, last: int) -> bool:
    """Whether a meeting cue ending at `end` meets officials: an authority word within
    `meeting_window` words ("met with Japanese Foreign Minister Hayashi", "will meet with
    counterparts"), not "traveled to meet with co-conspirators"."""
    return roles.authority_after.first_in(folded[end : min(last, end + roles.meeting_window)]) is not None


def _preposition_before(roles: Roles, folded: Sequence[str], start: int, lo: int) -> int | None:
    """The index of a place preposition right before word `start`, fillers between ("in the
    port of"), else None."""
    i = start - 1
    while i >= lo and start - i <= 4:
        if folded[i] in roles.place_before:
            return i
        if folded[i] not in roles.place_fillers:
            return None
        i -= 1
    return None


def _place_preposition(roles: Roles, folded: Sequence[str], start: int, lo: int) -> int | None:
    """The index of the place preposition before the mention (fillers between), unless it
    tells where a mission sits ("the U.S. Embassy in London")."""
    i = _preposition_before(roles, folded, start, lo)
    return None if i is None or (i > lo and folded[i - 1] in roles.seats_before) else i


def _action_near(roles: Roles, folded: Sequence[str], start: int, end: int, sentence: Sentence,
                 within: WordSet) -> str | None:
    lo, hi = max(sentence.first, start - roles.action_window), min(sentence.last, end + roles.action_window)
    for i in [*range(start - 1, lo - 1, -1), *range(end, hi)]:
        if folded[i] in within:
            return folded[i]
    return None


def sentence_index(spans: Sequence[Sentence], n_words: int) -> list[int]:
    """For each word, the number of its sentence."""
    out = [0] * n_words
    for n, s in enumerate(spans):
        out[s.first : s.last] = [n] * (s.last - s.first)
    del out[n_words:]
    return out


def _joined(roles: Roles, folded: Sequence[str], a: Mention, b: Mention) -> bool:
    between = folded[a.end : b.start]
    return len(between) <= 2 and all(w in roles.conjunctions or w in roles.place_fillers for w in between)


def _along_lists(roles: Roles, original: Sequence[str], folded: Sequence[str], mentions: list[Mention],
                 last_of: Callable[[int], int]) -> list[Mention]:
    """`mentions` (in text order) with a role said before a list of names given to each name
    of the list; `last_of(i)` is the end of word i's sentence."""
    out = list(mentions)
    closed = False  # the list has had its "and": a name after it begins another clause
    for k in range(1, len(out)):
        prev, here = out[k - 1], out[k]
        if here.role is None and here.kind == "names" and prev.kind == "names" and prev.role in ("authority", "official", "place") \
                and not closed and _joined(roles, folded, prev, here) \
                and not _authority_after(roles, original, folded, prev.end, last_of(prev.start)):
            out[k] = replace(here, role=prev.role)
            # "in Spain, Portugal and France" ends at France: not "... and Italy, Germany said".
            closed = any(w in roles.conjunctions for w in folded[prev.end : here.start])
        else:
            closed = False
    return out


def find_actors(roles: Roles, original: Sequence[str], folded: Sequence[str], country_matches: Sequence[Match],
                is_origin: Callable[[int, int], bool], cues: Sequence[Match], negative: Sequence[Match],
                spans: Sequence[Sentence], sentence_of: Sequence[int], publisher: str | None,
                quiet: frozenset[int] = frozenset(), transcript: bool = False, worldwide: Sequence[Match] = (),
                datelines: frozenset[tuple[int, int]] = frozenset(), forums: Sequence[Match] = (),
                ) -> tuple[tuple[str, ...], tuple[DyadEvidence, ...]]:
    """(countries acting, sorted; the evidence of each dyad, one per pair). `country_matches`
    are leftmost-longest country matches keyed ("country", code, kind), in text order;
    `is_origin(start, end)` tells a nationality or an origin; `cues` are positive cooperation
    matches keyed ("coop", term, weight), `negative` the multilateral ones; `spans` the
    sentences and `sentence_of` each word's; words in `quiet` (menus, appeals) bear no cue.
    In a `transcript` (a press briefing, an interview) the questions range over the day's news:
    a country acts there only when the title names it (the subject) or a relation links it;
    `worldwide` are the matches of words that call an operation worldwide, `forums` those of
    bodies of many states ("G7", "OSCE"); `datelines` the word
    ranges of the countries the text's header says it was made in ("San Jose, Costa Rica"):
    they act, the place of the event, but a dateline is no relation (a visit links only where
    a cue says so)."""
    acts_in: dict[int, bool] = {}

    def acts(n: int) -> bool:  # whether sentence n tells an action of the case
        if n not in acts_in:
            s = spans[n]
            here = folded[s.first : s.last]
            acts_in[n] = roles.actions.first_in(here) is not None or roles.journeys.first_in(here) is not None
        return acts_in[n]

    def last_of(i: int) -> int:  # the end of word i's sentence
        return min(spans[sentence_of[i]].last, len(folded))

    mentions: list[Mention] = []
    for m in country_matches:
        _, code, kind = m.key
        s = spans[sentence_of[m.start]]
        role = None
        if _phrase_before(roles.target_before, folded, m.start, s.first):
            role = "target"  # "more pressure on the Kremlin", "sanctions on the Russian government"
        elif kind == "agencies":
            # "against the Kremlin": a not-acting word right before; not "charges against him, the FBI said"
            before = _past_article(folded, m.start, s.first) - 1
            role = None if before >= s.first and folded[before] in roles.not_acting_before \
                or _condemned(roles, folded, m.end, s.last) else "agency"
        elif kind in ("names", "adjectives", "cities"):
            if roles.not_acting_before.first_in(folded[max(s.first, m.start - 3) : m.start]) is not None:
                role = None  # "five former Venezuelan government officials", "bribing Iraqi officials"
            elif _phrase_before(roles.remit_before, folded, m.start, s.first) and not (
                    kind == "adjectives" and _authority_after(roles, original, folded, m.end, last_of(m.start))):
                # "the Special Representative for the DPRK (Ambassador Sung Kim)", not "a
                # representative for the Spanish police"
                role = None
            elif _authority_after(roles, original, folded, m.end, last_of(m.start)) or (
                    kind != "adjectives" and _authority_before(roles, original, folded, m.start, s.first)):
                # Its authorities doing something of a case ("the Spanish police arrested") act;
                # its officials only spoken of ("the Turkish President says") act only where a
                # relation links them to another party.
                role = "authority" if acts(sentence_of[m.start]) else "official"
            elif kind != "adjectives" and (at := _place_preposition(roles, folded, m.start, s.first)) is not None:
                origin = is_origin(m.start, m.end)
                if _action_near(roles, folded, m.start, m.end, s,
                                roles.transfers if origin or folded[at] in roles.toward else roles.actions):
                    # "arrested in Spain"; after "from" or "to" only a transfer: "extradited from
                    # Thailand", "deported to Albania", not "a man from Albania was arrested",
                    # "cocaine shipped from Colombia seized", "arrested while trying to travel to Syria".
                    role = "place"
                elif not origin and _action_near(roles, folded, m.start, m.end, s, roles.journeys) \
                        and roles.travellers.first_in(folded[s.first : s.last]) is not None:
                    role = "place"  # "the Secretary will travel to Bali"
        mentions.append(Mention(code, kind, m.start, m.end, role))

    # "the Democratic People's Republic of Korea (DPRK)": the abbreviation right after a name is
    # the same mention, in the same role.
    for k in range(1, len(mentions)):
        prev, here = mentions[k - 1], mentions[k]
        if here.code == prev.code and here.start == prev.end and here.kind == prev.kind == "names":
            mentions[k] = replace(here, role=prev.role)

    # "the governments of France and Germany", "leaders from France, Germany and the UK": a
    # role said before a list of names holds for each name of the list.
    mentions = _along_lists(roles, original, folded, mentions, last_of)

    # Ambiguous words (Georgia, Jordan, "Indian") count only where the country is also named otherwise.
    plain = {mt.code for mt in mentions if " ".join(folded[mt.start:mt.end]) not in roles.ambiguous}
    mentions = [mt for mt in mentions if mt.code in plain]

    # Parties: country names side by side ("the UK and the Netherlands", "UK-Netherlands") in a
    # sentence with a cooperation cue.
    cue_sentences: dict[int, list[Match]] = defaultdict(list)
    for c in cues:
        if c.start not in quiet and (c.key[1] not in roles.meetings or _officials_met(roles, folded, c.end, last_of(c.start))):
            cue_sentences[sentence_of[c.start]].append(c)
    blocked = {sentence_of[c.start] for c in negative}
    parties: set[int] = set()  # indexes in mentions
    for k, (a, b) in enumerate(zip(mentions, mentions[1:])):
        if a.code == b.code or a.kind == "adjectives" or b.kind == "adjectives":
            continue
        # Two parties, not a list of countries ("Australia, Canada, the Czech Republic, Denmark").
        in_list = (k > 0 and _joined(roles, folded, mentions[k - 1], a)) or (
            k + 2 < len(mentions) and _joined(roles, folded, b, mentions[k + 2]))
        n = sentence_of[a.start]
        # "ending the war in Yemen and Syria": places spoken of, not parties; but an authority's
        # seat is its country ("the High Tech Crime Unit in the Netherlands and the Spanish police").
        at = _preposition_before(roles, folded, a.start, spans[n].first)
        spoken_of = at is not None and folded[at] in roles.spoken_of_before and not (
            at > spans[n].first and (folded[at - 1] in roles.authority_after or folded[at - 1] in roles.thanks))
        if _joined(roles, folded, a, b) and not in_list and not spoken_of and n in cue_sentences and n not in blocked:
            parties.update((k, k + 1))
    mentions = [replace(mt, role="party") if k in parties and mt.role is None else mt for k, mt in enumerate(mentions)]

    title_end = spans[0].last if spans and spans[0].where == "title" else 0
    subjects = {mt.code for mt in mentions if mt.start < title_end and not is_origin(mt.start, mt.end)}
    if transcript:
        acting = set(subjects)
    else:
        acting = {mt.code for mt in mentions if mt.role in ACTING_ROLES}
    if publisher:
        acting.add(publisher)

    # Relations, sentence by sentence: the acting countries named in a sentence (with a role
    # there, or acting elsewhere and not named here as an origin) are linked by its relation.
    evidence: dict[tuple[str, str], DyadEvidence] = {}
    per_sentence: dict[int, list[Mention]] = defaultdict(list)
    for mt in mentions:
        if mt.code != "EU" and mt.role != "target" and (mt.role or (mt.code in acting and not is_origin(mt.start, mt.end))):
            per_sentence[sentence_of[mt.start]].append(mt)
    for n, here in sorted(per_sentence.items()):
        if n in blocked:
            continue
        s = spans[n]
        relation, cue_at = None, s.last
        if cue_sentences.get(n):
            cue = min(cue_sentences[n], key=lambda c: c.start)
            relation, cue_at = cue.key[1], cue.start
        elif any(mt.role in ACTING_ROLES and mt.code != publisher for mt in here):
            sentence = folded[s.first : min(s.last, len(folded))]
            word = roles.abroad_actions.first_in(sentence)
            if word and roles.repression.first_in(sentence) is None:
                relation = f"action abroad: {word}"
        if relation is None:
            continue
        linked = {mt.code for mt in here}
        foreign = sorted(linked - {publisher}) if publisher and publisher != "EU" else []
        # The publisher's own story abroad: places only, no foreign authority doing the acting
        # ("arrested in Spain and Portugal"), not "the Spanish police arrested him in Portugal".
        own_abroad = relation.startswith("action abroad") and not any(
            mt.role in AUTHORITY_ROLES and mt.code != publisher for mt in here)
        if foreign and (publisher in linked or len(foreign) == 1 or own_abroad):
            # The publisher's relation with each foreign party: named ("the FBI thanks the Thai
            # and the Spanish police"), or the foreign places of its own story. Not one between them.
            pairs = [tuple(sorted((publisher, c))) for c in foreign]
        elif foreign and relation in roles.visits and all(
                mt.start > cue_at and not _followed_by(roles, roles.travellers, original, folded, mt.end, s.last) for mt in here):
            # A visit to the countries named after it ("Envoy Kerry's visit to the UAE, Saudi
            # Arabia and Egypt"): the publisher's visitor and each host, not the hosts one another.
            pairs = [tuple(sorted((publisher, c))) for c in foreign]
        else:  # the publisher not in it: "France and Spain signed an extradition treaty"
            pairs = list(combinations(sorted(linked), 2))
        if transcript:  # a relation of the briefing's subject, not of a question's topic
            pairs = [pair for pair in pairs if not set(pair).isdisjoint(subjects)]
        for a, b in pairs:
            evidence.setdefault((a, b), DyadEvidence(a, b, relation, s.where, s.start, s.end))
    # Countries linked by a relation act, also in a multilateral action (which has no dyads).
    partners = {c for pair in evidence for c in pair}
    acting |= partners
    # Where it was made ("San Jose, Costa Rica"), unless the name is ambiguous ("Atlanta, Georgia").
    # Not where the place is a country too ("Mexico, Colombia": a list).
    acting |= {mt.code for k, mt in enumerate(mentions) if (mt.start, mt.end) in datelines and mt.kind == "names"
               and " ".join(folded[mt.start:mt.end]) not in roles.ambiguous
               and not (k and mentions[k - 1].kind == "names" and sentence_of[mentions[k - 1].start] == sentence_of[mt.start])}
    # An operation its title calls worldwide ("Opnieuw wereldwijde politieacties", "Global
    # takedown of ...") is multilateral too, however few countries the text names. In the
    # body such words are too often about the suspects' reach.
    worldwide_title = any(m.start < title_end for m in worldwide)
    # So is the action of a body of many states its title names ("G7 Foreign Ministers'
    # Statement on ...", "Call with NATO Secretary General ..."), unless the title also names
    # another country's officials ("Call with Polish Foreign Minister and OSCE Chairman-in-Office").
    forum_title = any(m.start < title_end for m in forums) and not any(
        mt.start < title_end and mt.code != publisher and mt.role in AUTHORITY_ROLES for mt in mentions)
    if len(partners) > roles.max_partners or worldwide_title or forum_title:
        evidence = {}
    return tuple(sorted(acting)), tuple(evidence[k] for k in sorted(evidence))
