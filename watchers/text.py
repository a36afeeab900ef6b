"""Text handling shared by parsing and matching.

Two steps, kept apart on purpose: :func:`html_to_text` turns feed markup into
the readable text we store and show; :func:`normalise` turns readable text into
the form watches are matched against (NFKC, case-folded, single spaces).
Spans in match explanations refer to the normalised text.
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["html_to_text", "is_cjk", "is_word_char", "normalise"]

# Tags that do not separate words: "<b>Tes</b>la" is one word, "<p>a</p><p>b</p>" two.
_INLINE = (
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "font", "i",
    "ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup",
    "time", "tt", "u", "var", "wbr",
)  # fmt: skip
_DROP_BLOCKS = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_ATTRIBUTES = r"""(?:[^>"']|"[^"]*"|'[^']*')*"""  # a '>' inside a quoted value does not end the tag
_INLINE_TAG = re.compile(rf"</?(?:{'|'.join(sorted(_INLINE))})\b{_ATTRIBUTES}>", re.IGNORECASE)
_TAG = re.compile(rf"</?[A-Za-z][A-Za-z0-9:-]*\b{_ATTRIBUTES}>")
# Control characters, and invisible characters that split words: soft hyphen, zero-width ones.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\u200b-\u200d\u2060\ufeff]")


def html_to_text(markup: str) -> str:
    """Readable single-line text from an HTML fragment (or from text that is already plain)."""
    if "<" in markup:
        if "<s" in markup or "<S" in markup:  # the regex costs more than this look
            markup = _DROP_BLOCKS.sub(" ", markup)
        if "<!--" in markup:
            markup = _COMMENT.sub(" ", markup)
        markup = _INLINE_TAG.sub("", markup)
        markup = _TAG.sub(" ", markup)
    if "&" in markup:
        markup = html.unescape(markup)
    markup = _INVISIBLE.sub("", markup)
    return " ".join(markup.split())  # str.split is many times faster than re.sub(r"\s+")


def normalise(text: str) -> str:
    """The matching form of plain text: NFKC (full-width -> ASCII), case-folded, spaces folded."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def is_cjk(char: str) -> bool:
    """Han, kana and Hangul: scripts written without spaces between words."""
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2EBEF
        or 0xF900 <= code <= 0xFAFF
        or 0x3040 <= code <= 0x30FF
        or 0xAC00 <= code <= 0xD7AF
        or 0x3000 <= code <= 0x303F
    )


def is_word_char(char: str) -> bool:
    """A character that glues onto a Latin term: letters and digits, but not CJK."""
    return char.isalnum() and not is_cjk(char)
