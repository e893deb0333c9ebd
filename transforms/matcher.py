"""A compiled multi-pattern matcher over words, for vocabularies written as data.

Pattern syntax (the vocabulary files use it): words separated by single spaces; in the text
the words may be separated by any run of spaces or punctuation. A `*` at the end of a word
matches any further letters (inflections, Dutch compounds: `witwas*`), a `*` at the start
any letters before it (`*smokkel`). Matching is case-insensitive and diacritic-folded
(`cocaïne` = `cocaine`) unless a pattern is marked case-sensitive.

The matcher is compiled once: every pattern is indexed by the form of its first word, and
each distinct word of a text is resolved to its candidate patterns once (memoised), so a
document costs about one dictionary look-up per word, whatever the size of the vocabulary.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from typing import NamedTuple

_WORD = re.compile(r"\w+")
_PATTERN_WORD = re.compile(r"^\*?\w+\*?$")


class PatternError(ValueError):
    """A pattern that is not of the vocabulary syntax."""


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """Lower-case and strip diacritics: 'Cocaïne' -> 'cocaine'."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_FOLDED: dict[str, str] = {}  # fold's results for fold_all, kept to FOLDED_WORDS words
FOLDED_WORDS = 500_000


def fold_all(some: Sequence[str]) -> list[str]:
    """fold of each word: a document's words, looked up at C speed where folded before."""
    out = list(map(_FOLDED.get, some))
    if None in out:
        if len(_FOLDED) > FOLDED_WORDS:
            _FOLDED.clear()
        for i, word in enumerate(out):
            if word is None:
                out[i] = _FOLDED[some[i]] = fold(some[i])
    return out


def words(text: str, start: int = 0, end: int = sys.maxsize) -> list[str]:
    """The words of `text` (of text[start:end], where both ends lie between words; no copy
    made) in their original case."""
    return _WORD.findall(text, start, end)


@dataclass(frozen=True, slots=True)
class Piece:
    kind: str  # exact | prefix | suffix | infix
    literal: str

    def matches(self, word: str) -> bool:
        if self.kind == "exact":
            return word == self.literal
        if self.kind == "prefix":
            return word.startswith(self.literal)
        if self.kind == "suffix":
            return word.endswith(self.literal)
        return self.literal in word


@dataclass(frozen=True, slots=True)
class Pattern:
    key: object  # what the caller wants back for a match (e.g. (theme, term))
    text: str  # the pattern as written
    pieces: tuple[Piece, ...]
    case_sensitive: bool = False


def compile_pattern(text: str, key: object, case_sensitive: bool = False) -> Pattern:
    raw = text.strip().split()
    if not raw:
        raise PatternError("empty pattern")
    pieces = []
    for token in raw:
        if not _PATTERN_WORD.match(token):
            raise PatternError(f"bad word {token!r} in pattern {text!r}: use letters, digits and a leading or trailing '*'")
        lead, trail = token.startswith("*"), token.endswith("*")
        literal = token.strip("*")
        literal = literal if case_sensitive else fold(literal)
        kind = {(False, False): "exact", (False, True): "prefix", (True, False): "suffix", (True, True): "infix"}[(lead, trail)]
        pieces.append(Piece(kind, literal))
    return Pattern(key=key, text=text.strip(), pieces=tuple(pieces), case_sensitive=case_sensitive)


class Match(NamedTuple):
    key: object
    start: int  # index of the first matched word
    end: int  # index after the last matched word


MEMO_WORDS = 500_000  # distinct words whose plans are kept; past it the memo starts afresh


class Matcher:
    """Finds every occurrence of every pattern in a list of words."""

    def __init__(self, patterns: Iterable[Pattern]):
        self.patterns = tuple(patterns)
        self._exact: dict[str, list[Pattern]] = {}
        self._prefix: dict[str, list[Pattern]] = {}
        self._suffix: dict[str, list[Pattern]] = {}
        self._infix: list[Pattern] = []
        # Phrases of two exact first words ("in samenwerking met") are looked up by that pair,
        # so that a common first word ("in", "if") does not make every occurrence a candidate.
        self._pairs: dict[tuple[str, str], list[Pattern]] = {}
        for pattern in self.patterns:
            first = pattern.pieces[0]
            if len(pattern.pieces) > 1 and first.kind == "exact" and pattern.pieces[1].kind == "exact":
                self._pairs.setdefault((fold(first.literal), fold(pattern.pieces[1].literal)), []).append(pattern)
                continue
            table = {"exact": self._exact, "prefix": self._prefix, "suffix": self._suffix}.get(first.kind)
            if table is None:
                self._infix.append(pattern)
            else:
                table.setdefault(fold(first.literal), []).append(pattern)
        self._prefix_lengths = sorted({len(k) for k in self._prefix})
        self._suffix_lengths = sorted({len(k) for k in self._suffix})
        self._pair_firsts = frozenset(first for first, _ in self._pairs)
        # Each word seen, folded, with its plan: per candidate pattern in order, its key and
        # what is left to check (None where the first word was all there was to match).
        self._plans: dict[str, tuple[tuple[object, Pattern | None], ...]] = {}
        # The words worth a look: those with a plan, and the first words of pairs.
        self._live: set[str] = set(self._pair_firsts)

    def _candidates(self, word: str) -> tuple[Pattern, ...]:
        """Patterns whose first piece matches `word` (folded; case checked later)."""
        hits: list[Pattern] = list(self._exact.get(word, ()))
        n = len(word)
        for length in self._prefix_lengths:
            if length > n:
                break
            hits.extend(self._prefix.get(word[:length], ()))
        for length in self._suffix_lengths:
            if length > n:
                break
            hits.extend(self._suffix.get(word[n - length :], ()))
        hits.extend(p for p in self._infix if fold(p.pieces[0].literal) in word)
        return tuple(hits)

    def _learn(self, new_words: Iterable[str], plans: dict, live: set[str]) -> None:
        """Plan the words not seen before: a pattern of one word, not case-sensitive, matches
        wherever its word is (the look-up matched it); any other is checked in place."""
        for word in new_words:
            plan = tuple((p.key, None if len(p.pieces) == 1 and not p.case_sensitive else p)
                         for p in self._candidates(word))
            plans[word] = plan
            if plan:
                live.add(word)

    def find(self, original: Sequence[str], folded: Sequence[str] | None = None) -> list[Match]:
        """All matches in a text given as words (`folded` = their folded forms, if at hand),
        by position, and at one position in the vocabulary's order."""
        if folded is None:
            folded = fold_all(original)
        plans, live = self._plans, self._live
        new_words = set(folded).difference(plans)
        if new_words:
            if len(plans) + len(new_words) > MEMO_WORDS:
                # A bounded memo: start afresh, with new objects, so that a call in another
                # thread goes on with the ones it holds (which only ever grow).
                plans, live = {}, set(self._pair_firsts)
                self._plans, self._live = plans, live
                new_words = set(folded)
            self._learn(new_words, plans, live)
        out: list[Match] = []
        n = len(folded)
        pairs, pair_firsts = self._pairs, self._pair_firsts
        # Only the words with a plan are looked at, found at C speed: most words have none.
        for i in compress(range(n), map(live.__contains__, folded)):
            word = folded[i]
            plan = plans[word]
            if word in pair_firsts and i + 1 < n:
                paired = pairs.get((word, folded[i + 1]))
                if paired:
                    plan = (*plan, *((p.key, p) for p in paired))
            for key, pattern in plan:
                if pattern is None:
                    out.append(Match(key, i, i + 1))
                    continue
                pieces = pattern.pieces
                end = i + len(pieces)
                if end > n:
                    continue
                if pattern.case_sensitive:
                    if not pieces[0].matches(original[i]):
                        continue
                    source = original
                else:
                    source = folded
                if all(pieces[k].matches(source[i + k]) for k in range(1, len(pieces))):
                    out.append(Match(key, i, end))
        return out
