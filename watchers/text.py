"""Text handling shared by parsing and matching.

Two steps, kept apart on purpose: :func:`html_to_text` turns feed markup into
the readable text we store and show; :func:`normalise` turns readable text into
the form watches are matched against. Spans in match explanations refer to the
normalised text.

Normalisation, in order: NFKC (full-width letters become ASCII), case folding,
hyphens and apostrophes read as spaces (so "full self-driving", "Full-Self-
Driving" and "full self driving" are alike), Traditional Chinese converted to
Simplified (OpenCC ``t2s``: ``中國`` reads as ``中国``), runs of spaces folded.
Applied alike to watch terms and to item text, so each matches the other.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata

import opencc

__all__ = ["CJK_CLASS", "has_cjk", "html_to_text", "is_cjk", "is_word_char", "normalise"]

# The same ranges as is_cjk, as a regex character class.
CJK_CLASS = (
    "\u4e00-\u9fff\u3400-\u4dbf\U00020000-\U0002ebef\uf900-\ufaff\u3040-\u30ff"
    "\uac00-\ud7af\u3000-\u303f"
)
_HAS_CJK = re.compile(f"[{CJK_CLASS}]")
# Hyphens, dashes and apostrophes (after NFKC, which already maps many variants).
_JOINERS = re.compile("[\\-\u2010-\u2015\u2212'\u2018\u2019\u02bc\uff07]")

# Full-width punctuation (as NFKC maps it), typographic quotes and dashes, odd spaces.
_COMMON_NON_ASCII = (
    ("，", ","), ("：", ":"), ("；", ";"), ("！", "!"), ("？", "?"), ("（", "("), ("）", ")"),
    ("％", "%"), ("\u3000", " "), ("\xa0", " "), ("“", '"'), ("”", '"'), ("‘", "'"), ("’", "'"),
    ("–", "-"), ("—", "-"),
)  # fmt: skip

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
    """The matching form of plain text (see the module docstring for the steps)."""
    if not text.isascii():
        # The characters that keep most English and Chinese text from being ASCII or
        # NFKC-normal; str.replace is far cheaper than normalising the whole text.
        for typographic, plain in _COMMON_NON_ASCII:
            if typographic in text:
                text = text.replace(typographic, plain)
    if text.isascii():  # NFKC is a no-op, and there is no CJK
        return " ".join(text.lower().replace("-", " ").replace("'", " ").split())
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = _JOINERS.sub(" ", text.casefold())
    if _HAS_CJK.search(text):
        text = _t2s().convert(text)
    return " ".join(text.split())


def has_cjk(text: str) -> bool:
    return _HAS_CJK.search(text) is not None


@functools.cache
def _t2s() -> opencc.OpenCC:
    """The converter, built once (it loads dictionaries); converting is thread-safe."""
    return opencc.OpenCC("t2s.json")


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
