"""Classification: an article's title and text in, its Tags out.

Vocabulary is data, logic is code. Three reviewed data files beside this module:

- `taxonomy.toml`: the SOC themes, each with weighted terms (English and Dutch) and negative
  terms that cancel, a threshold and its mapping to EMPACT and the UK SOC threat categories;
- `countries.toml`: per country its names, adjectives and agencies (English and Dutch);
- `cues.toml`: cooperation cues, origin/nationality cues and announcement-type cues.

The taxonomy version is a hash of the three files' parsed content, so any change to the
vocabulary gives a new version, and `reclassify` knows what it has to redo.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from schemas.records import ANNOUNCEMENT_TYPES, Tags, ThemeScore
from transforms.errors import internal_error
from transforms.actors import Roles, Sentence, WordSet, find_actors, sentence_index, sentences
from transforms.matcher import Match, Matcher, Pattern, PatternError, compile_pattern, fold, words

HERE = Path(__file__).resolve().parent
TAXONOMY_FILE = HERE / "taxonomy.toml"
COUNTRIES_FILE = HERE / "countries.toml"
CUES_FILE = HERE / "cues.toml"

LEAD_WORDS = 60  # the first words of the text weigh as the lead
MENU_LINE_WORDS = 4  # a shorter line without sentence punctuation reads as navigation ...
MENU_WEIGHT = 0.2  # ... and its matches count this much, as do those in appeals to the public
REPEAT_DECAY = 0.5  # the n-th occurrence of one term counts DECAY**(n-1) of the first
# A transcript (press briefing, interview, press availability) gives its speakers' turns as
# lines that open with "QUESTION:", "MR PRICE:", "SECRETARY BLINKEN:"; this many make one.
_SPEAKER_TURN = re.compile(
    r"(?:QUESTION|MODERATOR|OPERATOR|PARTICIPANT|INTERVIEWER|Q"
    r"|(?:MR|MRS|MS|DR|SECRETARY|MINISTER|AMBASSADOR|PRESIDENT|SENATOR|GENERAL|ADMIRAL|DIRECTOR|COMMISSIONER|SPOKESPERSON)"
    r"\.?(?: [A-Z][A-Z'-]+){1,2}):")
TRANSCRIPT_TURNS = 5
# A theme word in the name of the office that prosecutes ("the Fraud Section", "the Human
# Trafficking Unit") tells who handles the case, hardly what it is about: it weighs as a menu's.
_UNIT_WORDS = frozenset({"Section", "Unit", "Division", "Squad", "Office", "Bureau", "Branch", "Team", "Taskforce"})


class TaxonomyError(ValueError):
    """A vocabulary file that cannot be used; the message names the file and the place."""


@dataclass(frozen=True, slots=True)
class Theme:
    slug: str
    label: str
    description: str
    empact: str
    uk_soc: str
    threshold: float
    # Umbrella terms ("organised crime", "criminal networks") are said of every kind of
    # serious crime: in an article already about `umbrella_after` other themes they are no
    # evidence for this one.
    umbrella: frozenset[str] = frozenset()
    umbrella_after: int = 0


@dataclass(frozen=True)
class Vocabulary:
    version: str
    themes: dict[str, Theme]
    title_weight: float
    lead_weight: float
    # One compiled matcher for the whole vocabulary (one pass over a text). Its keys:
    # ("theme", theme, term, weight), ("country", code, kind), ("coop", term, weight),
    # ("type", type, term, weight), ("appeal", term).
    matcher: Matcher
    type_threshold: float
    origin_before: frozenset[tuple[str, ...]]
    origin_after: frozenset[str]
    nationality: frozenset[str]
    nationality_window: int
    nationality_between: frozenset[str]
    tail_headings: frozenset[tuple[str, ...]] = frozenset()
    roles: Roles = Roles()
    long_words: float = 1e9
    long_power: float = 0.5
    languages: frozenset[str] = frozenset({"en", "nl"})  # the languages the vocabulary is written in
    listing_themes: int = 1_000_000
    listing_weight: float = 1.0
    # "no arrests were made", "er is nog geen aanhouding verricht": a type cue after one of
    # these words (within `negation_window` words of its sentence) is no evidence.
    type_negations: frozenset[str] = frozenset()
    negation_window: int = 0


_KINDS = {"table": "a table", "number": "a finite number", "whole": "a whole number", "text": "a string",
          "strings": "a list of strings"}
# The keys a taxonomy file may have (a misspelt key is an error, not silently ignored).
TAXONOMY_KEYS = {"": {"meta", "themes"}, "meta": {"name", "guide", "note", "threshold", "title_weight", "lead_weight",
                          "long_document_words", "long_document_power", "languages", "listing_themes", "listing_weight"},
                 "theme": {"label", "description", "empact", "uk_soc", "terms", "negative", "umbrella", "threshold"},
                 "umbrella": {"terms", "after_themes"}}


def _read_toml(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TaxonomyError(f"{path.name}: file not found") from None
    except OSError as exc:  # a folder, no permission
        raise TaxonomyError(f"{path.name}: cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text() reads it
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise TaxonomyError(f"{path.name}: not UTF-8 text: byte {exc.start} (line {line})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message names line and column, or "end of document"
        last = text.count("\n") + 1
        where = "" if "line" in str(exc) else f" (line {last})"
        raise TaxonomyError(f"{path.name}: invalid TOML: {exc}{where}") from None


def _typed(path: Path, where: str, key: str, value: object, kind: str):
    """`value` (of `key` in table `where`; "" = the top level) if it is of the `kind`, else a TaxonomyError."""
    ok = {
        "table": isinstance(value, dict),
        "number": isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value),
        "whole": isinstance(value, int) and not isinstance(value, bool) and value >= 0,
        "text": isinstance(value, str),
        "strings": isinstance(value, list) and all(isinstance(v, str) for v in value),
    }[kind]
    if not ok:
        place = f"[{where}] {key}" if where else f"[{key}]"
        raise TaxonomyError(f"{path.name}: {place} must be {_KINDS[kind]}, not {value!r:.80}")
    return value


def _get(path: Path, table: dict, where: str, key: str, kind: str, default: object):
    return _typed(path, where, key, table.get(key, default), kind)


def _known(path: Path, where: str, table: dict, keys: set[str]) -> None:
    unknown = sorted(set(table) - keys)
    if unknown:
        place = f"[{where}]" if where else "the top level"
        raise TaxonomyError(f"{path.name}: unknown key {unknown[0]!r} in {place} (known: {', '.join(sorted(keys))})")


def _weighted(path: Path, where: str, table: object) -> dict[str, float]:
    if not isinstance(table, dict):
        raise TaxonomyError(f"{path.name}: [{where}] must be a table of \"pattern\" = weight")
    out = {}
    for term, weight in table.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
            raise TaxonomyError(f"{path.name}: [{where}] {term!r}: weight must be a finite number, not {weight!r}")
        out[term] = float(weight)
    return out


def _compile(path: Path, where: str, term: str, key: object, case_sensitive: bool = False) -> Pattern:
    try:
        return compile_pattern(term, key, case_sensitive)
    except PatternError as exc:
        raise TaxonomyError(f"{path.name}: [{where}] {exc}") from None


def load_vocabulary(taxonomy: Path = TAXONOMY_FILE, countries: Path = COUNTRIES_FILE, cues: Path = CUES_FILE) -> Vocabulary:
    """The vocabulary of the three files; a TaxonomyError naming the file and the line (TOML,
    UTF-8) or the table and key (wrong type, unknown or missing key, bad pattern) where one is unusable."""
    tax, ctr, cue = _read_toml(taxonomy), _read_toml(countries), _read_toml(cues)
    _known(taxonomy, "", tax, TAXONOMY_KEYS[""])
    meta = _get(taxonomy, tax, "", "meta", "table", {})
    _known(taxonomy, "meta", meta, TAXONOMY_KEYS["meta"])
    default_threshold = float(_get(taxonomy, meta, "meta", "threshold", "number", 3.0))
    themes: dict[str, Theme] = {}
    theme_patterns: list[Pattern] = []
    raw_themes = tax.get("themes")
    if not isinstance(raw_themes, dict) or not raw_themes:
        raise TaxonomyError(f"{taxonomy.name}: no [themes.<slug>] tables")
    for slug, body in raw_themes.items():
        where = f"themes.{slug}"
        if not isinstance(body, dict):
            raise TaxonomyError(f"{taxonomy.name}: [{where}] must be a table")
        for key in ("label", "description", "empact", "uk_soc", "terms"):
            if key not in body:
                raise TaxonomyError(f"{taxonomy.name}: [{where}] lacks the key {key!r}")
        _known(taxonomy, where, body, TAXONOMY_KEYS["theme"])
        label, description, empact, uk_soc = (_get(taxonomy, body, where, k, "text", "") for k in ("label", "description", "empact", "uk_soc"))
        terms = _weighted(taxonomy, f"{where}.terms", body["terms"])
        if not terms:
            raise TaxonomyError(f"{taxonomy.name}: [{where}.terms] has no terms: the theme could never be tagged")
        negative = _weighted(taxonomy, f"{where}.negative", body.get("negative", {}))
        umbrella = _get(taxonomy, body, where, "umbrella", "table", {})
        _known(taxonomy, f"{where}.umbrella", umbrella, TAXONOMY_KEYS["umbrella"])
        umbrella_terms = _get(taxonomy, umbrella, f"{where}.umbrella", "terms", "strings", [])
        after = _get(taxonomy, umbrella, f"{where}.umbrella", "after_themes", "whole", 0)
        unknown = [t for t in umbrella_terms if t not in terms]
        if unknown:
            raise TaxonomyError(f"{taxonomy.name}: [{where}.umbrella] terms not among the theme's terms: {', '.join(unknown)}")
        threshold = _get(taxonomy, body, where, "threshold", "number", default_threshold)
        themes[slug] = Theme(slug, label, description, empact, uk_soc, float(threshold), frozenset(umbrella_terms), after)
        for section, weighted in (("terms", terms), ("negative", negative)):
            for term, weight in weighted.items():
                theme_patterns.append(_compile(taxonomy, f"{where}.{section}", term, ("theme", slug, term, weight)))

    country_patterns: list[Pattern] = []
    ctr_meta = _get(countries, ctr, "", "meta", "table", {})
    case_sensitive = set(_get(countries, ctr_meta, "meta", "case_sensitive", "strings", [])) | set(
        _get(countries, ctr, "", "case_sensitive", "strings", []))
    for code, body in _get(countries, ctr, "", "countries", "table", {}).items():
        if not isinstance(body, dict):
            raise TaxonomyError(f"{countries.name}: [countries.{code}] must be a table")
        cities = _get(countries, _get(countries, ctr, "", "cities", "table", {}), "cities", code, "strings", [])
        for kind in ("names", "adjectives", "agencies", "cities"):
            listed = cities if kind == "cities" else _get(countries, body, f"countries.{code}", kind, "strings", [])
            for term in listed:
                # Entries are literal names: their punctuation only separates words.
                pattern_text = " ".join(words(term))
                cs = term in case_sensitive
                if not pattern_text:
                    continue
                country_patterns.append(_compile(countries, f"countries.{code}.{kind}", pattern_text, ("country", code, kind), cs))

    coop = _get(cues, cue, "", "cooperation", "table", {})
    coop_patterns = [_compile(cues, "cooperation", t, ("coop", t, w)) for t, w in _weighted(cues, "cooperation.terms", coop.get("terms", {})).items()]
    types = _get(cues, cue, "", "types", "table", {})
    type_patterns = []
    for name in ANNOUNCEMENT_TYPES:  # "other" too: appeals, campaigns, events, appointments
        terms = _get(cues, _get(cues, types, "types", name, "table", {}), f"types.{name}", "terms", "table", {})
        for term, weight in _weighted(cues, f"types.{name}.terms", terms).items():
            type_patterns.append(_compile(cues, f"types.{name}", term, ("type", name, term, weight)))
    appeals = _get(cues, _get(cues, cue, "", "appeals", "table", {}), "appeals", "terms", "strings", [])
    appeal_patterns = [_compile(cues, "appeals", t, ("appeal", t)) for t in appeals]
    actors = _get(cues, cue, "", "actors", "table", {})

    def folded(key: str) -> list[str]:
        return [fold(w) for w in _get(cues, actors, "actors", key, "strings", [])]

    headings = _get(cues, _get(cues, cue, "", "page_tail", "table", {}), "page_tail", "headings", "strings", [])
    roles = _roles(cues, _get(cues, cue, "", "roles", "table", {}), _get(countries, ctr_meta, "meta", "ambiguous", "strings", []),
                   _get(cues, coop, "cooperation", "max_partners", "whole", 4))
    # default=str: TOML dates and times, which JSON has not.
    digest = hashlib.sha256(json.dumps([tax, ctr, cue], sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
    return Vocabulary(
        version=f"tx-{digest[:12]}",
        themes=themes,
        title_weight=float(_get(taxonomy, meta, "meta", "title_weight", "number", 3.0)),
        lead_weight=float(_get(taxonomy, meta, "meta", "lead_weight", "number", 2.0)),
        matcher=Matcher([*theme_patterns, *country_patterns, *coop_patterns, *type_patterns, *appeal_patterns]),
        type_threshold=float(_get(cues, types, "types", "threshold", "number", 2.0)),
        type_negations=frozenset(fold(w) for w in _get(cues, types, "types", "negations", "strings", [])),
        negation_window=_get(cues, types, "types", "negation_window", "whole", 0),
        origin_before=frozenset(tuple(fold(w) for w in words(p)) for p in _get(cues, actors, "actors", "origin_before", "strings", [])),
        origin_after=frozenset(folded("origin_after")),
        nationality=frozenset(folded("nationality")),
        nationality_window=_get(cues, actors, "actors", "nationality_window", "whole", 0),
        nationality_between=frozenset(folded("nationality_between")),
        tail_headings=frozenset(tuple(fold(w) for w in words(h)) for h in headings),
        roles=roles,
        long_words=float(_get(taxonomy, meta, "meta", "long_document_words", "number", 1e9)),
        long_power=float(_get(taxonomy, meta, "meta", "long_document_power", "number", 0.5)),
        languages=frozenset(_get(taxonomy, meta, "meta", "languages", "strings", ["en", "nl"])),
        listing_themes=_get(taxonomy, meta, "meta", "listing_themes", "whole", 1_000_000),
        listing_weight=float(_get(taxonomy, meta, "meta", "listing_weight", "number", 1.0)),
    )


def _by_last_word(phrases: list[str]) -> dict[str, tuple[tuple[str, ...], ...]]:
    out: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for phrase in phrases:
        folded = tuple(fold(w) for w in words(phrase))
        if folded:
            out[folded[-1]].append(folded)
    return {last: tuple(cues) for last, cues in out.items()}


def _roles(path: Path, table: dict, ambiguous: list[str], max_partners: int) -> Roles:
    def wordset(key: str) -> WordSet:
        return WordSet.of(_get(path, table, "roles", key, "strings", []))

    return Roles(
        authority_after=wordset("authority_after"),
        authority_modifiers=wordset("authority_modifiers"),
        authority_window=_get(path, table, "roles", "authority_window", "whole", 3),
        authority_before=_by_last_word(_get(path, table, "roles", "authority_before", "strings", [])),
        place_before=wordset("place_before"),
        place_fillers=wordset("place_fillers"),
        actions=wordset("actions"),
        abroad_actions=wordset("abroad_actions"),
        transfers=wordset("transfers"),
        action_window=_get(path, table, "roles", "action_window", "whole", 8),
        conjunctions=wordset("conjunctions"),
        of_words=wordset("of_words"),
        not_acting_before=wordset("not_acting_before"),
        ambiguous=frozenset(" ".join(fold(w) for w in words(a)) for a in ambiguous),
        max_partners=max_partners,
    )


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    """The vocabulary in use: the files beside this module, or a taxonomy file of the
    user's own named by SOCWATCH_TAXONOMY (countries and cues stay the shipped ones)."""
    own = os.environ.get("SOCWATCH_TAXONOMY")
    return load_vocabulary(Path(own)) if own else load_vocabulary()


def _position_weight(vocab: Vocabulary, index: int, title_len: int, menu: frozenset[int] = frozenset()) -> float:
    if index < title_len:
        return vocab.title_weight
    if index in menu:
        return MENU_WEIGHT
    if index < title_len + LEAD_WORDS:
        return vocab.lead_weight
    return 1.0


def _body_words(text: str, offset: int, tail: frozenset[tuple[str, ...]] = frozenset()) -> tuple[list[str], frozenset[int], list[str]]:
    """The words of the text up to a line that opens a page's tail ("Related posts", "Lees
    ook": links to other announcements, not this one's content) in the second half of the
    text (earlier, such a line is more likely a box inside the article); the indexes of those on
    menu-like lines, short lines with no sentence punctuation as page navigation leaves in
    scraped text ("Human Trafficking Unit" in a prosecutor's menu is no evidence of what the
    announcement is about); and the lines read."""
    out: list[str] = []
    menu: set[int] = set()
    lines: list[str] = []
    tail_len = max(map(len, tail), default=0)
    half, read = len(text) / 2, 0
    for line in text.split("\n"):
        line_words = words(line)
        read += len(line) + 1
        if len(line_words) <= max(MENU_LINE_WORDS, tail_len):
            if read > half and tail and tuple(fold(w) for w in line_words) in tail:
                break
            if len(line_words) <= MENU_LINE_WORDS and not line.rstrip().endswith((".", "!", "?", ":", ";")):
                menu.update(range(offset + len(out), offset + len(out) + len(line_words)))
        out.extend(line_words)
        lines.append(line)
    return out, frozenset(menu), lines


def _appeals(matches: list[Match], spans: list[Sentence], sentence_of: list[int]) -> frozenset[int]:
    """The indexes of the words in the text's sentences that appeal to the public ("call 101",
    "meld het anoniem"): the stock paragraph asking readers to report crime names crimes in
    general, not what the announcement is about."""
    quiet: set[int] = set()
    for n in {sentence_of[m.start] for m in matches}:
        if spans[n].where == "text":
            quiet.update(range(spans[n].first, spans[n].last))
    return frozenset(quiet)


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
    vocab = vocab or default_vocabulary()
    title_words = words(title)
    title_len = len(title_words)
    body, menu, lines = _body_words(text, title_len, vocab.tail_headings)
    original = title_words + body
    folded = list(map(fold, original))
    found: dict[str, list[Match]] = defaultdict(list)
    for m in vocab.matcher.find(original, folded):
        found[m.key[0]].append(m)
    spans = sentences(title, lines, title_len)
    sentence_of = sentence_index(spans, len(original))
    if found["appeal"]:
        menu = menu | _appeals(found["appeal"], spans, sentence_of)

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
        at = weight * _position_weight(vocab, m.start, title_len, menu)
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
    named = _longest(found["country"])
    country_words = frozenset(i for m in named for i in range(m.start, m.end))  # for _is_origin
    coop = [m for m in found["coop"] if m.key[2] > 0]
    multilateral = [m for m in found["coop"] if m.key[2] < 0]
    countries, links = find_actors(vocab.roles, original, folded, named,
                                   lambda a, b: _is_origin(vocab, folded, a, b, country_words),
                                   coop, multilateral, spans, sentence_of, publisher_country, menu,
                                   _is_transcript(lines))
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

    return Tags(article_id=article_id, taxonomy_version=vocab.version, themes=tuple(themes), countries=countries,
                dyads=dyads, bilateral=bilateral, announcement_type=announcement_type,
                dyad_evidence=tuple((d.relation, d.where, d.start, d.end) for d in links))


def _is_transcript(lines: list[str]) -> bool:
    turns = 0
    for line in lines:
        if line[:1].isupper() and _SPEAKER_TURN.match(line):
            turns += 1
            if turns == TRANSCRIPT_TURNS:
                return True
    return False


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
    for cue in vocab.origin_before:
        n = len(cue)
        if start >= n and tuple(folded[start - n : start]) == cue:
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
    vocab = vocab or default_vocabulary()
    if original_url:
        return replace(classify(article_id, title, text, publisher_country, vocab), basis=f"original {original_url}")
    if not language or language in vocab.languages:
        return classify(article_id, title, text, publisher_country, vocab)
    return Tags(article_id=article_id, taxonomy_version=vocab.version,
                countries=(publisher_country,) if publisher_country else (), basis="no_vocabulary")


def classify_many(rows: list[tuple]) -> list[Tags | tuple[str, str]]:
    """Tag (article_id, title, text, publisher country, language, original url) rows (title
    and text are the original's where there is one): the reclassify pool's unit. An article
    the classifier fails on comes back as (article_id, error), never raising."""
    vocab = default_vocabulary()
    out: list[Tags | tuple[str, str]] = []
    for article_id, title, text, country, language, original_url in rows:
        try:
            out.append(tag(article_id, title or "", text or "", country, language, original_url, vocab))
        except Exception as exc:
            out.append((article_id, internal_error(exc)))
    return out
