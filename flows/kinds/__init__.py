"""Source kinds: how each kind of source discovers its articles and fetches each one.

One module per kind, registered in KINDS; the sources file accepts exactly these kinds, and
tests/test_kinds.py fails for a registered kind without tests on real samples.
"""

from __future__ import annotations

from flows.kinds.base import Discovery, SourceKind
from flows.kinds.feed import KIND as FEED
from flows.kinds.govuk import KIND as GOVUK
from flows.kinds.rijksoverheid import KIND as RIJKSOVERHEID
from flows.kinds.sitemap import KIND as SITEMAP

KINDS: dict[str, SourceKind] = {kind.name: kind for kind in (FEED, GOVUK, RIJKSOVERHEID, SITEMAP)}

__all__ = ["KINDS", "Discovery", "SourceKind"]
