"""Events: the announcements that report one real-world occurrence, linked across sources
and languages, explainably.

Linking runs in the load's transaction, for the articles of the batch (a run's, or
reclassify's): a killed run neither leaves a batch without its events nor half-linked.

1. Blocking: the candidates of an article are those published within WINDOW_DAYS of it that
   share a country acting with it. A candidate query reads a date range of the warehouse (its
   zone maps skip the rest), so an article's linking cost follows how much is published in a
   window, not how much the warehouse holds.
2. Evidence, each with a weight (EVIDENCE): a shared named operation; equal facts (the same
   kilograms of a substance, the same amount of money, the same count of arrests or
   firearms); shared agencies; the same partner pair; overlapping themes; in one language, a
   near-duplicate text (SimHash) or a like headline. Facts, names, numbers and countries are
   the same in every language: they link a Dutch release to an English one without translation.
   What many articles of the block share tells little of one event: a fact of more than FEW
   of them (two arrests, a round million) weighs as a common fact, headlines alike only in
   words many headlines have ("Department Press Briefing - August 10, 2021") as a series, and
   a partner pair of more than FEW of them (a prosecutor's weekly cases with Mexico) as a
   pair alone, not as the pair's one operation.
3. A pair links when its score reaches LINK_SCORE and one piece of its evidence is an anchor
   (an operation, a fact, a partner pair with the same type, a near-duplicate text, a like
   headline), or a rare word of both headlines comes with a common fact: themes, agencies and
   common figures alone never link two releases.
4. An event is a connected group of linked articles (a lone article is one); its id is a hash
   of its first report's article id, so rerunning over the same articles gives the same
   events, and new articles join the event of what they link to.

Each profile records the rules it was linked under (LINK_RULES, a hash of this module's
code). When the rules change, `reclassify` links the stored articles again from their
profiles (`relink`, oldest first, a batch at a time), as it re-tags them when the
vocabulary changes: a warehouse never holds events of two kinds of rules unnoticed.
"""

from __future__ import annotations

import functools
import hashlib
import math
import operator
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from warehouse.db import register

WINDOW_DAYS = 30  # a follow-up comes within a few weeks (arrests after an appeal, a second suspect)
LINK_SCORE = 4.0
NEAR_DUPLICATE = 0.95  # SimHash similarity (shared bits of 64) of a copy: templated releases share 0.85-0.9
LIKE_TITLES = 0.5  # weighted Jaccard of the headlines' words, each weighing its rarity in the block
POINT_DAYS = 2  # a call or a meeting is one day's event: two of them further apart are two
# ... save a trip, which its headlines announce days before and during it ("Travel to Bali
# and Bangkok" on the 5th, "Travel to Bali, Bangkok, and Tokyo" on the 10th): TRIP_DAYS apart,
# where the headlines share two rare words (not two officials' travels to one country).
TRIP_DAYS = 7
TRIP_WORDS = frozenset({"travel", "travels", "trip", "visit", "visits", "reis", "bezoek", "werkbezoek", "staatsbezoek"})
RARE_DF = 2  # a headline word in at most this many headlines of the block is a name of the event ("Kuip", "Drents")
MAX_NAMES = 2  # rare words shared by both headlines counted at most this many times
# A fact, a headline word or a partner pair of more than this many articles of a block belongs to
# the weeks, not to one event: two arrests, a round million, a programme's running total quoted
# in every release; a daily briefing's "Department Press Briefing - August 10, 2021"; MX-US in a
# prosecutor's cartel cases (a call or a meeting of the pair is a point event: it still links).
FEW = 4
MIN_AMOUNT = 1000  # smaller sums (fees, fines of a few hundred) are too common to tell two releases apart
EVIDENCE = {  # weight of each kind of evidence, and whether it anchors a link
    "operation": (4.0, True),
    "fact": (3.0, True),
    "common fact": (1.0, False),  # see FEW
    "near-duplicate text": (5.0, True),
    "title": (2.5, True),
    "series": (1.0, False),  # like headlines whose every shared word is common (see FEW): a series
    "names": (2.5, True),  # each of two or more rare headline words
    "name": (1.5, False),  # one rare headline word: a town alone is weak
    "dyad and type": (2.5, True),
    # The same partners' call or meeting within POINT_DAYS: a point event, which two partners
    # seldom hold twice in two days. Partners' releases of one dialogue in two languages share
    # little else (no operation, no amounts, no headline words), so with their themes it links.
    "one meeting": (3.0, True),
    "dyad": (1.0, False),
    "agencies": (1.0, False),
    "themes": (1.0, False),
    "type": (0.5, False),
    # Against: both name their operation and the names differ. A publisher's template
    # ("Operation X: network dismantled with Colombia") repeats headline, pair and type over
    # different operations; the name tells them apart.
    "other operation": (-5.0, False),
    # Against: the same partners' calls or meetings (a point event) more than POINT_DAYS apart.
    "another day": (-5.0, False),
    # Against: kinds of occurrence that one event is not both of (a bill and a seizure).
    "other kind": (-5.0, False),
}
# Announcement types of one kind of occurrence; two releases of one event are of one kind
# (a dialogue may be typed a meeting by one partner and an agreement by the other), save the
# loose types (statement, other) that any release may have.
KINDS = {"dialogue_meeting": "diplomatic", "agreement": "diplomatic", "operation_result": "operational",
         "policy_legislation": "policy", "funding": "policy"}
MAX_AGENCIES = 2  # shared agencies counted at most this many times
MAX_CANDIDATES = 64  # candidates of an article weighed in full (those sharing the most keys with it)
SHORTLIST_MAX = 100  # a batch of at most this many articles has its candidates counted in the database
MAX_LINKS = 12  # an article keeps its strongest links to this many others: enough to join its event, bounded


def _rules_version() -> str:
    """A hash of this module's code, line endings aside: any edit of it, a comment too, links
    the stored articles again once (reclassify: about 2 ms an article, 370 s of flow for
    100,000 published 550 a day), where a changed rule left unnoticed would leave events of two
    kinds."""
    try:
        code = Path(__file__).read_bytes().replace(b"\r\n", b"\n")
    except OSError:  # an install without the sources
        code = b"warehouse.events"
    return "lr-" + hashlib.sha256(code).hexdigest()[:12]


LINK_RULES = _rules_version()
# Relinking (reclassify): linked again under LINK_RULES, its event not made yet. The events are
# made after the last batch's links, each linked group once (`regroup`): made batch by batch,
# every batch walked again the whole group of each article it linked, and groups grow as the
# warehouse does.
UNGROUPED = LINK_RULES + "/ungrouped"


def fold(word: str) -> str:
    """Lower case without diacritics ("Cocaïne" -> "cocaine"), as the vocabulary folds words."""
    if word.isascii():
        return word.lower()
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


_WORD = re.compile(r"\w+")
_STOP = frozenset(fold(w) for w in (
    "the a an and of in on for to with at by from as is are was were be has have de het een en van in op voor met bij "
    "door aan uit om te naar over is zijn wordt worden na").split())


@dataclass
class Profile:
    article_id: str
    published: datetime
    source: str
    language: str | None
    title_words: frozenset[str]
    countries: frozenset[str]
    themes: frozenset[str]
    dyads: frozenset[str]
    type: str
    operations: frozenset[str]
    agencies: frozenset[str]
    facts: frozenset[str]
    simhash: int | None


@contextmanager
def _frame_relation(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> Iterator[str]:
    register(con, name, frame)
    try:
        yield name
    finally:
        con.unregister(name)


_SEP = "\x1f"  # the unit separator: in no word, key or label


def _text_lists(lists: Sequence[Sequence[str]], name: str = "") -> pl.Series:
    """A List(Utf8) column of `lists`, made in polars from one joined text a row: polars makes
    such a column from Python lists a few times slower (a batch's profiles have seven)."""
    series = pl.Series(name, [_SEP.join(x) for x in lists], dtype=pl.Utf8)
    series = pl.select(pl.when(series == "").then(pl.lit([], dtype=pl.List(pl.Utf8)))
                       .otherwise(series.str.split(_SEP)).alias(name)).to_series()
    if series.list.len().to_list() != [len(x) for x in lists]:  # a separator or an empty text in a list
        series = pl.Series(name, [list(x) for x in lists], dtype=pl.List(pl.Utf8))
    return series


def _id_relation(con: duckdb.DuckDBPyConnection, name: str, ids: Iterable[str]):
    """`ids` as the relation `name` (one article_id column), so that queries join it by hash
    instead of testing a list row by row (list_contains costs rows x list)."""
    return _frame_relation(con, name, pl.DataFrame({"article_id": sorted(set(ids))}, schema={"article_id": pl.Utf8}))


# SimHash counts, for each of a 64-bit hash's bits, the tokens that have it. Each token's hash
# is spread into one integer of 64 lanes of _LANE bits (bit i of the hash at the bottom of
# lane i), so that adding the tokens' spread integers counts all 64 bits at once, in C.
_LANE = 16
_CHUNK = (1 << _LANE) - 1  # tokens added before a lane could overflow
_SPREAD_BYTE = [sum(1 << (_LANE * j) for j in range(8) if b >> j & 1) for b in range(256)]


class _Spread(dict):
    """token -> its hash spread into lanes, made on first use (bounded: cleared when full)."""

    def __missing__(self, token: str) -> int:
        if len(self) >= 1 << 15:
            self.clear()
        h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big")
        spread = 0
        for k in range(8):
            spread |= _SPREAD_BYTE[(h >> (8 * k)) & 0xFF] << (_LANE * 8 * k)
        self[token] = spread
        return spread


_SPREADS = _Spread()


def simhash(text: str) -> int:
    """trafilatura's 64-bit SimHash of `text` (the same value as its `Simhash(text).hash`:
    its tokens, each hashed with BLAKE2b; a bit is set where at least half the tokens have it),
    counted a few times faster: the tokens' hashes, spread into lanes, are summed as integers.
    trafilatura is imported here, by the first changed text: a run that changes nothing does
    not import it into the command's process (its pages are read in the extraction pool)."""
    from trafilatura.deduplication import sample_tokens

    tokens = sample_tokens(text or "", 64)
    counts = [0] * 64
    spread = _SPREADS.__getitem__
    for lo in range(0, len(tokens), _CHUNK):
        total = sum(map(spread, tokens[lo : lo + _CHUNK]))
        for i in range(64):
            counts[i] += (total >> (_LANE * i)) & _CHUNK
    out = 0
    for i, count in enumerate(counts):
        if 2 * count >= len(tokens):
            out |= 1 << i
    return out


def _articles_sql(ids_relation: str) -> str:
    """The articles of a batch, joined on their one-column key, which DuckDB looks up in the
    key's index: the cost follows the batch, not the table (a semi-join on a child table's
    composite key scans the table)."""
    return f"""
SELECT a.article_id, coalesce(a.published_at, a.first_seen_at), a.source, a.language,
       coalesce(a.original_title, a.title), a.content_hash, coalesce(a.original_text, a.text)
FROM articles a JOIN {ids_relation} USING (article_id)
ORDER BY a.article_id
"""


_RELINKED = " AND link_rules IN ($rules, $ungrouped)"  # relinking: only candidates linked under these rules


def _block(ids_relation: str, relinking: bool = False) -> str:
    """The stored profiles a batch (`ids_relation`) is blocked with: published within the window
    of it, sharing a country with it, not of it; when `relinking`, only those already linked
    under the current rules ($rules), as if the articles were loaded again oldest first."""
    return f"""event_profiles
WHERE published_at BETWEEN $lo AND $hi AND list_has_any(countries, string_split($countries, ','))
  AND article_id NOT IN (SELECT article_id FROM {ids_relation}){_RELINKED if relinking else ""}"""


def _shortlist_sql(ids_relation: str, keys_relation: str, relinking: bool = False) -> str:
    """The block of a batch (the stored profiles published within the window of it that share
    a country with it; profiles are appended as articles come, roughly in date order, so the
    range's zone maps skip most of the table), its anchor keys made in the database (see
    _keys), and for each article of the batch (its keys, time and countries in
    `keys_relation`: one row per article, its keys a list) the MAX_CANDIDATES stored profiles
    within the window of it and sharing a country with it that share the most keys with it,
    with the count; a headline word in more headlines than `common` (of the block and the
    batch), or a fact of more than FEW of its articles, anchors nothing alone and is no key.
    Only the shortlist's profiles reach Python, each once, with the articles whose shortlist it
    is on and how many keys it shares with each."""
    return f"""
WITH block AS (SELECT article_id, epoch_us(published_at) AS at_us, countries, operations, facts, dyads, title_words, simhash
               FROM {_block(ids_relation, relinking)}),
keys AS (
    SELECT article_id, at_us, countries, 'o:' || unnest(operations) AS k FROM block
    UNION ALL SELECT article_id, at_us, countries, 'f:' || unnest(facts) FROM block
    UNION ALL SELECT article_id, at_us, countries, 'd:' || unnest(dyads) FROM block
    UNION ALL SELECT article_id, at_us, countries, 'w:' || unnest(title_words) FROM block
    UNION ALL SELECT article_id, at_us, countries, 'b' || i || ':' || ((simhash >> (16 * i)) & 65535) FROM block, range(4) r(i)
    WHERE simhash IS NOT NULL),
q AS (SELECT article_id, at_us, countries, unnest(keys) AS k FROM {keys_relation}),
batch_df AS (SELECT k, count(*) AS n FROM q GROUP BY k),
common AS (SELECT k FROM keys JOIN batch_df USING (k) WHERE k LIKE 'w:%' OR k LIKE 'f:%' GROUP BY k, batch_df.n
           HAVING count(*) + batch_df.n > CASE WHEN k LIKE 'f:%' THEN {FEW} ELSE greatest(200, (SELECT count(*) FROM block) // 20) END),
shared AS (SELECT q.article_id AS a, keys.article_id AS b, count(*) AS n
           FROM q JOIN keys USING (k)
           WHERE k NOT IN (SELECT k FROM common) AND abs(keys.at_us - q.at_us) <= $window_us
             AND list_has_any(keys.countries, q.countries)
           GROUP BY q.article_id, keys.article_id
           QUALIFY row_number() OVER (PARTITION BY a ORDER BY n DESC, b) <= {MAX_CANDIDATES}),
listed AS (SELECT b, list(a ORDER BY a) AS on_lists, list(n ORDER BY a) AS shared_keys FROM shared GROUP BY b)
SELECT s.on_lists, s.shared_keys, p.article_id, epoch_us(p.published_at), p.source, p.language, p.title_words, p.countries,
       p.themes, p.dyads, p.type, p.operations, p.agencies, p.facts, p.simhash
FROM listed s JOIN event_profiles p ON p.article_id = s.b
"""


# A stored profile's columns, in the order _stored reads them.
_STORED_COLUMNS = ("article_id, epoch_us(published_at), source, language, title_words, countries, themes, dyads, type, "
                   "operations, agencies, facts, simhash")


def _block_sql(ids_relation: str, relinking: bool = False) -> str:
    """The block's profiles, whole."""
    return f"SELECT {_STORED_COLUMNS} FROM {_block(ids_relation, relinking)}"


def _block_counts_sql(ids_relation: str, keys_relation: str, relinking: bool = False) -> str:
    """One row: how many articles the block has; of the headline words, facts and partner pairs
    in `keys_relation` (as _key_text makes them keys: "w:...", "f:...", "d:..."), those its
    articles have, and how many have each."""
    return f"""
WITH block AS (SELECT title_words, facts, dyads FROM {_block(ids_relation, relinking)}),
counted AS (SELECT k, count(*) AS n
            FROM (SELECT 'w:' || unnest(title_words) AS k FROM block UNION ALL SELECT 'f:' || unnest(facts) FROM block
                  UNION ALL SELECT 'd:' || unnest(dyads) FROM block) JOIN {keys_relation} USING (k) GROUP BY k)
SELECT (SELECT count(*) FROM block), (SELECT coalesce(list(k ORDER BY k), []) FROM counted),
       (SELECT coalesce(list(n ORDER BY k), []) FROM counted)
"""


_PROFILE_COLUMNS = {"article_id": pl.Utf8, "content_hash": pl.Utf8, "simhash": pl.UInt64, "published_at": pl.Datetime("us", "UTC"),
                    "source": pl.Utf8, "language": pl.Utf8, "title_words": pl.List(pl.Utf8), "countries": pl.List(pl.Utf8),
                    "themes": pl.List(pl.Utf8), "dyads": pl.List(pl.Utf8), "type": pl.Utf8, "operations": pl.List(pl.Utf8),
                    "agencies": pl.List(pl.Utf8), "facts": pl.List(pl.Utf8), "link_rules": pl.Utf8}


def fact_key(kind: str, subject: str | None, value: float | None) -> tuple[str, str, str]:
    """A fact as profiles take it: (kind, subject, value rounded to 0.1 as text)."""
    return kind, subject or "", "" if value is None else str(round(value, 1))


def _tags_by_article(frames: Mapping[str, pl.DataFrame], ids: set[str]) -> dict[str, dict[str, list]]:
    """The batch's tags as they are being written (the load's frames), per article: no tag
    table is read back."""
    out: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))

    def rows(table: str, *columns: str) -> Iterable[tuple]:
        frame = frames.get(table)
        if frame is None or not frame.height:
            return ()
        return frame.select(columns).iter_rows()

    for a_id, country in rows("article_countries", "article_id", "country"):
        out[a_id]["countries"].append(country)
    for a_id, theme in rows("article_themes", "article_id", "theme"):
        out[a_id]["themes"].append(theme)
    for a_id, x, y in rows("article_dyads", "article_id", "country_a", "country_b"):
        out[a_id]["dyads"].append(f"{x}-{y}")
    for a_id, kind in rows("article_labels", "article_id", "announcement_type"):
        out[a_id]["type"].append(kind)
    for a_id, kind, subject, value in rows("article_facts", "article_id", "kind", "subject", "value"):
        out[a_id]["facts"].append(fact_key(kind, subject, value))
    return {a_id: tags for a_id, tags in out.items() if a_id in ids}


_WRITTEN_COLUMNS = ("article_id", "source", "language", "title", "original_title", "content_hash", "text", "original_text")


def batch_profiles(con: duckdb.DuckDBPyConnection, ids_relation: str, frames: Mapping[str, pl.DataFrame],
                   rules: str | None = LINK_RULES) -> list[Profile]:
    """The profiles of the articles of `ids_relation`, from the tags being written for them
    (`frames`, the load's), stored in event_profiles (a text's SimHash is made again only when
    the text changed) as linked under `rules` (None: to be linked by `relink`)."""
    written = frames.get("articles")
    articles = None
    if written is not None and set(_WRITTEN_COLUMNS) <= set(written.columns):
        # A load's batch: the texts are in the frame being written; only the dates come from
        # the table (an undated article's first_seen_at is the load's stamp, or the stored one).
        dates = dict(con.execute(f"SELECT a.article_id, coalesce(a.published_at, a.first_seen_at) FROM articles a "
                                 f"JOIN {ids_relation} USING (article_id)").fetchall())
        rows = written.select(_WRITTEN_COLUMNS).rows()
        if {r[0] for r in rows} == dates.keys():  # the frame is the batch, no more, no less
            articles = sorted((a_id, dates[a_id], source, language, title if original_title is None else original_title,
                               content_hash, text if original_text is None else original_text)
                              for a_id, source, language, title, original_title, content_hash, text, original_text in rows)
    if articles is None:
        articles = con.execute(_articles_sql(ids_relation)).fetchall()
    ids = {r[0] for r in articles}
    tags = _tags_by_article(frames, ids)
    with _id_relation(con, "batch_event_ids", ids) as relation:
        before = {a_id: (content_hash, sh) for a_id, content_hash, sh in con.execute(
            f"SELECT p.article_id, p.content_hash, p.simhash FROM event_profiles p JOIN {relation} USING (article_id)").fetchall()}
    out, hashes = [], []
    for a_id, published, source, language, title, content_hash, text in articles:
        old_hash, old_simhash = before.get(a_id, (None, None))
        sh = old_simhash if old_hash == content_hash else simhash(text)
        mine = tags.get(a_id, {})
        out.append(profile(a_id, published, source, language, title, mine.get("countries", ()), mine.get("themes", ()),
                           mine.get("dyads", ()), (mine.get("type") or ["other"])[0], mine.get("facts", ()), sh))
        hashes.append(content_hash)
    frame = pl.DataFrame({
        "article_id": [p.article_id for p in out], "content_hash": hashes, "simhash": [p.simhash for p in out],
        "published_at": [p.published for p in out], "source": [p.source for p in out], "language": [p.language for p in out],
        **{name: _text_lists([sorted(getattr(p, name)) for p in out], name)
           for name in ("title_words", "countries", "themes", "dyads", "operations", "agencies", "facts")},
        "type": [p.type for p in out], "link_rules": [rules] * len(out)}, schema=_PROFILE_COLUMNS)
    with _frame_relation(con, "batch_event_profiles", frame) as relation:
        con.execute(f"INSERT OR REPLACE INTO event_profiles BY NAME SELECT * FROM {relation}")
    return out


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_us(when: datetime) -> int:
    return (when - _EPOCH) // timedelta(microseconds=1)


def _stored(rows: Iterable[tuple]) -> list[Profile]:
    """Profiles of stored rows whose time is in epoch microseconds (a time zone per row from
    the database driver costs more than the rest of a candidate)."""
    return [Profile(a_id, _EPOCH + timedelta(microseconds=published), source, language, frozenset(words), frozenset(countries), frozenset(themes),
                    frozenset(dyads), kind, frozenset(operations), frozenset(agencies), frozenset(facts), sh)
            for a_id, published, source, language, words, countries, themes, dyads, kind, operations, agencies, facts, sh
            in rows]


def profile(article_id: str, published: datetime, source: str, language: str | None, title: str | None,
            countries: Iterable[str], themes: Iterable[str], dyads: Iterable[str], kind: str,
            facts: Iterable[tuple[str, str, str]], sh: int | None) -> Profile:
    """What linking knows of an article; `facts` as (kind, subject, value rounded to 0.1 as text)."""
    operations, agencies, values = set(), set(), set()
    for what, subject, value in facts:
        if what == "operation":
            operations.add(fold(subject))
        elif what == "agency":
            agencies.add(subject)
        elif what == "drug" and value or what == "money" and value and float(value) >= MIN_AMOUNT:
            values.add(f"{subject} {value}")
        elif what in ("arrests", "firearms", "ammunition") and value and float(value) >= 2:
            values.add(f"{what} {value}")  # "one arrest" is too common to tell two releases apart
    return Profile(article_id, published, source, language,
                   frozenset(w for w in map(fold, _WORD.findall(title or "")) if w not in _STOP and len(w) > 2),
                   frozenset(countries), frozenset(themes), frozenset(dyads), kind, frozenset(operations),
                   frozenset(agencies), frozenset(values), sh)


def in_block(a: Profile, b: Profile, window: timedelta) -> bool:
    """Blocking: `a` and `b` published within `window` of each other, a country acting in both."""
    return abs(a.published - b.published) <= window and not a.countries.isdisjoint(b.countries)


def linked(a: Profile, b: Profile, rarity: Rarity | None = None) -> tuple[bool, float, list[str]]:
    """Whether blocking makes `a` and `b` candidates (published within WINDOW_DAYS, a country
    acting in both) and their evidence links them; with the score and the evidence."""
    if not in_block(a, b, timedelta(days=WINDOW_DAYS)):
        return False, 0.0, []
    score, why = evidence(a, b, rarity)
    return score >= LINK_SCORE, score, why


class Rarity:
    """How telling a headline word is among the headlines of a block: log(N / documents with
    it), so a publisher's template words ("politie", "aangehouden", "call", "secretary") weigh
    little and names ("Kuip", "Pashinyan", "Drents") much. And which facts are common there."""

    def __init__(self, profiles: Iterable[Profile], n: int = 0, df: Mapping[str, int] | None = None,
                 fact_df: Mapping[str, int] | None = None, dyad_df: Mapping[str, int] | None = None):
        """Over `profiles`, and `n` more articles of which `df` tells how many headlines have each
        word, `fact_df` how many articles each fact and `dyad_df` each partner pair."""
        self.df: Counter[str] = Counter(df or {})
        self.fact_df: Counter[str] = Counter(fact_df or {})
        self.dyad_df: Counter[str] = Counter(dyad_df or {})
        self.n = n
        for p in profiles:
            self.n += 1
            self.df.update(p.title_words)
            self.fact_df.update(p.facts)
            self.dyad_df.update(p.dyads)
        self._weight: dict[str, float] = {}
        self._totals: dict[frozenset[str], float] = {}

    def __call__(self, word: str) -> float:
        weight = self._weight.get(word)
        if weight is None:
            weight = self._weight[word] = math.log((self.n + 1) / (self.df.get(word, 0) + 1)) + 0.1
        return weight

    def total(self, words: frozenset[str]) -> float:
        """The weight of a headline's words, made once per headline: a batch weighs each
        article against dozens of candidates."""
        weight = self._totals.get(words)
        if weight is None:
            weight = self._totals[words] = sum(map(self, words))
        return weight

    def rare(self, word: str) -> bool:
        """A word of at most RARE_DF headlines of a block that has others to compare with."""
        return self.n > 2 * RARE_DF and self.df.get(word, 0) <= RARE_DF and len(word) > 3

    def common_fact(self, value: str) -> bool:
        """A fact of more than FEW articles of the block."""
        return self.fact_df.get(value, 0) > FEW

    def common_dyad(self, pair: str) -> bool:
        """A partner pair of more than FEW articles of the block ("MX-US" in a week of cartel cases)."""
        return self.dyad_df.get(pair, 0) > FEW

    def telling(self, words: Iterable[str]) -> bool:
        """Whether one of `words` is in at most FEW headlines of the block."""
        return any(self.df.get(w, 0) <= FEW for w in words)


def like_titles(a: Profile, b: Profile, rarity: Rarity, shared: frozenset[str]) -> float:
    """Weighted Jaccard of the headlines' words, `shared` their common words."""
    if not a.title_words and not b.title_words:
        return 0.0
    common = sum(map(rarity, shared))
    return common / (rarity.total(a.title_words) + rarity.total(b.title_words) - common)


def evidence(a: Profile, b: Profile, rarity: Rarity | None = None, links_only: bool = False) -> tuple[float, list[str]]:
    """The score of a pair and its evidence, strongest first ("operation: venetic", ...);
    `rarity` weighs headline words (each word weighs 1 without it). With `links_only` a pair
    with no anchor (which cannot link) is left as soon as that is known: (0.0, [])."""
    rarity = rarity or Rarity(())
    found: list[tuple[str, str]] = []  # (kind, label)
    if a.operations and b.operations:  # most articles name no operation: no sets made for them
        for name in sorted(a.operations & b.operations):
            found.append(("operation", f"operation: {name}"))
        if a.operations.isdisjoint(b.operations):
            found.append(("other operation", "other operation: " + ", ".join(sorted(a.operations | b.operations))))
    if a.facts and b.facts:
        for value in sorted(a.facts & b.facts):
            if rarity.common_fact(value):
                found.append(("common fact", f"common fact: {value}"))
            else:
                found.append(("fact", f"fact: {value}"))
    words = a.title_words & b.title_words
    if a.language and a.language == b.language:
        if a.simhash is not None and b.simhash is not None and _similarity(a.simhash, b.simhash) >= NEAR_DUPLICATE:
            found.append(("near-duplicate text", "near-duplicate text"))
        if words and like_titles(a, b, rarity, words) >= LIKE_TITLES:  # no common word: 0
            if rarity.telling(words):
                found.append(("title", "like headlines"))
            else:
                found.append(("series", "like headlines of a series"))
    # Words both headlines have and few others of the block: a street, a person, a place of
    # the event ("Karl Marxstraat", "Drents Museum"), in any language.
    rare = sorted(w for w in words if rarity.rare(w)) if words else []
    for word in rare[:MAX_NAMES]:
        found.append(("names" if len(rare) > 1 else "name", f"name in both headlines: {word}"))
    shared_dyads = a.dyads & b.dyads if a.dyads and b.dyads else None
    if shared_dyads:
        pair = ", ".join(sorted(shared_dyads))
        # Two trips' headlines name their traveller or places beyond the country: two rare words.
        trip = len(rare) > 1 and not (TRIP_WORDS.isdisjoint(a.title_words) or TRIP_WORDS.isdisjoint(b.title_words))
        same_day = a.type != "dialogue_meeting" or abs(a.published - b.published) <= timedelta(
            days=TRIP_DAYS if trip else POINT_DAYS)
        if a.type == b.type and a.type != "other" and same_day and (
                a.type == "dialogue_meeting" or not all(map(rarity.common_dyad, shared_dyads))):
            found.append(("one meeting" if a.type == "dialogue_meeting" else "dyad and type", f"dyad and type: {pair} {a.type}"))
        else:  # other types, other days; or an operation of partners many of the block's have
            found.append(("dyad", f"dyad: {pair}"))
        if a.type == b.type and not same_day:
            # The same partners' calls or meetings days apart are two calls, however alike the
            # headlines ("Secretary's call with the French Foreign Minister", twice a week).
            found.append(("another day", f"another day: {pair} {a.type}"))
    elif a.type == b.type and a.type != "other":
        found.append(("type", f"type: {a.type}"))
    # Every anchor is known by now; what follows only adds to the score or takes from it.
    anchored = _anchored(found)
    if links_only and not anchored:
        return 0.0, []
    if a.type in KINDS and b.type in KINDS and KINDS[a.type] != KINDS[b.type]:
        found.append(("other kind", f"other kind: {a.type}, {b.type}"))
    if a.agencies and b.agencies:
        for name in sorted(a.agencies & b.agencies)[:MAX_AGENCIES]:
            found.append(("agencies", f"agency: {name}"))
    if a.themes and b.themes:
        common = a.themes & b.themes
        if common and len(common) / len(a.themes | b.themes) >= 0.5:
            found.append(("themes", "themes: " + ", ".join(sorted(common))))
    score = sum(EVIDENCE[kind][0] for kind, _ in found)
    found.sort(key=lambda f: -abs(EVIDENCE[f[0]][0]))
    return (score if anchored else 0.0), [label for _, label in found]


def _anchored(found: list[tuple[str, str]]) -> bool:
    """Whether a pair's evidence holds an anchor, or two weak pieces that together name one
    event: a rare word of both headlines and a figure common in the weeks ("Tarwekamp" and
    three arrests)."""
    name = common = False
    for kind, _ in found:
        if EVIDENCE[kind][1]:
            return True
        name = name or kind == "name"
        common = common or kind == "common fact"
    return name and common


def _similarity(x: int, y: int) -> float:
    return 1 - bin(x ^ y).count("1") / 64


def _pairs(con: duckdb.DuckDBPyConnection, batch: list[Profile], ids_relation: str,
           relinking: bool = False) -> dict[tuple[str, str], tuple[float, list[str]]]:
    """The linked pairs of the batch's articles (`ids_relation`) with their candidates (and each
    other); when `relinking`, candidates are only the articles already linked under these rules."""
    if not batch:
        return {}
    window = timedelta(days=WINDOW_DAYS)
    params = {"lo": min(p.published for p in batch) - window, "hi": max(p.published for p in batch) + window,
              # one text, not a list: the database client looks each value of a list parameter over
              # (for pandas types, a failed import each time where pandas is not installed)
              "countries": ",".join(sorted(set().union(*(p.countries for p in batch)))),
              **({"rules": LINK_RULES, "ungrouped": UNGROUPED} if relinking else {})}
    # Only a pair that shares an anchor can link: candidates come from an index of the block by
    # operation, fact, partner pair, headline word and SimHash band (a near-duplicate differs in
    # at most 3 of 64 bits, so one of its four 16-bit bands is equal), not from every pair.
    shortlist: dict[str, list[tuple[int, str]]] = defaultdict(list)
    stored: dict[str, Profile] = {}
    if len(batch) <= SHORTLIST_MAX:
        # A run's batch: the stored part of the index is made and joined in the database, and
        # only each article's shortlist comes back (_shortlist_sql); the batch's part is here.
        keys_frame = pl.DataFrame({"article_id": [p.article_id for p in batch], "at_us": [_epoch_us(p.published) for p in batch],
                                   "countries": _text_lists([sorted(p.countries) for p in batch]),
                                   "keys": _text_lists([[_key_text(k) for k in _keys(p)] for p in batch])},
                                  schema={"article_id": pl.Utf8, "at_us": pl.Int64, "countries": pl.List(pl.Utf8),
                                          "keys": pl.List(pl.Utf8)})
        with _frame_relation(con, "batch_event_keys", keys_frame) as keys_relation:
            rows = con.execute(_shortlist_sql(ids_relation, keys_relation, relinking),
                               {**params, "window_us": int(window.total_seconds() * 1_000_000)}).fetchall()
        for on_lists, counts, b_id, *_ in rows:
            for a_id, n in zip(on_lists, counts, strict=True):
                shortlist[a_id].append((n, b_id))
        # A stored article on the shortlists of many of the batch's is made a profile once.
        stored = {b.article_id: b for b in _stored(r[2:] for r in rows)}
        # What the block's counts are needed of: the headline words of the batch and of its
        # candidates, the batch's facts and partner pairs.
        needed = {*(("word", w) for p in [*batch, *stored.values()] for w in p.title_words),
                  *(("fact", f) for p in batch for f in p.facts), *(("dyad", d) for p in batch for d in p.dyads)}
        keys = pl.DataFrame({"k": sorted(map(_key_text, needed))}, schema={"k": pl.Utf8})
        with _frame_relation(con, "batch_event_counted", keys) as counted_relation:
            block_n, counted, counts = con.execute(_block_counts_sql(ids_relation, counted_relation, relinking), params).fetchone()
        df: dict[str, dict[str, int]] = {"w": {}, "f": {}, "d": {}}
        for k, n in zip(counted, counts, strict=True):
            df[k[0]][k[2:]] = n
        rarity = Rarity(batch, block_n, df["w"], df["f"], df["d"])
        indexed = batch
    else:
        # A reclassify's batch of thousands: the pairs to count would outgrow the writer's
        # memory in the database, and the block read once costs little per article.
        block = _stored(con.execute(_block_sql(ids_relation, relinking), params).fetchall())
        rarity = Rarity([*block, *batch])
        block_n, indexed = len(block), [*block, *batch]
    counted = _shared_keys(batch, indexed, rarity, max(200, block_n // 20), window)
    by_id = {p.article_id: p for p in indexed}
    out = {}
    for a in batch:
        ranked = [(-n, b_id) for n, b_id in counted.get(a.article_id, ())] + \
                 [(-n, b_id) for n, b_id in shortlist.get(a.article_id, ())]
        mine = []
        for _, b_id in sorted(ranked)[:MAX_CANDIDATES]:
            b = by_id.get(b_id) or stored[b_id]
            pair = (a.article_id, b_id) if a.article_id < b_id else (b_id, a.article_id)
            if pair in out:
                continue
            score, why = evidence(a, b, rarity, links_only=True)
            if score >= LINK_SCORE:
                mine.append((-score, b_id, pair, why))
        # A template or a wire story repeated a hundred times is one event joined by a few links
        # each, not a hundred squared: the strongest MAX_LINKS (then the smaller id) are kept.
        for minus_score, _, pair, why in sorted(mine)[:MAX_LINKS]:
            out[pair] = (-minus_score, why)
    return out


_QUERIES_AT_ONCE = 256  # articles whose shared keys are counted in one join: bounds its memory


def _shared_keys(batch: list[Profile], indexed: list[Profile], rarity: Rarity, common: int,
                 window: timedelta) -> dict[str, list[tuple[int, str]]]:
    """For each article of `batch` (the last profiles of `indexed`), the profiles of `indexed`
    that share keys with it (_keys) and are in its block (in_block), with how many keys: at
    most MAX_CANDIDATES, those sharing the most first (then the smaller id). A word of more
    than `common` headlines, or a common fact, is no key: it anchors nothing alone, and
    candidates sharing it with thousands of releases would crowd out the telling ones.

    Counted in joins of columns (key, profile), not pair by pair in Python: a reclassify's
    batch of 2,000 articles published 550 a day shares about 2.5 million keys with its block."""
    if not batch:
        return {}
    offset = len(indexed) - len(batch)
    key_ids: dict[tuple, int] = {}
    keys, owners = [], []
    for i, p in enumerate(indexed):
        for key in _keys(p):
            if key[0] == "word" and rarity.df[key[1]] > common or key[0] == "fact" and rarity.common_fact(key[1]):
                continue
            keys.append(key_ids.setdefault(key, len(key_ids)))
            owners.append(i)
    postings = pl.DataFrame({"k": keys, "b": owners}, schema={"k": pl.UInt32, "b": pl.UInt32})
    # The block's tests as columns: times in microseconds, countries as bits of 64-bit words.
    codes = {c: n for n, c in enumerate(sorted(set().union(*(p.countries for p in indexed))))}
    masks = [sum(1 << codes[c] for c in p.countries) for p in indexed]
    country_bits = [pl.Series([(m >> (64 * w)) & 0xFFFF_FFFF_FFFF_FFFF for m in masks], dtype=pl.UInt64)
                    for w in range(max(1, -(-len(codes) // 64)))]
    at = pl.Series([_epoch_us(p.published) for p in indexed], dtype=pl.Int64)
    # Ties go to the smaller id: each profile's place among the ids in order.
    order = pl.Series([p.article_id for p in indexed], dtype=pl.Utf8).arg_sort()
    place = pl.Series(range(len(indexed)), dtype=pl.UInt32).scatter(order, pl.Series(range(len(indexed)), dtype=pl.UInt32))
    window_us = window // timedelta(microseconds=1)
    found = []
    for first in range(offset, len(indexed), _QUERIES_AT_ONCE):
        queries = postings.filter(pl.col("b").is_between(first, first + _QUERIES_AT_ONCE - 1)).rename({"b": "a"})
        pairs = (queries.join(postings, on="k").filter(pl.col("a") != pl.col("b"))
                 .group_by("a", "b").agg(pl.len().alias("n")))
        a, b = pairs["a"], pairs["b"]
        a_country_of_b = functools.reduce(operator.or_, ((bits.gather(a) & bits.gather(b)) != 0 for bits in country_bits))
        pairs = pairs.filter(a_country_of_b & ((at.gather(a) - at.gather(b)).abs() <= window_us))
        pairs = pairs.with_columns(place=place.gather(pairs["b"]))
        found.append(pairs.sort(["a", "n", "place"], descending=[False, True, False])
                     .group_by("a", maintain_order=True).head(MAX_CANDIDATES))
    out: dict[str, list[tuple[int, str]]] = defaultdict(list)
    chosen = pl.concat(found)
    for a, n, b in zip(chosen["a"].to_list(), chosen["n"].to_list(), chosen["b"].to_list(), strict=True):
        out[indexed[a].article_id].append((n, indexed[b].article_id))
    return out


def _keys(p: Profile) -> list[tuple]:
    keys: list[tuple] = [("op", o) for o in p.operations]
    keys += [("fact", v) for v in p.facts]
    keys += [("dyad", d) for d in p.dyads]
    keys += [("word", w) for w in p.title_words]
    if p.simhash is not None:
        keys += [("band", i, (p.simhash >> (16 * i)) & 0xFFFF) for i in range(4)]
    return keys


def _key_text(key: tuple) -> str:
    """A key as _shortlist_sql makes it in the database."""
    kind = {"op": "o", "fact": "f", "dyad": "d", "word": "w"}.get(key[0])
    return f"{kind}:{key[1]}" if kind else f"b{key[1]}:{key[2]}"


def link_events(con: duckdb.DuckDBPyConnection, ids_relation: str, frames: Mapping[str, pl.DataFrame]) -> None:
    """Link the articles of `ids_relation` (a relation with an article_id column, in the
    caller's transaction, whose tags `frames` are being written): their profiles, their
    links, and the events of every article whose group they change."""
    _link(con, batch_profiles(con, ids_relation, frames), ids_relation)


def profile_for_relinking(con: duckdb.DuckDBPyConnection, ids_relation: str, frames: Mapping[str, pl.DataFrame]) -> None:
    """Re-tagging (reclassify): the profiles of `ids_relation` made from their new tags, their
    links left to `relink`, which links the re-tagged articles after all batches, oldest first,
    each against those linked before it, as a load does. Linked as they were re-tagged (in id
    order, batches of dates all over), each batch weighed later articles too, whose links then
    crowded out the earlier ones (over the 6,074 corpus texts, 3,532 links where a load of
    100-article batches made 3,879, before common facts). Linking still depends on how articles
    are batched: the block's counts (rare words, common facts and pairs) are taken over the
    whole batch's span, and a batch's articles are candidates of one another. Since common facts
    and pairs, batches of 2,000 oldest first make 298 links of the corpus texts where the load
    makes 943; batches of the load's own make its links exactly, at three times the cost
    (docs/performance.md, "Linking depends on batching")."""
    batch_profiles(con, ids_relation, frames, rules=None)


def relink(con: duckdb.DuckDBPyConnection, ids_relation: str) -> None:
    """Link the articles of `ids_relation` again from their stored profiles (their tags as
    they are), under this code's rules, in the caller's transaction; their events are made by
    `regroup`, after the last batch."""
    batch = _stored(con.execute(
        f"SELECT {_STORED_COLUMNS} FROM event_profiles JOIN {ids_relation} USING (article_id) ORDER BY article_id").fetchall())
    _link(con, batch, ids_relation, relinking=True)
    con.execute(f"UPDATE event_profiles SET link_rules = ? WHERE article_id IN (SELECT article_id FROM {ids_relation})",
                [UNGROUPED])


def regroup(con: duckdb.DuckDBPyConnection, article_ids: Iterable[str]) -> int:
    """The events of the relinked `article_ids` (and of every article linked with them), in
    the caller's transaction: how many relinked articles' events were made. Each group is
    walked once: its relinked members are marked grouped with it."""
    with _id_relation(con, "regrouped", _regroup(con, set(article_ids))) as relation:
        return con.execute(f"UPDATE event_profiles SET link_rules = ? {_AWAITING_REGROUP} "
                           f"AND article_id IN (SELECT article_id FROM {relation})", [LINK_RULES, UNGROUPED]).fetchone()[0]


_AWAITING_RELINK = "FROM event_profiles WHERE link_rules IS DISTINCT FROM ? AND link_rules IS DISTINCT FROM ?"
_AWAITING_REGROUP = "WHERE link_rules = ?"  # ? = UNGROUPED


def to_relink(con: duckdb.DuckDBPyConnection, limit: int) -> list[str]:
    """Up to `limit` articles linked under other rules than this code's (or re-tagged), oldest
    first."""
    return [r[0] for r in con.execute(f"SELECT article_id {_AWAITING_RELINK} ORDER BY published_at, article_id LIMIT ?",
                                      [LINK_RULES, UNGROUPED, limit]).fetchall()]


def count_to_relink(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(f"SELECT count(*) {_AWAITING_RELINK}", [LINK_RULES, UNGROUPED]).fetchone()[0]


def to_regroup(con: duckdb.DuckDBPyConnection, limit: int) -> list[str]:
    """Up to `limit` articles linked again whose events are not made yet, oldest first."""
    return [r[0] for r in con.execute(f"SELECT article_id FROM event_profiles {_AWAITING_REGROUP} "
                                      "ORDER BY published_at, article_id LIMIT ?", [UNGROUPED, limit]).fetchall()]


def count_to_regroup(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(f"SELECT count(*) FROM event_profiles {_AWAITING_REGROUP}", [UNGROUPED]).fetchone()[0]


def _link(con: duckdb.DuckDBPyConnection, batch: list[Profile], ids_relation: str, relinking: bool = False) -> None:
    """The batch's links made again, and the events of every article whose group they change.
    Relinking, the batch's links to articles not linked again yet go too: those are made when
    their turn comes, from their side, as a load oldest first would make them."""
    ids = [p.article_id for p in batch]
    con.execute(f"DELETE FROM event_links WHERE article_a IN (SELECT article_id FROM {ids_relation}) "
                f"OR article_b IN (SELECT article_id FROM {ids_relation})")
    links = _pairs(con, batch, ids_relation, relinking)
    if links:
        frame = pl.DataFrame({"article_a": [k[0] for k in links], "article_b": [k[1] for k in links],
                              "score": [v[0] for v in links.values()], "evidence": [v[1] for v in links.values()]},
                             schema={"article_a": pl.Utf8, "article_b": pl.Utf8, "score": pl.Float64,
                                     "evidence": pl.List(pl.Utf8)})
        with _frame_relation(con, "batch_links", frame) as relation:
            con.execute(f"INSERT INTO event_links SELECT * FROM {relation}")
    if not relinking:
        _regroup(con, {*ids, *(a for k in links for a in k)})


def _regroup(con: duckdb.DuckDBPyConnection, seeds: set[str]) -> set[str]:
    """Recompute the events of the groups that hold `seeds` (and of the events they were in,
    which may split or merge): connected groups over event_links, each named by its first
    report, with each article's role. The articles whose events were made."""
    if not seeds:
        return set()
    # The events the seeds were in hold nearly all of their groups: a link between two
    # articles puts them in one event, and only links of seeds have changed. The search link
    # by link then starts from all of them (a query or two), not from the seeds alone (one
    # query for each link of a chain of follow-ups).
    with _id_relation(con, "event_seeds", seeds) as relation:
        members = set(seeds) | {r[0] for r in con.execute(
            "SELECT article_id FROM event_articles WHERE event_id IN (SELECT event_id FROM event_articles "
            f"WHERE article_id IN (SELECT article_id FROM {relation}))").fetchall()}
    frontier = set(members)
    edges: dict[tuple[str, str], tuple[float, list[str]]] = {}
    while frontier:  # the whole connected group of each seed, link by link
        with _id_relation(con, "event_frontier", frontier) as relation:
            rows = con.execute("SELECT article_a, article_b, score, evidence FROM event_links "
                               f"WHERE article_a IN (SELECT article_id FROM {relation}) "
                               f"OR article_b IN (SELECT article_id FROM {relation})").fetchall()
            # An article relinked whose events are not made yet (UNGROUPED) may have lost the
            # links of its former event: its former mates are made again with it.
            stale = [r[0] for r in con.execute(
                "SELECT mate.article_id FROM event_articles e JOIN event_profiles p ON p.article_id = e.article_id "
                "JOIN event_articles mate ON mate.event_id = e.event_id "
                f"WHERE p.link_rules = ? AND e.article_id IN (SELECT article_id FROM {relation})", [UNGROUPED]).fetchall()]
        for a, b, score, why in rows:
            edges[(a, b)] = (score, why)
        frontier = ({x for a, b, *_ in rows for x in (a, b)} | set(stale)) - members
        members |= frontier
    with _id_relation(con, "event_members", members) as relation:
        info = {a_id: (published, source) for a_id, published, source in con.execute(
            "SELECT article_id, published_at, source FROM event_profiles "
            f"WHERE article_id IN (SELECT article_id FROM {relation})"
        ).fetchall()}
        con.execute(f"DELETE FROM event_articles WHERE article_id IN (SELECT article_id FROM {relation})")
    parent = {m: m for m in info}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        if a in parent and b in parent:
            parent[root(a)] = root(b)
    groups: dict[str, list[str]] = defaultdict(list)
    for m in info:
        groups[root(m)].append(m)
    neighbours: dict[str, list[tuple[str, float, list[str]]]] = defaultdict(list)
    for (a, b), (score, why) in edges.items():
        neighbours[a].append((b, score, why))
        neighbours[b].append((a, score, why))
    rows = []
    for group in groups.values():
        group.sort(key=lambda x: (info[x][0], x))
        first = group[0]
        event_id = "ev-" + hashlib.sha256(first.encode()).hexdigest()[:16]
        place = {a_id: k for k, a_id in enumerate(group)}
        for k, a_id in enumerate(group):
            # The strongest link, to an earlier article where there is one.
            best = max(((b, score, why) for b, score, why in neighbours[a_id] if b in place),
                       key=lambda link: (place[link[0]] < k, link[1], link[0]), default=None)
            rows.append((a_id, event_id, _role(k, a_id, first, best, info), best[0] if best else None,
                         best[2] if best else []))
    frame = pl.DataFrame(rows, schema={"article_id": pl.Utf8, "event_id": pl.Utf8, "role": pl.Utf8, "linked_to": pl.Utf8,
                                       "evidence": pl.List(pl.Utf8)}, orient="row")
    with _frame_relation(con, "batch_event_articles", frame) as relation:
        con.execute(f"INSERT INTO event_articles SELECT * FROM {relation}")
    return set(info)


def _role(k: int, a_id: str, first: str, best, info: dict) -> str:
    if k == 0:
        return "first_report"
    if best is not None and "near-duplicate text" in best[2]:
        return "syndicated_copy"
    return "follow_up" if info[a_id][1] == info[first][1] else "partner_release"


def forget(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> None:
    """Drop the event rows of articles that are gone (folded into another); the groups they
    were in are made again without them."""
    if not ids:
        return
    with _id_relation(con, "event_gone", ids) as relation:
        mates = [r[0] for r in con.execute(
            "SELECT article_id FROM event_articles WHERE event_id IN (SELECT event_id FROM event_articles "
            f"WHERE article_id IN (SELECT article_id FROM {relation})) AND article_id NOT IN (SELECT article_id FROM {relation})"
        ).fetchall()]
        for table, column in (("event_links", "article_a"), ("event_links", "article_b"), ("event_articles", "article_id"),
                              ("event_profiles", "article_id")):
            con.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT article_id FROM {relation})")
    _regroup(con, set(mates))
