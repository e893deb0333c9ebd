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

import bisect
import hashlib
import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from text_to_num import text2num

from schemas.records import Fact

HERE = Path(__file__).resolve().parent
FACTS_FILE = HERE / "facts.toml"
AGENCIES_FILE = HERE / "agencies.toml"

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]*[A-Z0-9À-Ý])|\n+")
_WORD_NUMBER_LANGS = ("en", "nl")


def _alternation(terms: Iterable[str], literal: bool = False) -> str:
    """One regex alternation of `terms`, longest first (so "metric tons" wins over "ton")."""
    parts = sorted(set(terms), key=len, reverse=True)
    return "|".join(re.escape(t) if literal else t for t in parts)


@dataclass(frozen=True)
class FactsVocabulary:
    digest: str  # of both files' parsed content: part of the taxonomy version
    sentence_chars: int
    number_starts: frozenset[str]
    nl_compound: re.Pattern
    scales: dict[str, float]
    fixed: dict[str, float]
    units: dict[str, str]  # a written unit (folded) -> its canonical unit
    kg_per: dict[str, float]
    substance_of: dict[str, str]  # a written substance (folded) -> its canonical name
    currency_symbols: dict[str, str]
    currency_names: dict[str, str]
    money_actions: dict[str, re.Pattern]
    agencies: dict[str, tuple[str, str]]  # a written name -> (canonical name, country)
    not_operation: frozenset[str]
    drug: re.Pattern
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
    person_aged: re.Pattern
    arrest: re.Pattern
    arrests_n: re.Pattern
    charge: re.Pattern
    charged_one: re.Pattern
    arrested_one: re.Pattern
    operation: re.Pattern
    agency: re.Pattern
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
    starts -= {"and", "en"}

    units = {fold(w): unit for unit, written in drugs["units"].items() for w in written}
    substance_of = {fold(w): name for name, written in drugs["substances"].items() for w in written}
    sub = _alternation(re.escape(w) for w in substance_of)
    unit_rx = _alternation(re.escape(w) for w in units)
    drug = rf"{qty}[ \t]*-?[ \t]*(?P<unit>{unit_rx})(?![\w])(?P<compound>\w*)"
    not_before = lambda terms: re.compile(rf"\b(?:{_alternation(terms)})\b", re.I)  # noqa: E731

    symbols = money["symbols"]
    names = {k.lower(): v for k, v in money["names"].items()}
    money_rx = (rf"(?P<sym>{_alternation(symbols, literal=True)})[ \t]?{qty}",
                rf"{qty}[ \t]*(?P<cur>{_alternation(names, literal=True)})\b")

    agencies: dict[str, tuple[str, str]] = {}
    for canonical, body in ag["agencies"].items():
        for name in body["names"]:
            agencies.setdefault(name, (canonical, body["country"]))
    endings = _alternation(ag["local"]["endings"], literal=True)
    person = _alternation(people["nouns"])
    return FactsVocabulary(
        digest=digest,
        number_starts=frozenset(starts),
        nl_compound=re.compile(rf"(?:{word})+", re.I),
        sentence_chars=int(fx["meta"]["sentence_chars"]),
        scales=scales, fixed=fixed, units=units, kg_per={k: float(v) for k, v in drugs["kg_per"].items()},
        substance_of=substance_of,
        currency_symbols=symbols, currency_names=names,
        money_actions={action: re.compile(rf"\b(?:{_alternation(terms)})", re.I) for action, terms in money["actions"].items()},
        agencies=agencies,
        not_operation=frozenset(ops["not_names"]),
        drug=re.compile(drug, re.I),
        substance=re.compile(rf"(?<![\w])(?:{sub})(?![\w])", re.I),
        seizure=re.compile(rf"\b(?:{_alternation(drugs['seizure_cues'])})", re.I),
        not_seized=not_before(drugs["not_seized"]),
        money=tuple(re.compile(rx, re.I) for rx in money_rx),
        not_money=not_before(money["not_a_fact"]),
        not_money_after=re.compile(rf"[ \t]*(?:{_alternation(money['not_a_fact_after'])})\b", re.I),
        firearm=re.compile(rf"{qty}[ \t]+(?:[\w-]+[ \t]+){{0,2}}?(?P<noun>{_alternation(arms['nouns'])})\b", re.I),
        firearm_seizure=re.compile(rf"\b(?:{_alternation(arms['seizure_cues'])})", re.I),
        ammunition=re.compile(rf"{qty}[ \t]+(?:[\w-]+[ \t]+){{0,1}}?(?P<noun>{_alternation(arms['ammunition'])})\b", re.I),
        person=re.compile(rf"{qty}[ \t]+(?:(?!(?:{_alternation(people['not_people'])})\b)[\w()-]+[ \t]+){{0,2}}?"
                          rf"(?P<noun>{person})\b", re.I),
        person_aged=re.compile(rf"\b(?P<noun>{person})[ \t]*\(\d{{1,2}}\)", re.I),
        arrest=re.compile(rf"\b(?:{_alternation(people['arrest_cues'])})", re.I),
        arrests_n=re.compile(rf"{qty}[ \t]+(?:arrests|aanhoudingen|arrestaties)\b", re.I),
        charge=re.compile(rf"\b(?:{_alternation(people['charge_cues'])})", re.I),
        arrested_one=re.compile(r"\b(?:was|is|has been|had been|werd|wordt|kon|konden)[ \t]+(?:[\w-]+[ \t]+){0,3}?"
                                r"(?:arrested|aangehouden|opgepakt|gearresteerd|apprehended|taken into custody|worden aangehouden)\b"
                                r"|\b(?:arrested|aangehouden)[ \t]+(?:[A-Z][\w'-]+)\b(?![ \t]+(?:Police|Department|Office))", re.I),
        charged_one=re.compile(r"\b(?:was|is|has been|had been|werd|wordt)[ \t]+(?:\w+[ \t]+)?(?:charged|indicted|aangeklaagd)\b", re.I),
        operation=re.compile(rf"(?<![\w])(?:{_alternation(ops['words'], literal=True)})[ \t]+[\"“‘']?"
                             rf"(?P<name>[A-Z0-9][\w'’-]*(?:[ \t]+[A-Z][\w'’-]*){{0,2}})"),
        agency=re.compile(rf"(?<![\w]){'(?:' + _alternation(agencies, literal=True) + ')'}(?![\w])"),
        local_agency=re.compile(rf"(?<![\w])(?P<name>(?:[A-Z][\w.'’-]*[ \t]+){{1,4}}(?:{endings}))(?![\w])"),
    )


def fold(word: str) -> str:
    return word.lower().replace("’", "'")


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
    """Where the sentences of a string begin and end (bounded to `limit` characters around
    a position, for text without punctuation)."""

    def __init__(self, text: str, limit: int):
        self.text, self.limit = text, limit
        self.starts = [0] + [m.end() for m in _SENTENCE_END.finditer(text)]

    def around(self, start: int, end: int) -> tuple[int, int]:
        k = bisect.bisect_right(self.starts, start) - 1
        first = self.starts[k]
        last = self.starts[k + 1] if k + 1 < len(self.starts) else len(self.text)
        while k + 1 < len(self.starts) and self.starts[k + 1] < end:  # a match across a boundary
            k += 1
            last = self.starts[k + 1] if k + 1 < len(self.starts) else len(self.text)
        return max(first, start - self.limit), min(last, end + self.limit)


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
    sentences = _Sentences(s, fv.sentence_chars)
    starts = _number_starts(s, fv)
    facts: list[Fact] = []
    facts += _drugs(s, where, language, fv, sentences, starts)
    facts += _money(s, where, language, fv, sentences, starts)
    facts += _arms(s, where, language, fv, sentences, starts)
    facts += _people(s, where, language, fv, sentences, starts)
    facts += _operations(s, where, fv)
    facts += _agencies(s, where, publisher, fv)
    facts.sort(key=lambda f: f.start)
    return facts


_WORD = re.compile(r"\w+")
_DETERMINERS = frozenset({"The", "the", "De", "de", "Het", "het", "A", "An", "Een"})


def _number_starts(s: str, fv: FactsVocabulary) -> list[int]:
    """Where a number may begin in `s`: digits, number words, Dutch compounds of them."""
    out = []
    for m in _WORD.finditer(s):
        w = m.group(0)
        if w[0].isdigit():
            if m.start() and (s[m.start() - 1].isdigit() or s[m.start() - 1] in ".,"):
                continue  # inside a numeral ("1.200"): its start is taken already
            out.append(m.start())
        elif w.lower() in fv.number_starts or (len(w) > 5 and fv.nl_compound.fullmatch(w)):
            out.append(m.start())
    return out


def _at_numbers(rx: re.Pattern, s: str, starts: list[int]) -> list[re.Match]:
    """The matches of `rx` (a pattern that begins with a number) at the numbers of `s`."""
    out, after = [], -1
    for p in starts:
        if p < after:
            continue
        m = rx.match(s, p)
        if m:
            out.append(m)
            after = m.end()
    return out


def _value(fv: FactsVocabulary, m: re.Match, language: str | None) -> float | None:
    return number(fv, m.group("num"), m.group("scale"), language)


def _drugs(s, where, language, fv, sentences, starts) -> list[Fact]:
    out = []
    for m in _at_numbers(fv.drug, s, starts):
        unit = fv.units.get(fold(m.group("unit")))
        quantity = _value(fv, m, language)
        if unit is None or not quantity:
            continue
        a, b = sentences.around(m.start(), m.end())
        if not fv.seizure.search(s, a, b) or fv.not_seized.search(s, max(a, m.start() - 60), m.start()):
            continue
        compound = fold(m.group("compound") or "")
        substance = None
        if compound:  # "1.200 hennepplanten" is read as 1.200 + "hennep" + "planten"? no: "kilo" + nothing
            substance = next((name for w, name in fv.substance_of.items() if compound.startswith(w)), None)
        if substance is None:
            after = fv.substance.search(s, m.end(), min(b, m.end() + 60))
            before = None if after else _last(fv.substance.finditer(s, max(a, m.start() - 50), m.start()))
            hit = after or before
            if hit is None:
                continue
            substance = fv.substance_of[fold(hit.group(0))]
        kg = quantity * fv.kg_per[unit] if unit in fv.kg_per else None
        out.append(Fact("drug", substance, quantity, unit, kg, None, None, where, m.start("num"), m.end("unit")))
    # "1.200 hennepplanten", "5,000 ecstasy pills": a count named by a compound or a substance before it.
    return out


def _last(matches):
    last = None
    for last in matches:  # noqa: B007
        pass
    return last


def _money(s, where, language, fv, sentences, starts) -> list[Fact]:
    out = []
    symbol, name = fv.money
    for m in [*symbol.finditer(s), *_at_numbers(name, s, starts)]:
        written = m.groupdict().get("sym") or m.groupdict().get("cur")
        currency = fv.currency_symbols.get(written) or fv.currency_names.get(written.lower())
        amount = _value(fv, m, language)
        if not currency or not amount:
            continue
        a, b = sentences.around(m.start(), m.end())
        # "faces a maximum penalty of 20 years and a $250,000 fine", "held on $50,000 bail".
        if fv.not_money.search(s, a, m.start()) or fv.not_money_after.match(s, m.end()):
            continue
        action, best = "other", None
        for name, rx in fv.money_actions.items():
            for hit in rx.finditer(s, a, b):
                distance = abs(hit.start() - m.start())
                if best is None or distance < best:
                    action, best = name, distance
        out.append(Fact("money", currency, amount, currency, amount, action, None, where, m.start(), m.end()))
    return out


def _arms(s, where, language, fv, sentences, starts) -> list[Fact]:
    out = []
    for kind, rx in (("firearms", fv.firearm), ("ammunition", fv.ammunition)):
        # The weapons of one sentence are one seizure: "three handguns and a rifle" are 4.
        per_sentence: dict[tuple[int, int], list[tuple[float, int, int]]] = {}
        for m in _at_numbers(rx, s, starts):
            count = _value(fv, m, language)
            if count and count == int(count):
                per_sentence.setdefault(sentences.around(m.start(), m.end()), []).append((count, m.start(), m.end()))
        for (a, b), found in per_sentence.items():
            if fv.firearm_seizure.search(s, a, b):
                total = sum(c for c, _, _ in found)
                out.append(Fact(kind, None, total, None, total, None, None, where, found[0][1], found[-1][2]))
    return out


def _people(s, where, language, fv, sentences, starts) -> list[Fact]:
    """Arrests and charges: the people counted in a sentence with an arrest or a charge cue."""
    per_sentence: dict[tuple[int, int], list[tuple[float, bool, int, int]]] = {}
    for m in _at_numbers(fv.person, s, starts):
        count = _value(fv, m, language)
        if not count or count != int(count):
            continue
        plural = count > 1
        per_sentence.setdefault(sentences.around(m.start(), m.end()), []).append((count, plural, m.start(), m.end()))
    for m in fv.person_aged.finditer(s):
        span = sentences.around(m.start(), m.end())
        if not any(st <= m.start() < en for _, _, st, en in per_sentence.get(span, [])):
            per_sentence.setdefault(span, []).append((1.0, False, m.start(), m.end()))
    out = []
    for (a, b), mentions in per_sentence.items():
        kind = _cue_kind(s, a, b, fv)
        if kind is None:
            continue
        plural = [m for m in mentions if m[1]]
        if plural:
            count, _, start, end = max(plural)
        else:
            count, start, end = float(len(mentions)), mentions[0][2], mentions[-1][3]
        out.append(Fact(kind, None, count, None, count, None, None, where, start, end))
    for m in _at_numbers(fv.arrests_n, s, starts):
        count = _value(fv, m, language)
        if count and count == int(count):
            out.append(Fact("arrests", None, count, None, count, None, None, where, m.start(), m.end()))
    # "He was arrested", "De man werd aangehouden", "arrested Garris": one person, where the
    # sentence counts no one else.
    counted = {(f.kind, sentences.around(f.start, f.end)) for f in out}
    for kind, rx in (("arrests", fv.arrested_one), ("charged", fv.charged_one)):
        for m in rx.finditer(s):
            span = sentences.around(m.start(), m.end())
            if (kind, span) not in counted:
                counted.add((kind, span))
                out.append(Fact(kind, None, 1.0, None, 1.0, None, None, where, m.start(), m.end()))
    return out


def _cue_kind(s: str, a: int, b: int, fv: FactsVocabulary) -> str | None:
    arrest, charge = fv.arrest.search(s, a, b), fv.charge.search(s, a, b)
    if arrest and charge:
        return "arrests" if arrest.start() < charge.start() else "charged"
    return "arrests" if arrest else "charged" if charge else None


def _operations(s, where, fv) -> list[Fact]:
    out = []
    for m in fv.operation.finditer(s):
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


def _agencies(s, where, publisher, fv) -> list[Fact]:
    out = []
    for m in fv.agency.finditer(s):
        canonical, country = fv.agencies[m.group(0)]
        out.append(Fact("agency", canonical, None, None, None, None, country, where, m.start(), m.end()))
    for m in fv.local_agency.finditer(s):
        parts = m.group("name").split()
        while parts and parts[0] in _DETERMINERS:  # "The Anaheim Police Department"
            parts.pop(0)
        name = " ".join(parts)
        if name in fv.agencies:
            continue
        out.append(Fact("agency", name, None, None, None, None, publisher or "US", where, m.start("name"), m.end("name")))
    return out
