"""Code lists the tables and the configuration are checked against."""

import re

# ISO 3166-1 alpha-2, the 249 officially assigned codes.
ISO_COUNTRIES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO
JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR
MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO
RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV
TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())
# Also accepted as actors: the European Union and its agencies (EU, exceptionally reserved in
# ISO 3166-1), and Kosovo (XK, the user-assigned code in common use).
ACTOR_CODES = ISO_COUNTRIES | {"EU", "XK"}
# Codes people type for a country that ISO 3166-1 spells otherwise, and what to type instead.
_MISTAKEN = {"UK": "the United Kingdom is GB", "EL": "Greece is GR", "USA": "the United States is US",
             "GBR": "the United Kingdom is GB", "NLD": "the Netherlands is NL", "KS": "Kosovo is XK"}


def not_a_country(codes: list[str]) -> str:
    """The end of the message refusing `codes`: what they are not, and what was meant where that is known."""
    hints = [_MISTAKEN[c] for c in codes if c in _MISTAKEN]
    return "not a country code (ISO alpha-2, or EU)" + (f": {'; '.join(hints)}" if hints else "")


_PAIR = re.compile(r"^([A-Z]{2})-([A-Z]{2})$")


def partner_pair(text: str) -> str:
    """A partner pair as the warehouse stores it ("nl-gb" -> "GB-NL"), or a ValueError that
    says what is wrong with it."""
    m = _PAIR.match(text.strip().upper())
    if m and (bad := [c for c in m.groups() if c not in ACTOR_CODES]):
        raise ValueError(f"{text!r}: {', '.join(map(repr, bad))} {not_a_country(bad)}")
    if not m or m.group(1) == m.group(2):
        raise ValueError(f"{text!r} is not a pair of two country codes as A-B (for example GB-NL)")
    return "-".join(sorted(m.groups()))

# ISO 639-1: the 183 two-letter language codes in force (bh, sh and the like withdrawn). The
# sources use en and nl; GOV.UK also publishes in cy, ar, ur, and feeds declare de, it, pt.
ISO_639_1 = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy
da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz
ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv
mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu
rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty
ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
""".split())


def language_code(tag: str | None) -> str | None:
    """The ISO 639-1 code of a language tag ("nl-NL", "EN", "en_GB"); None for none, and for a
    language without a two-letter code ("fil" is not "fi", GOV.UK's "dr" is not a code)."""
    code = re.split(r"[-_]", (tag or "").strip().lower(), maxsplit=1)[0]
    return code if code in ISO_639_1 else None
