"""The vocabulary: what the classifier knows, read from three reviewed data files beside this module.

- `taxonomy.toml`: the SOC themes, each with weighted terms (English and Dutch) and negative
  terms that cancel, a threshold and its mapping to EMPACT and the UK SOC threat categories;
- `countries.toml`: per country its names, adjectives and agencies (English and Dutch);
- `cues.toml`: cooperation cues, origin/nationality cues and announcement-type cues.

The taxonomy version is a hash of the three files' parsed content and of the code of the
rules that read them (RULE_MODULES), so any change to the vocabulary or to how tags are
decided gives a new version, and `reclassify` knows what it has to redo. A vocabulary is
plain data: the command line resolves which taxonomy file is in use (the `taxonomy` setting)
and the stages are handed it, or its path, as an argument.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from schemas.records import ANNOUNCEMENT_TYPES
from transforms.actors import Roles, WordSet
from transforms.facts import facts_vocabulary
from transforms.matcher import Matcher, Pattern, PatternError, compile_pattern, fold, words

HERE = Path(__file__).resolve().parent
TAXONOMY_FILE = HERE / "taxonomy.toml"
COUNTRIES_FILE = HERE / "countries.toml"
CUES_FILE = HERE / "cues.toml"



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
    origin_lengths: tuple[int, ...]  # the lengths of origin_before's cues
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


# The modules whose code decides tags and facts from the vocabulary: an upgrade that changes
# a rule (a new role, another threshold in code) also gives tags of a new version. Any edit
# of them counts, a comment too: reclassify then re-tags once, which costs minutes, where a
# changed rule left unnoticed would leave the warehouse's tags of two kinds.
RULE_MODULES = ("classify.py", "actors.py", "matcher.py", "facts.py", "vocabulary.py")


@cache
def rules_digest(directory: Path = Path(__file__).parent) -> str:
    """A hash of the rule modules' code in `directory` (this package's, by default), line
    endings aside (a checkout with CRLF is the same code); an install without the sources
    falls back to the name of each module only."""
    digest = hashlib.sha256()
    for name in RULE_MODULES:
        try:
            code = (directory / name).read_bytes().replace(b"\r\n", b"\n")
        except OSError:
            code = b""
        digest.update(f"{name}\0{len(code)}\0".encode() + code)
    return digest.hexdigest()


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
    # Names of organisations that hold a country's name and are no authority of it ("Islamic
    # State of Iraq and the Levant"): as the longer match, they hide the country inside.
    for term in _get(countries, ctr_meta, "meta", "not_actors", "strings", []):
        pattern_text = " ".join(words(term))
        if pattern_text:
            country_patterns.append(_compile(countries, "meta.not_actors", pattern_text, ("country", "", "not_actor")))

    coop = _get(cues, cue, "", "cooperation", "table", {})
    coop_patterns = [_compile(cues, "cooperation", t, ("coop", t, w)) for t, w in _weighted(cues, "cooperation.terms", coop.get("terms", {})).items()]
    coop_patterns += [_compile(cues, "cooperation", t, ("worldwide", t))
                      for t in _get(cues, coop, "cooperation", "worldwide", "strings", [])]
    coop_patterns += [_compile(cues, "cooperation", t, ("forum", t))
                      for t in _get(cues, coop, "cooperation", "forums", "strings", [])]
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
    # The facts' vocabulary (facts.toml, agencies.toml) is part of the version: facts are
    # recomputed by `reclassify` like tags.
    facts_digest = facts_vocabulary().digest
    digest = hashlib.sha256(json.dumps([tax, ctr, cue, facts_digest, rules_digest()], sort_keys=True, ensure_ascii=False,
                                       default=str).encode()).hexdigest()
    origin_before = frozenset(tuple(fold(w) for w in words(p)) for p in _get(cues, actors, "actors", "origin_before", "strings", []))
    return Vocabulary(
        version=f"tx-{digest[:12]}",
        themes=themes,
        title_weight=float(_get(taxonomy, meta, "meta", "title_weight", "number", 3.0)),
        lead_weight=float(_get(taxonomy, meta, "meta", "lead_weight", "number", 2.0)),
        matcher=Matcher([*theme_patterns, *country_patterns, *coop_patterns, *type_patterns, *appeal_patterns]),
        type_threshold=float(_get(cues, types, "types", "threshold", "number", 2.0)),
        type_negations=frozenset(fold(w) for w in _get(cues, types, "types", "negations", "strings", [])),
        negation_window=_get(cues, types, "types", "negation_window", "whole", 0),
        origin_before=origin_before,
        origin_lengths=tuple(sorted({len(cue) for cue in origin_before if cue})),
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
        seats_before=wordset("seats_before"),
        actions=wordset("actions"),
        toward=wordset("toward"),
        journeys=wordset("journeys"),
        travellers=wordset("travellers"),
        abroad_actions=wordset("abroad_actions"),
        repression=wordset("repression"),
        transfers=wordset("transfers"),
        action_window=_get(path, table, "roles", "action_window", "whole", 8),
        conjunctions=wordset("conjunctions"),
        of_words=wordset("of_words"),
        not_acting_before=wordset("not_acting_before"),
        meetings=frozenset(_get(path, table, "roles", "meetings", "strings", [])),
        meeting_window=_get(path, table, "roles", "meeting_window", "whole", 6),
        visits=frozenset(_get(path, table, "roles", "visits", "strings", [])),
        spoken_of_before=wordset("spoken_of_before"),
        thanks=wordset("thanks"),
        target_before=_by_last_word(_get(path, table, "roles", "target_before", "strings", [])),
        condemned_deeds=wordset("condemned_deeds"),
        condemned_after=wordset("condemned_after"),
        condemned_window=_get(path, table, "roles", "condemned_window", "whole", 3),
        remit_before=_by_last_word(_get(path, table, "roles", "remit_before", "strings", [])),
        ambiguous=frozenset(" ".join(fold(w) for w in words(a)) for a in ambiguous),
        max_partners=max_partners,
    )


_LOADED: dict[tuple[str, int, int], Vocabulary] = {}


def vocabulary(taxonomy: Path | str | None = None) -> Vocabulary:
    """The vocabulary of `taxonomy` (a taxonomy file of the user's own; countries and cues stay
    the shipped ones), else the shipped one. Loaded once per process and file content: the
    file's identity (path, size, modification time) keys it, so an edited file is read again."""
    path = Path(taxonomy).expanduser().resolve() if taxonomy else TAXONOMY_FILE
    try:
        stat = path.stat()
    except OSError as exc:
        raise TaxonomyError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _LOADED:
        _LOADED.clear()  # one vocabulary in use at a time
        _LOADED[key] = load_vocabulary(path) if taxonomy else load_vocabulary()
    return _LOADED[key]
