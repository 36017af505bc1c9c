"""Key points: the checkable claims a reference answer makes.

The question banks write answers as lists whose items open with a bold label
(``1. **数据增强（Data Augmentation）：** 通过…``). The label, its English alias and the
explanation become one ``KeyPoint``. The same function reads a teacher's free-text
reference (no list, no bold), so graders treat both the same way.
"""

from __future__ import annotations

import re

from coach.corpus.models import KeyPoint

_ITEM = re.compile(r"^(?P<indent>\s*)(?:\d+[.、)]|[-*+•])\s+(?P<body>.+)$")
# **标签：** rest   |   **标签**：rest   |   **标签** rest
_BOLD_LABEL = re.compile(r"^\*\*(?P<label>[^*]+?)[：:]?\*\*\s*[：:]?\s*(?P<rest>.*)$")
_PLAIN_LABEL = re.compile(r"^(?P<label>[^：:，,。]{1,24})[：:]\s*(?P<rest>.+)$")
_ALIAS = re.compile(r"^(?P<label>.+?)\s*[（(](?P<alias>[^（）()]*[A-Za-z][^（）()]*)[）)]\s*$")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])\s*|(?<=[.])\s+")
_MARKDOWN = re.compile(r"\*\*|`")


def clean_inline(text: str) -> str:
    """Strip inline markdown so text can be shown, tokenised and compared."""
    return _MARKDOWN.sub("", text).strip()


def split_label(label: str) -> tuple[str, str | None]:
    """``数据增强（Data Augmentation）`` -> (``数据增强``, ``Data Augmentation``)."""
    match = _ALIAS.match(label.strip())
    if match:
        return match["label"].strip(), match["alias"].strip()
    return label.strip(), None


def _point_from_item(body: str) -> KeyPoint:
    match = _BOLD_LABEL.match(body) or _PLAIN_LABEL.match(clean_inline(body))
    if match:
        label, alias = split_label(clean_inline(match["label"]))
        return KeyPoint(label=label, alias=alias, explanation=clean_inline(match["rest"]))
    text = clean_inline(body)
    return KeyPoint(label=text, explanation="")


def split_sentences(text: str) -> list[str]:
    """Sentences of Chinese or English prose, without empty pieces."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def extract_key_points(answer: str) -> list[KeyPoint]:
    """Key points of an answer: its top-level list items, or else its sentences.

    Nested items and continuation lines belong to the item above them, because in
    these documents they elaborate that item rather than make a new point.
    """
    points: list[KeyPoint] = []
    top_indent: int | None = None
    for line in answer.splitlines():
        item = _ITEM.match(line)
        if item:
            indent = len(item["indent"].expandtabs(4))
            if top_indent is None:
                top_indent = indent
            if indent <= top_indent:
                points.append(_point_from_item(item["body"].strip()))
                continue
        if points and line.strip() and (item or line.startswith((" ", "\t"))):
            extra = clean_inline(item["body"] if item else line)
            points[-1].explanation = f"{points[-1].explanation} {extra}".strip()
    if points:
        return points
    prose = clean_inline(" ".join(answer.split()))
    return [KeyPoint(label=s) for s in split_sentences(prose)]
