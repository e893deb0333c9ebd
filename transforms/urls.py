"""URL canonicalisation and deterministic article ids.

`canonical_url` never raises: a URL it cannot make sense of comes back stripped of
surrounding white space, so the caller can still record it (and fail it later with a status).
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote, unquote, urlsplit, urlunsplit

# Query parameters that track the reader, not the resource.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
        "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "ocid", "cmpid", "cmp", "ito",
        "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4",
        "mkt_tok", "s_cid", "sr_share", "ref_src", "__twitter_impression", "spm", "wt_mc",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "oly_")
DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters kept as they are (RFC 3986 reserved characters that may stand unescaped there).
_PATH_SAFE = "/:@!$&'()*+,;="
_QUERY_SAFE = "/:@!$'()*+,;?"  # '&' and '=' separate the parameters, so they stay escaped
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def _normalise(component: str, safe: str) -> str:
    """Percent-encoding made canonical without changing meaning: escapes of unreserved
    characters are decoded, other escapes upper-cased, and characters that must be escaped
    (spaces, non-ASCII as UTF-8) are; reserved characters and their escapes stay distinct."""
    def unescape(match: re.Match) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else f"%{match.group(1).upper()}"

    component = _STRAY_PERCENT.sub("%25", component)  # a '%' that starts no escape is a literal '%'
    return quote(_ESCAPE.sub(unescape, component), safe=safe + "%")


def canonical_url(url: str) -> str:
    """The form of `url` used for dedup, ids and fetching.

    Lower-cases scheme and host, drops default ports, fragments, tracking parameters and
    empty query strings, sorts the remaining parameters and normalises percent-encoding
    (only where that cannot change what the URL names).
    Idempotent: canonical_url(canonical_url(u)) == canonical_url(u).
    """
    # A lone surrogate (a JSON feed's "\ud800") is no character: U+FFFD, as browsers do; else the
    # URL could not be encoded, hashed or stored.
    url = _SURROGATE.sub("\ufffd", url.strip())
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            return url
        host = parts.hostname.lower().rstrip(".")
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        port = parts.port
        netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
        path = _normalise(parts.path, _PATH_SAFE) or "/"
        pairs = []
        for pair in parts.query.split("&"):
            if not pair:
                continue
            key, eq, value = pair.partition("=")
            if _is_tracking(unquote(key)):
                continue
            pairs.append(_normalise(key, _QUERY_SAFE) + eq + _normalise(value, _QUERY_SAFE))
        return urlunsplit((scheme, netloc, path, "&".join(sorted(pairs)), ""))
    except ValueError:  # bad port, bad IPv6 literal, ...
        return url


def url_host(url: str) -> str | None:
    """The lower-case host of `url`, or None where it has none."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.lower().rstrip(".") if host else None


def article_id(url: str) -> str:
    """A deterministic id for the article at `url` (20 hex characters of its canonical form)."""
    return hashlib.blake2b(canonical_url(url).encode("utf-8"), digest_size=10).hexdigest()
