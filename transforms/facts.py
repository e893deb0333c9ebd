"""Facts from an announcement's text: drug seizures, money, firearms and ammunition, arrests
and charges, named operations and the agencies acting, in English and Dutch.

Each fact keeps the span it was read from, so an analyst can check it. The vocabulary is data
(`facts.toml`: numbers, units, substances, currencies, the verbs that make a number a fact;
`agencies.toml`: who is who), the logic is here: a number, what stands after it (a unit and
a substance, a currency, a firearm, people), and a cue in its sentence (a seizure, an arrest,
a charge). Number words go through text2num ("twee", "five hundred", "drieduizend"); numerals
are read in the locale of the text's language ("3,2 ton" in Dutch, "1,200 kg" in English).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from text_to_num import text2num

from schemas.records import Fact

HERE = Path(__file__).resolve().parent
FACTS_FILE = HERE / "facts.toml"
AGENCIES_FILE = HERE / "agencies.toml"

_WORD_NUMBER_LANGS = ("en", "nl")


def _alternation(terms: Iterable[str], literal: bool = False) -> str:
    """One regex alternation of `terms`, longest first (so "metric tons" wins over "ton")."""
    parts = sorted(set(terms), key=len, reverse=True)
    return "|".join(re.escape(t) if literal else t for t in parts)


_META = frozenset("\\[](){}?*+|.^$")


def _anchor(term: str) -> str:
    """The literal text every match of a pattern `term` begins with ("arrest" of "arrest\\w*",
    "gun" of "guns?"); empty where it begins with a pattern character or has alternatives of
    its own ("a|b": not every match begins as the first does)."""
    if "|" in term:
        return ""
    out: list[str] = []
    for c in term:
        if c in _META:
            if c in "?*{" and out:
                out.pop()  # the character before is optional or repeated
            break
        out.append(c)
    return "".join(out)


@dataclass(frozen=True)
class Anchored:
    """A pattern whose every match begins with one of `anchors` (literal text), found by
    str.find of the anchors and a match attempt there: Python's re tries a pattern that opens
    with a word boundary and an alternation at every character of the text, which costs ten
    times as much in a press release. Same matches as the pattern's own search and finditer
    (a boundary or look-behind at the start sees the text before the position)."""

    rx: re.Pattern
    anchors: tuple[str, ...]

    @classmethod
    def of(cls, rx: re.Pattern, terms: Iterable[str]) -> Anchored:
        if rx.flags & re.IGNORECASE:  # str.find is case-sensitive
            raise ValueError(f"{rx.pattern[:60]!r} ignores case: its anchors cannot be found by str.find")
        anchors = tuple(sorted({_anchor(t) for t in terms}))
        if not anchors or "" in anchors:
            raise ValueError(f"a term of {rx.pattern[:60]!r} begins with a pattern character or has alternatives: "
                             "no anchor to find it by")
        return cls(rx, anchors)

    def _positions(self, s: str, lo: int, hi: int) -> list[int]:
        out = []
        for anchor in self.anchors:
            at = s.find(anchor, lo, hi)
            while at >= 0:
                out.append(at)
                at = s.find(anchor, at + 1, hi)
        return sorted(set(out)) if len(self.anchors) > 1 else out

    def finditer(self, s: str, lo: int = 0, hi: int | None = None) -> list[re.Match]:
        hi = len(s) if hi is None else hi
        out, after = [], -1
        for p in self._positions(s, lo, hi):
            if p < after:
                continue
            m = self.rx.match(s, p, hi)
            if m:
                out.append(m)
                after = m.end()
        return out

    def search(self, s: str, lo: int = 0, hi: int | None = None) -> re.Match | None:
        hi = len(s) if hi is None else hi
        for p in self._positions(s, lo, hi):
            m = self.rx.match(s, p, hi)
            if m:
                return m
        return None


@dataclass(frozen=True)
class FactsVocabulary:
    digest: str  # of both files' parsed content: part of the taxonomy version
    sentence_chars: int
    number_words: frozenset[str]  # the words a number may begin with (lower case), but "a", "an", "een"
    nl_compound: re.Pattern  # a whole line that is a Dutch compound of number words ("drieduizend")
    number_prefixes: frozenset[str]  # the first two letters of the number words: a compound begins so
    # Gates: a kind is looked for only where one of its words is among the text's words (a
    # set lookup instead of a pattern tried over the whole text).
    substance_words: frozenset[str]
    firearm_words: frozenset[str]
    ammunition_words: frozenset[str]
    person_words: frozenset[str]
    currency_words: frozenset[str]
    operation_words: frozenset[str]
    local_endings: tuple[str, ...]  # "Police Department": a local agency's name ends so
    # a name's first word (lower case) -> its first token as written ("U.S.") -> the names, longest first
    agency_names: dict[str, dict[str, tuple[str, ...]]]
    scales: dict[str, float]
    fixed: dict[str, float]
    units: dict[str, str]  # a written unit (folded) -> its canonical unit
    kg_per: dict[str, float]
    substance_of: dict[str, str]  # a written substance (folded) -> its canonical name
    currency_symbols: dict[str, str]
    currency_names: dict[str, str]
    money_actions: dict[str, Anchored]
    agencies: dict[str, tuple[str, str]]  # a written name -> (canonical name, country)
    not_operation: frozenset[str]
    drug: re.Pattern
    drug_count: re.Pattern
    count_suffixes: tuple[str, ...]
    substance: re.Pattern
    seizure: re.Pattern
    not_seized: re.Pattern
    money: tuple[re.Pattern, ...]  # an amount after a symbol, an amount before a currency's name
    not_money: re.Pattern
    not_money_after: re.Pattern
    firearm: re.Pattern
    firearm_seizure: re.Pattern
    ammunition: re.Pattern
    person: re.Pattern
    person_aged: re.Pattern  # looked for before each age in brackets (_AGE)
    arrest: Anchored
    arrests_n: re.Pattern
    people_background: re.Pattern  # a running total's words: a count after them in its clause is background
    charge: Anchored
    charged_one: Anchored
    arrested_one: Anchored
    arrested_name: Anchored  # "arrested Garris": on the text itself (a capital)
    operation: Anchored
    local_agency: re.Pattern


def _load(path: Path) -> dict:
    with path.open("rb") as f:
        return tomllib.load(f)


@lru_cache(maxsize=2)
def facts_vocabulary(facts_file: Path = FACTS_FILE, agencies_file: Path = AGENCIES_FILE) -> FactsVocabulary:
    fx, ag = _load(facts_file), _load(agencies_file)
    digest = hashlib.sha256(json.dumps([fx, ag], sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    nums, drugs, money, arms, people, ops = (fx[k] for k in ("numbers", "drugs", "money", "firearms", "people", "operations"))

    scales = {k.replace("\\", "").lower(): float(v) for k, v in nums["scales"].items()}
    fixed = {k.lower(): float(v) for k, v in nums["fixed"].items()}
    word = _alternation([*nums["words_en"], *nums["words_nl"]], literal=True)
    # A number: digits with separators, or number words (one run, or a Dutch compound such as
    # "vijfentwintig"), or a word that is a number of its own ("a dozen", "anderhalf").
    number = (rf"(?:\d{{1,3}}(?:[.,]\d{{3}})+(?:[.,]\d+)?(?!\d)|\d+(?:[.,]\d+)?"
              rf"|{_alternation(fixed, literal=True)}"
              rf"|(?:{word})(?:(?:[ \t]+|-)(?:{word}))*|(?:{word})+)")
    scale = _alternation(nums["scales"])
    qty = rf"(?P<num>{number})(?:[ \t]*(?P<scale>{scale})\b)?"
    # Where a number may begin: a word that is a number word, or starts a fixed one or a Dutch
    # compound, or a digit (the patterns after a number are tried there only: one pass of a
    # plain word scan instead of a pattern tried at every character).
    starts = {fold(w) for w in [*nums["words_en"], *nums["words_nl"]]} | {fold(k.split()[0]) for k in fixed}
    starts -= {"and", "en", *_ARTICLES}

    units = {fold(w): unit for unit, written in drugs["units"].items() for w in written}
    substance_of = {fold(w): name for name, written in drugs["substances"].items() for w in written}
    sub = _alternation(re.escape(w) for w in substance_of)
    unit_rx = _alternation(re.escape(w) for w in units)
    drug = rf"{qty}[ \t]*-?[ \t]*(?P<unit>{unit_rx})(?![\w])(?P<compound>\w*)"
    # "9.000 xtc-pillen", "450 hennepplanten", "500 cannabis plants": a count of a substance.
    counted = [w for w in ("plants", "pills", "units") for w in drugs["units"][w]]
    bare = [w for w in substance_of if not any(w.endswith(c) for c in counted)]
    drug_count = (rf"{qty}[ \t]+(?P<sub>{_alternation(re.escape(w) for w in bare)})[ \t-]?"
                  rf"(?P<unit>{_alternation(re.escape(w) for w in counted)})(?![\w])")
    not_before = lambda terms: re.compile(rf"\b(?:{_alternation(terms)})\b")  # noqa: E731

    symbols = money["symbols"]
    names = {k.lower(): v for k, v in money["names"].items()}
    money_rx = (rf"(?P<sym>{_alternation(symbols, literal=True)})[ \t]?(?i:{qty})",  # "$4 Million" in a title
                rf"{qty}[ \t]*(?P<cur>{_alternation(names, literal=True)})\b")

    agencies: dict[str, tuple[str, str]] = {}
    for canonical, body in ag["agencies"].items():
        for name in body["names"]:
            agencies.setdefault(name, (canonical, body["country"]))
    endings = _alternation(ag["local"]["endings"], literal=True)
    person = _alternation(people["nouns"])
    by_first: dict[str, list[str]] = {}
    for name in agencies:
        by_first.setdefault(_WORD.findall(name.lower())[0], []).append(name)
    return FactsVocabulary(
        digest=digest,
        number_words=frozenset(starts),
        substance_words=_last_words(substance_of),
        firearm_words=_last_words(arms["nouns"]),
        ammunition_words=_last_words([*arms["ammunition"], "ammunition", "munitie"]),
        person_words=_last_words([*people["nouns"], "arrests", "aanhoudingen", "arrestaties"]),
        currency_words=_last_words(names),
        operation_words=frozenset(w.lower() for w in ops["words"]),
        local_endings=tuple(ag["local"]["endings"]),
        agency_names={first: {token: tuple(sorted((n for n in names_ if n.split(" ", 1)[0] == token), key=len, reverse=True))
                              for token in sorted({n.split(" ", 1)[0] for n in names_})}
                      for first, names_ in by_first.items()},
        nl_compound=re.compile(rf"^(?:{word})+$", re.MULTILINE),
        number_prefixes=frozenset(w.lower()[:2] for w in [*nums["words_en"], *nums["words_nl"]]),
        sentence_chars=int(fx["meta"]["sentence_chars"]),
        scales=scales, fixed=fixed, units=units, kg_per={k: float(v) for k, v in drugs["kg_per"].items()},
        substance_of=substance_of,
        currency_symbols=symbols, currency_names=names,
        money_actions={action: Anchored.of(re.compile(rf"\b(?:{_alternation(terms)})"), terms) for action, terms in money["actions"].items()},
        agencies=agencies,
        not_operation=frozenset(ops["not_names"]),
        drug=re.compile(drug),
        drug_count=re.compile(drug_count),
        count_suffixes=tuple(counted),
        substance=re.compile(rf"(?<![\w])(?:{sub})(?![\w])"),
        seizure=re.compile(rf"\b(?:{_alternation(drugs['seizure_cues'])})"),
        not_seized=not_before(drugs["not_seized"]),
        money=(re.compile(money_rx[0]), re.compile(money_rx[1])),  # on the text, on its lower case
        not_money=not_before(money["not_a_fact"]),
        not_money_after=re.compile(rf"[ \t]*(?:{_alternation(money['not_a_fact_after'])})\b"),
        firearm=re.compile(rf"{qty}[ \t]+(?:[\w-]+[ \t]+){{0,2}}?(?P<noun>{_alternation(arms['nouns'])})\b"),
        firearm_seizure=re.compile(rf"\b(?:{_alternation(arms['seizure_cues'])})"),
        ammunition=re.compile(rf"{qty}[ \t]+(?:[\w-]+[ \t]+){{0,1}}?(?P<noun>{_alternation(arms['ammunition'])})\b"),
        person=re.compile(rf"{qty}[ \t]+(?:(?!(?:{_alternation(people['not_people'])})\b)[\w()-]+[ \t]+){{0,2}}?"
                          rf"(?P<noun>{person})\b"),
        person_aged=re.compile(rf"\b(?P<noun>{person})[ \t]*\(\d{{1,2}}\)"),
        arrest=Anchored.of(re.compile(rf"\b(?:{_alternation(people['arrest_cues'])})"), people["arrest_cues"]),
        people_background=re.compile(rf"\b(?:{_alternation(people['background'])})\b"),
        arrests_n=re.compile(rf"{qty}[ \t]+(?:arrests|aanhoudingen|arrestaties)\b"),
        charge=Anchored.of(re.compile(rf"\b(?:{_alternation(people['charge_cues'])})"), people["charge_cues"]),
        arrested_one=Anchored.of(re.compile(rf"\b(?:{_alternation(_ARRESTED_ONE)})\b"), _ARRESTED_ONE),
        arrested_name=Anchored.of(re.compile(rf"\b(?:{_alternation(_ARRESTED_NAME)})[ \t]+(?:[A-Z][\w'-]+)\b"
                                             r"(?![ \t]+(?:Police|Department|Office))"), _ARRESTED_NAME),
        charged_one=Anchored.of(re.compile(rf"\b(?:{_alternation(_CHARGED_ONE)})\b"), _CHARGED_ONE),
        operation=Anchored.of(re.compile(rf"(?<![\w])(?:{_alternation(ops['words'], literal=True)})[ \t]+[\"“‘']?"
                                         rf"(?P<name>[A-Z0-9][\w'’-]*(?:[ \t]+[A-Z][\w'’-]*){{0,2}})"), map(re.escape, ops["words"])),
        # The word boundary checked after the first capital, not before it: a pattern that opens
        # with a character class is scanned for by that class, one that opens with an assertion
        # is tried at every character (twice the time, the same matches).
        local_agency=re.compile(rf"(?P<name>[A-Z](?<![\w][A-Z])[\w.'’-]*[ \t]+(?:[A-Z][\w.'’-]*[ \t]+){{0,3}}(?:{endings}))(?![\w])"),
    )


def fold(word: str) -> str:
    return word.lower().replace("’", "'")


def _last_words(terms: Iterable[str]) -> frozenset[str]:
    """The last word of each term, lower case, with a pattern's optional plural spelt out
    ("guns?" -> gun, guns)."""
    out = set()
    for term in terms:
        plural = term.endswith("s?")
        found = _WORD.findall((term[:-2] if plural else term).lower().replace("\\", ""))
        if found:
            out |= {found[-1], found[-1] + "s"} if plural else {found[-1]}
    return frozenset(out)


# --- Numbers ---------------------------------------------------------------------------------

def _digits(text: str, language: str | None) -> float | None:
    """A numeral in the locale of `language`: in Dutch "." groups thousands and "," is the
    decimal mark, in English the other way round; a separator not followed by three digits
    is a decimal mark whatever the language ("3.2 tonnes" in a Dutch text)."""
    thousands = "." if language == "nl" else ","
    parts = re.split(r"([.,])", text)
    out, decimal = parts[0], False
    for sep, group in zip(parts[1::2], parts[2::2], strict=True):
        if sep == thousands and len(group) == 3 and not decimal:
            out += group
        elif not decimal:
            out += "." + group
            decimal = True
        else:
            return None
    try:
        return float(out)
    except ValueError:
        return None


def number(fv: FactsVocabulary, written: str, scale: str | None, language: str | None) -> float | None:
    """The value of a number as matched: numerals, number words (text2num), fixed words."""
    w = written.strip()
    if w[:1].isdigit():
        value = _digits(w, language)
    elif w.lower() in fv.fixed:
        value = fv.fixed[w.lower()]
    else:
        value = None
        langs = (language,) if language in _WORD_NUMBER_LANGS else _WORD_NUMBER_LANGS
        for lang in langs:
            try:
                value = float(text2num(w.lower().replace("-", " ") if lang == "en" else w.lower(), lang))
                break
            except ValueError:
                continue
    if value is None:
        return None
    if scale:
        value *= fv.scales.get(scale.lower().replace("\\", ""), 1.0)
    return value


# --- Sentences -------------------------------------------------------------------------------

class _Sentences:
    """The sentence around a position: from the last sentence end before it to the first
    after it, at most `limit` characters away (text without punctuation). Looked up where a
    fact is found, not computed for the whole text."""

    _ENDS = (". ", "! ", "? ", ".\n", "!\n", "?\n", "\n", '." ', ".\u201d ", ".) ")

    def __init__(self, text: str, limit: int):
        self.text, self.limit = text, limit

    def around(self, start: int, end: int) -> tuple[int, int]:
        s, limit = self.text, self.limit
        lo = max(0, start - limit)
        a = max((s.rfind(e, lo, start) + len(e) for e in self._ENDS if s.rfind(e, lo, start) >= 0), default=lo)
        hi = min(len(s), end + limit)
        b = min((i + 1 for e in self._ENDS if (i := s.find(e, end, hi)) >= 0), default=hi)
        return a, b


# --- Facts -------------------------------------------------------------------------------------

def extract_facts(title: str, text: str, language: str | None = None, publisher_country: str | None = None,
                  fv: FactsVocabulary | None = None) -> tuple[Fact, ...]:
    """The facts of an announcement, title first, each once per article: the same seizure in
    the title and the body is one fact (the title's span is kept)."""
    fv = fv or facts_vocabulary()
    out: list[Fact] = []
    seen: set[tuple] = set()
    for where, part in (("title", title or ""), ("text", text or "")):
        if not part:
            continue
        for fact in _facts_of(part, where, language, publisher_country, fv):
            key = (fact.kind, fact.subject, fact.value if fact.value is None else round(fact.value, 6), fact.action, fact.country)
            if fact.kind in ("arrests", "charged", "firearms", "ammunition"):
                key = (fact.kind, fact.value)
            if key not in seen:
                seen.add(key)
                out.append(fact)
    return tuple(out)


def _facts_of(s: str, where: str, language: str | None, publisher: str | None, fv: FactsVocabulary) -> list[Fact]:
    t = _Text(s, fv)
    facts: list[Fact] = []
    facts += _drugs(t, where, language, fv)
    facts += _money(t, where, language, fv)
    facts += _arms(t, where, language, fv)
    facts += _people(t, where, language, fv)
    facts += _operations(t, where, fv)
    facts += _agencies(t, where, publisher, fv)
    facts.sort(key=lambda f: f.start)
    return facts


_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")  # a run's first digit starts a number unless a numeral ("1.200") or a code ("A58") goes on there
_ARTICLES = ("a", "an", "een", "één")
_ARTICLE = re.compile(r"(?:a|an|een|één)\b")  # where a word begins (checked after: a leading \b would cost a try per character)
_DETERMINERS = frozenset({"The", "the", "De", "de", "Het", "het", "A", "An", "Een"})
_SINGULAR = re.compile(r"\b(?:was|is|has been|had been|werd|wordt|kon|konden)\b")
# What arrested_one, arrested_name and charged_one (facts_vocabulary) match, and the words
# without which they cannot (a gate among the text's lower-case words).
_ARRESTED_ONE = ("arrested", "aangehouden", "opgepakt", "gearresteerd", "apprehended", "taken into custody")
_CHARGED_ONE = ("charged", "indicted", "aangeklaagd")
_ARRESTED_NAME = ("Arrested", "arrested", "aangehouden")  # before a name: "arrested Garris"
_ARRESTED_WORDS = frozenset(t.split()[-1] for t in _ARRESTED_ONE)
_ARRESTED_NAME_WORDS = frozenset(w.lower() for w in _ARRESTED_NAME)
_CHARGED_WORDS = frozenset(_CHARGED_ONE)


class _Text:
    """A title or text as the finders read it: itself, its lower case (the same length, so
    offsets hold), its set of words, its sentences, and where its numbers may begin."""

    def __init__(self, s: str, fv: FactsVocabulary):
        self.s = s
        low = s.lower()
        if len(low) != len(s):  # a character whose lower case is longer ("İ"): keep it as it is
            low = "".join(c if len(c.lower()) != 1 else c.lower() for c in s)
        self.low = low
        self.words = frozenset(_WORD.findall(low))
        self.fv = fv
        self._sentences: _Sentences | None = None
        self._starts: list[int] | None = None
        self._with_articles: list[int] | None = None

    @property
    def sentences(self) -> _Sentences:
        if self._sentences is None:
            self._sentences = _Sentences(self.s, self.fv.sentence_chars)
        return self._sentences

    def has(self, words: frozenset[str]) -> bool:
        return not self.words.isdisjoint(words)

    @property
    def starts(self) -> list[int]:
        """Where a number may begin: digits, number words, Dutch compounds of them."""
        if self._starts is None:
            s = self.s
            found = [p for m in _DIGITS.finditer(s) if (p := m.start()) == 0 or not _is_word_char(c := s[p - 1]) and c not in ".,"]
            fv = self.fv
            # Number words, and Dutch compounds of them among the longer words that begin as a
            # number word does: one pass over those words, a line each, not a match call per word.
            long = [w for w in self.words if len(w) > 5 and w[:2] in fv.number_prefixes]
            spelt = (self.words & fv.number_words) | set(fv.nl_compound.findall("\n".join(long)))
            low, n = self.low, len(self.low)
            for w in spelt:  # each place the word stands on its own (str.find: no pattern pass)
                at = low.find(w)
                while at >= 0:
                    end = at + len(w)
                    if (at == 0 or not _is_word_char(low[at - 1])) and (end == n or not _is_word_char(low[end])):
                        found.append(at)
                    at = low.find(w, end)
            self._starts = sorted(found)
        return self._starts

    @property
    def with_articles(self) -> list[int]:
        """The number starts and the articles ("a gun", "een man": one)."""
        if self._with_articles is None:
            low = self.low
            articles = [p for m in _ARTICLE.finditer(low) if (p := m.start()) == 0 or not _is_word_char(low[p - 1])]
            self._with_articles = sorted(self.starts + articles)
        return self._with_articles


def _at_numbers(rx: re.Pattern, s: str, starts: list[int], keep: Callable[[re.Match], bool] | None = None) -> list[re.Match]:
    """The matches of `rx` (a pattern that begins with a number) at the numbers of `s`; with
    `keep`, only those it accepts (a refused one leaves the numbers it spans to match on their own)."""
    out, after = [], -1
    for p in starts:
        if p < after:
            continue
        m = rx.match(s, p)
        if m and (keep is None or keep(m)):
            out.append(m)
            after = m.end()
    return out


def _value(fv: FactsVocabulary, m: re.Match, language: str | None) -> float | None:
    return number(fv, m.group("num"), m.group("scale"), language)


def _drugs(t: _Text, where, language, fv) -> list[Fact]:
    out = []
    # A word ending in a count ("xtc-pillen") can only be where the ending is in the text.
    if not t.has(fv.substance_words) and not any(c in t.low for c in fv.count_suffixes):
        return out  # no drug named: no seizure to read
    low = t.low
    counts = _at_numbers(fv.drug_count, low, t.with_articles)
    counted = {m.start() for m in counts}
    for m in sorted([*counts, *(m for m in _at_numbers(fv.drug, low, t.with_articles) if m.start() not in counted)],
                    key=lambda m: m.start()):
        unit = fv.units.get(fold(m.group("unit")))
        quantity = _value(fv, m, language)
        if unit is None or not quantity:
            continue
        a, b = t.sentences.around(m.start(), m.end())
        if not fv.seizure.search(low, a, b) or fv.not_seized.search(low, max(a, m.start() - 60), m.start()):
            continue
        compound = fold(m.groupdict().get("compound") or "")
        substance = fv.substance_of.get(fold(m.group("sub"))) if m.re is fv.drug_count else None
        if compound and substance is None:  # "450 kilohennep": the substance written onto the unit
            substance = next((name for w, name in fv.substance_of.items() if compound.startswith(w)), None)
        if substance is None:
            after = fv.substance.search(low, m.end(), min(b, m.end() + 60))
            before = None if after else _last(fv.substance.finditer(low, max(a, m.start() - 50), m.start()))
            hit = after or before
            if hit is None:
                continue
            substance = fv.substance_of[fold(hit.group(0))]
        kg = quantity * fv.kg_per[unit] if unit in fv.kg_per else None
        out.append(Fact("drug", substance, quantity, unit, kg, None, None, where, m.start("num"), m.end("unit")))
    return out


def _last(matches):
    last = None
    for last in matches:  # noqa: B007
        pass
    return last


_SYMBOL_CHARS = ("€", "£", "$", "USD", "EUR", "GBP", "CHF")


def _money(t: _Text, where, language, fv) -> list[Fact]:
    out = []
    s, low = t.s, t.low
    symbol, name = fv.money
    found = []
    if any(c in s for c in _SYMBOL_CHARS):
        found += symbol.finditer(s)
    if t.has(fv.currency_words):
        found += _at_numbers(name, low, t.starts)
    for m in found:
        written = m.groupdict().get("sym") or m.groupdict().get("cur")
        currency = fv.currency_symbols.get(written) or fv.currency_names.get(written.lower())
        amount = _value(fv, m, language)
        if not currency or not amount:
            continue
        a, b = t.sentences.around(m.start(), m.end())
        # "faces a maximum penalty of 20 years and a $250,000 fine", "held on $50,000 bail".
        if fv.not_money.search(low, a, m.start()) or fv.not_money_after.match(low, m.end()):
            continue
        action, best = "other", None
        for kind, rx in fv.money_actions.items():
            for hit in rx.finditer(low, a, b):
                distance = abs(hit.start() - m.start())
                if best is None or distance < best:
                    action, best = kind, distance
        out.append(Fact("money", currency, amount, currency, amount, action, None, where, m.start(), m.end()))
    return out


def _arms(t: _Text, where, language, fv) -> list[Fact]:
    out = []
    for kind, rx, gate in (("firearms", fv.firearm, fv.firearm_words), ("ammunition", fv.ammunition, fv.ammunition_words)):
        if not t.has(gate):
            continue
        # The weapons of one sentence are one seizure: "three handguns and a rifle" are 4.
        per_sentence: dict[tuple[int, int], list[tuple[float, int, int]]] = {}
        for m in _at_numbers(rx, t.low, t.with_articles):
            count = _value(fv, m, language)
            if count and count == int(count):
                per_sentence.setdefault(t.sentences.around(m.start(), m.end()), []).append((count, m.start(), m.end()))
        for (a, b), found in per_sentence.items():
            if fv.firearm_seizure.search(t.low, a, b):
                total = sum(c for c, _, _ in found)
                out.append(Fact(kind, None, total, None, total, None, None, where, found[0][1], found[-1][2]))
    return out


def _people(t: _Text, where, language, fv) -> list[Fact]:
    """Arrests and charges: the people counted in a sentence with an arrest or a charge cue."""
    low = t.low
    if not (fv.arrest.search(low) or fv.charge.search(low)):
        return []
    per_sentence: dict[tuple[int, int], list[tuple[float, bool, int, int]]] = {}
    out = []
    if t.has(fv.person_words):
        def not_a_year(m: re.Match) -> bool:  # "since 2019 forty suspects", "on June 5, 2025 two suspects"
            return not (_YEAR.fullmatch(m.group("num")) and _YEAR_BEFORE.search(low, max(0, m.start() - 20), m.start()))

        for m in _at_numbers(fv.person, low, t.with_articles, not_a_year):
            count = _value(fv, m, language)
            if not count or count != int(count):
                continue
            span = t.sentences.around(m.start(), m.end())
            if not _background(fv, low, span[0], m.start()):
                per_sentence.setdefault(span, []).append((count, count > 1, m.start(), m.end()))
        if "(" in low:
            for m in _aged(fv.person_aged, low):
                span = t.sentences.around(m.start(), m.end())
                if not any(st <= m.start() < en for _, _, st, en in per_sentence.get(span, [])):
                    per_sentence.setdefault(span, []).append((1.0, False, m.start(), m.end()))
        for (a, b), mentions in per_sentence.items():
            kind = _cue_kind(low, a, b, fv)
            if kind is None:
                continue
            plural = [m for m in mentions if m[1]]
            if plural:
                count, _, start, end = max(plural)
            else:
                count, start, end = float(len(mentions)), mentions[0][2], mentions[-1][3]
            out.append(Fact(kind, None, count, None, count, None, None, where, start, end))
        for m in _at_numbers(fv.arrests_n, low, t.starts):
            count = _value(fv, m, language)
            if count and count == int(count) and not _background(fv, low, t.sentences.around(m.start(), m.end())[0], m.start()):
                out.append(Fact("arrests", None, count, None, count, None, None, where, m.start(), m.end()))
    # "He was arrested", "De man werd aangehouden", "arrested Garris": one person, where the
    # sentence counts no one else.
    counted = {(f.kind, t.sentences.around(f.start, f.end)) for f in out}
    for kind, rx, text, words_before, gate in (("arrests", fv.arrested_one, low, 4, _ARRESTED_WORDS),
                                               ("arrests", fv.arrested_name, t.s, 0, _ARRESTED_NAME_WORDS),
                                               ("charged", fv.charged_one, low, 2, _CHARGED_WORDS)):
        if not t.has(gate):  # the pattern's words are not in the text: no pass over it
            continue
        for m in rx.finditer(text):
            # The verb first, then its auxiliary a few words before: "was arrested", "is
            # zondag aangehouden", "kon worden aangehouden".
            if words_before and not _SINGULAR.search(" ".join(low[max(0, m.start() - 60):m.start()].split()[-words_before:])):
                continue
            span = t.sentences.around(m.start(), m.end())
            if (kind, span) not in counted and not _background(fv, low, span[0], m.start()):
                counted.add((kind, span))
                out.append(Fact(kind, None, 1.0, None, 1.0, None, None, where, m.start(), m.end()))
    return out


_YEAR = re.compile(r"(?:19|20)\d\d")
# A year's words before it: a preposition, or a date's month (and day): "27 februari 2025",
# "June 5, 2025", "mei 2025".
_YEAR_BEFORE = re.compile(r"\b(?:since|in|from|until|sinds|van|tot|per|jan(?:uary|uari)?|feb(?:ruary|ruari)?|mar(?:ch)?|"
                          r"maart|apr(?:il)?|may|mei|june?|juni|july?|juli|aug(?:ust|ustus)?|sept?(?:ember)?|o[ck]t(?:ober)?|"
                          r"nov(?:ember)?|dec(?:ember)?)\.?(?:\s+\d{1,2}(?:st|nd|rd|th|e)?,?)?\s+\Z")


def _background(fv: FactsVocabulary, low: str, sentence_start: int, at: int) -> bool:
    """Whether a running total's words ("since its inception", "to date") stand before `at` in
    its clause (from the sentence's start or the last ";" before it): the count is background."""
    clause = max(sentence_start, low.rfind(";", sentence_start, at) + 1)
    return fv.people_background.search(low, clause, at) is not None


_AGE = re.compile(r"\(\d{1,2}\)")
_NOUN_BEFORE_AGE = 60  # characters: a person noun and the spaces before its age


def _aged(rx: re.Pattern, low: str) -> list[re.Match]:
    """The matches of `rx` ("de man (34)"), looked for within _NOUN_BEFORE_AGE characters
    before each age in brackets, not tried at every character of the text (the same matches as
    rx.finditer, but for a noun further than that from its age)."""
    out, after = [], 0
    for age in _AGE.finditer(low):
        m = rx.search(low, max(after, age.start() - _NOUN_BEFORE_AGE), age.end())
        if m:
            out.append(m)
            after = m.end()
    return out


def _cue_kind(low: str, a: int, b: int, fv: FactsVocabulary) -> str | None:
    # Within a sentence the pattern itself (a few hundred characters) is faster than its anchors.
    arrest, charge = fv.arrest.rx.search(low, a, b), fv.charge.rx.search(low, a, b)
    if arrest and charge:
        return "arrests" if arrest.start() < charge.start() else "charged"
    return "arrests" if arrest else "charged" if charge else None


def _operations(t: _Text, where, fv) -> list[Fact]:
    out = []
    if not t.has(fv.operation_words):
        return out
    for m in fv.operation.finditer(t.s):
        name = m.group("name")
        parts = name.split()
        while parts and parts[-1] in fv.not_operation:
            parts.pop()
        name = " ".join(parts)
        if not name or parts[0] in fv.not_operation or name in fv.not_operation or len(name) < 3:
            continue
        if name.isdigit():  # "onderzoek 2019": a year, not a name
            continue
        out.append(Fact("operation", name, None, None, None, None, None, where, m.start("name"), m.start("name") + len(name)))
    return out


def _agencies(t: _Text, where, publisher, fv) -> list[Fact]:
    """Agencies by their names (agencies.toml), leftmost and longest first, each on word
    boundaries: looked up with str.find for the names whose first word the text has."""
    s = t.s
    spans: list[tuple[int, int, str]] = []
    for first in t.words & fv.agency_names.keys():
        # One pass of str.find per first token ("U.S."), the names that begin with it tried where it stands.
        for token, names in fv.agency_names[first].items():
            at = s.find(token)
            while at >= 0:
                if at == 0 or not _is_word_char(s[at - 1]):
                    for name in names:
                        end = at + len(name)
                        if s.startswith(name, at) and (end == len(s) or not _is_word_char(s[end])):
                            spans.append((at, end, name))
                at = s.find(token, at + 1)
    out, taken = [], -1
    for at, end, name in sorted(spans, key=lambda x: (x[0], -(x[1] - x[0]))):
        if at < taken:
            continue
        taken = end
        canonical, country = fv.agencies[name]
        out.append(Fact("agency", canonical, None, None, None, None, country, where, at, end))
    if any(e in s for e in fv.local_endings):
        for m in fv.local_agency.finditer(s):
            parts = m.group("name").split()
            while parts and parts[0] in _DETERMINERS:  # "The Anaheim Police Department"
                parts.pop(0)
            name = " ".join(parts)
            if name in fv.agencies:
                continue
            out.append(Fact("agency", name, None, None, None, None, publisher or "US", where, m.start("name"), m.end("name")))
    return out


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"
