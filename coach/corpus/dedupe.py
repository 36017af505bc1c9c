"""Merging the same question asked more than once.

The banks repeat questions (up to six times, across and within files) with different
reference answers. One card per question keeps every source and the union of key
points, so a grader credits any point some reference makes and retrieval does not
return the same question five times.
"""

from __future__ import annotations

import re

from coach.corpus.models import KeyPoint, QuestionCard

# Words that every question in these banks shares; they say nothing about which one it is.
_FILLER = re.compile(
    r"在\s*AI\s*大模型创业中[，,]?|AI|大模型|如何|怎样|怎么|什么是|什么|哪些|有哪些|请|简要|简述|"
    r"简要介绍|简要解释|说明|列举|确保|的|中|问题|风险|方法|技术|模型|训练|处理|过程|提高|提升|优化|"
    r"进行|[\s\W_]+",
    re.IGNORECASE,
)


_SYNONYMS = {"数据集": "数据", "保证": "确保", "调优": "调整"}


def normalise(text: str) -> str:
    """The distinctive words of a question title; the raw title if nothing is left."""
    for word, canonical in _SYNONYMS.items():
        text = text.replace(word, canonical)
    core = _FILLER.sub("", text)
    return core if len(core) >= 2 else re.sub(r"[\s\W_]+", "", text)


def bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} or {text}


def similarity(a: QuestionCard, b: QuestionCard) -> float:
    """Jaccard similarity of character bigrams of the normalised titles."""
    x, y = bigrams(normalise(a.title)), bigrams(normalise(b.title))
    return len(x & y) / len(x | y)


def _key(point: KeyPoint) -> str:
    return normalise(point.label).lower() or point.label


def merge_group(cards: list[QuestionCard]) -> QuestionCard:
    """The first card (in file and line order) is canonical; the others add to it."""
    first, *rest = cards
    merged = first.model_copy(deep=True)
    merged.references = first.reference_texts()
    seen = {_key(p): p for p in merged.key_points}
    for card in rest:
        merged.sources.extend(card.sources)
        merged.variants.extend(v for v in card.variants if v not in merged.variants)
        for point in card.key_points:
            known = seen.get(_key(point))
            if known is None:
                copy = point.model_copy()
                merged.key_points.append(copy)
                seen[_key(point)] = copy
            elif known.alias is None and point.alias:
                known.alias = point.alias
        for name in ("analysis", "example"):
            extra = getattr(card, name)
            if extra and extra not in getattr(merged, name):
                setattr(merged, name, f"{getattr(merged, name)}\n\n{extra}".strip())
        merged.code.extend(c for c in card.code if c not in merged.code)
        if card.answer and card.answer not in merged.answer:
            merged.answer = f"{merged.answer}\n\n{card.answer}".strip()
        merged.references.extend(r for r in card.reference_texts() if r not in merged.references)
    return merged


def dedupe(cards: list[QuestionCard], threshold: float) -> tuple[list[QuestionCard], int]:
    """Group cards whose titles are near-identical (single link), merge each group.

    Returns the merged cards and how many input cards were folded into another.
    """
    groups: list[list[QuestionCard]] = []
    for card in cards:
        for group in groups:
            if any(similarity(card, other) >= threshold for other in group):
                group.append(card)
                break
        else:
            groups.append([card])
    merged = [merge_group(group) for group in groups]
    return merged, len(cards) - len(merged)
