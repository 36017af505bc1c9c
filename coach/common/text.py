"""Text helpers shared by features.

Why shared: a Markdown table cell must stay on one line and must not split at a ``|``
(both reports build tables); the bigram overlap tells whether one text repeats another
(a model's phrasing of a question, a transcript that echoes its prompt).
"""

from __future__ import annotations

import re

CJK = re.compile(r"[\u3400-\u9fff]")
"""One Chinese character (CJK Unified Ideographs and Extension A)."""
_WORD = re.compile(rf"{CJK.pattern}|[a-z0-9]+")


_CONTENT_CHAR = re.compile(r"[A-Za-z0-9\u4e00-\u9fff]")


def cjk_count(text: str) -> int:
    return len(CJK.findall(text))


def content_chars(text: str) -> int:
    """Letters, digits and Chinese characters: how much an answer says, punctuation and
    spaces left out (the grader's length and explanation measures)."""
    return len(_CONTENT_CHAR.findall(text))


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with "…" where it was cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def markdown_cell(value: object) -> str:
    """``value`` as one Markdown table cell: pipes escaped, line breaks as spaces."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def tokens(text: str) -> list[str]:
    """CJK characters and latin words (lower case): the units the overlaps count."""
    return _WORD.findall(text.lower())


def _pairs(text: str) -> list[str]:
    found = tokens(text)
    return [a + b for a, b in zip(found, found[1:], strict=False)]


def _bigrams(text: str) -> set[str]:
    return set(_pairs(text))


def overlap(source: str, other: str) -> float:
    """Share of ``source``'s bigrams of CJK characters and latin words that ``other``
    keeps (1.0 for a ``source`` without any)."""
    wanted = _bigrams(source)
    return len(wanted & _bigrams(other)) / len(wanted) if wanted else 1.0


def distinct_share(text: str) -> float:
    """Distinct bigrams per bigram of ``text``: low for a loop that repeats itself."""
    pairs = _pairs(text)
    return len(set(pairs)) / len(pairs) if pairs else 1.0
