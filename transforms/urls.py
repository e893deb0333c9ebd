"""URL canonicalisation and deterministic article ids.

`canonical_url` never raises: a URL it cannot make sense of comes back stripped of
surrounding white space, so the caller can still record it (and fail it later with a status).
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

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
# Characters kept as they are in a path (RFC 3986 unreserved, sub-delims, ':' and '@').
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """The form of `url` used for dedup and ids.

    Lower-cases scheme and host, drops default ports, fragments, tracking parameters and
    empty query strings, sorts the remaining parameters and normalises percent-encoding.
    Idempotent: canonical_url(canonical_url(u)) == canonical_url(u).
    """
    url = url.strip()
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
        path = quote(unquote(parts.path), safe=_PATH_SAFE) or "/"
        query_pairs = [
            (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
        ]
        query = urlencode(sorted(query_pairs), quote_via=quote, safe="/:@!$'()*+,;-._~")
        return urlunsplit((scheme, netloc, path, query, ""))
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
