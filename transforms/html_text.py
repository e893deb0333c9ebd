"""Body HTML (GOV.UK govspeak, Rijksoverheid CDATA paragraphs) to plain text, one block a line."""

from __future__ import annotations

import re

import lxml.html

from transforms.documents import normalise_text

BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "dt", "dd", "figcaption", "pre")
SKIP = ("script", "style", "template", "noscript")
_TAGS = re.compile(r"<[^>]*>")


def html_to_text(markup: str | None) -> str:
    if not markup or not markup.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except Exception:  # lxml raises several kinds (even AssertionError) on odd fragments
        return normalise_text(_TAGS.sub(" ", markup))
    for element in list(root.iter(*SKIP)):
        element.drop_tree()
    lines = []
    for element in root.iter(*BLOCKS):
        if any(ancestor.tag in BLOCKS for ancestor in element.iterancestors()):
            continue  # its text is in the enclosing block's line
        text = " ".join(element.text_content().split())
        if text:
            lines.append(text)
    return normalise_text("\n".join(lines) if lines else " ".join(root.text_content().split()))
