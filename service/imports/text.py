"""Comment bodies from HTML (Disqus, WordPress and Remark42 keep HTML; we keep and show plain text)."""

from __future__ import annotations

import html
import re

_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_PARAGRAPH = re.compile(r"</p>\s*<p[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def plain_text(markup: str) -> str:
    """Paragraphs and line breaks kept as newlines, every other tag dropped, entities decoded."""
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    text = _PARAGRAPH.sub("\n\n", markup)
    text = _BREAK.sub("\n", text)
    return html.unescape(_TAG.sub("", text)).strip()
