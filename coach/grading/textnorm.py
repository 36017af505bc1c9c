"""Fold text to one canonical form before pattern checks, keeping where each piece came from.

Why: a pattern written for "grader" or "满分" misses "ｇｒａｄｅｒ" (fullwidth), "gra\u200bder"
(a zero-width space inside), "gra\u00adder" (a soft hyphen) and "GRADER", although a reader,
human or LLM, sees the same word. Unicode already defines the folding: NFKC maps
compatibility forms (fullwidth letters and digits, ligatures, circled numbers) to the plain
ones, casefold removes case, format characters (category Cf: zero-width space / joiners,
BOM, soft hyphen, bidi controls) are invisible and dropped, as are non-spacing marks
(category Mn, e.g. a strike-through overlay or a variation selector) which change no
letter. Whitespace runs become one space, and a space between two CJK characters goes
(Chinese puts none there, so "满 分" is "满分").

The folding is per character and records, for each folded character, the index of the
original character it came from, so that a match in the folded text maps back to the exact
original substring (the rubric removes that substring from the graded text).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_DROPPED_CATEGORIES = frozenset({"Cf", "Mn"})
_LOOKALIKES = str.maketrans(
    # Cyrillic and Greek letters that look like Latin ones (after casefold): "grаder"
    # with a Cyrillic а reads as "grader" to a person and to an LLM, and lifted a
    # score from 4.75 to 5.85 before it was folded.
    "авекмнорстухіјѕԁӏһԛԝёїαβεηικνορτυχω",
    "abekmhopctyxijsdlhqweiabeniknoptuxw",
)


def _is_cjk(ch: str) -> bool:
    """Han ideographs, kana, hangul and CJK punctuation: scripts written without spaces."""
    code = ord(ch)
    return (
        0x2E80 <= code <= 0x9FFF  # radicals, CJK punctuation, kana, CJK ideographs
        or 0xAC00 <= code <= 0xD7AF  # hangul syllables
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= code <= 0x3FFFF  # ideograph extensions
    )


@dataclass(frozen=True)
class Folded:
    """Folded text and, for each of its characters, the index in the original."""

    text: str
    origin: tuple[int, ...]

    def original_span(self, original: str, start: int, end: int) -> str:
        """The substring of ``original`` that folded ``text[start:end]`` came from."""
        if start >= end:
            return ""
        return original[self.origin[start] : self.origin[end - 1] + 1]


def fold(text: str) -> Folded:
    """NFKC, casefold, Latin for look-alike letters, drop format and non-spacing marks,
    collapse whitespace, join CJK."""
    chars: list[str] = []
    origin: list[int] = []
    for i, raw in enumerate(text):
        if unicodedata.category(raw) in _DROPPED_CATEGORIES:
            continue
        for ch in unicodedata.normalize("NFKC", raw).casefold().translate(_LOOKALIKES):
            if unicodedata.category(ch) in _DROPPED_CATEGORIES:
                continue
            if ch.isspace():
                if not chars or chars[-1] == " ":
                    continue  # leading or repeated whitespace
                ch = " "
            elif len(chars) >= 2 and chars[-1] == " " and _is_cjk(ch) and _is_cjk(chars[-2]):
                chars.pop()  # "满 分" -> "满分"
                origin.pop()
            chars.append(ch)
            origin.append(i)
    if chars and chars[-1] == " ":
        chars.pop()
        origin.pop()
    return Folded("".join(chars), tuple(origin))


def normalise(text: str) -> str:
    """The folded text alone (see ``fold``)."""
    return fold(text).text
