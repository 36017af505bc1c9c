"""Merging the same question asked more than once.

The banks repeat questions (up to six times, across and within files) with different
reference answers. One card per question keeps every source and the union of key
points, so a grader credits any point some reference makes and retrieval does not
return the same question five times.

Two guards keep different questions apart and the work linear in practice:
- titles that name different things (``LoRA`` / ``QLoRA``, ``P-Tuning v1`` / ``v2``,
  ``GPT-3`` / ``GPT-4``) never merge, however many characters they share: a QLoRA answer
  graded against LoRA's points is graded against the wrong question;
- candidates come from an inverted index over the rarest bigrams of each title (prefix
  filtering: two titles at Jaccard >= t must share one of the first
  ``|x| - ceil(t·|x|) + 1`` of them), so 10,000 cards are compared in seconds instead of
  minutes of all pairs, with a progress bar.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from coach.corpus.models import KeyPoint, QuestionCard
from coach.progress import progress_bar

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


_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.][0-9]+)?")
_NOT_NAMES = {"ai"}


def names(title: str) -> frozenset[str]:
    """The names a title mentions: Latin words with a digit or an inner capital (LoRA,
    QLoRA, v1, GPT, 7B) and numbers. Plain words (``overfitting``, ``What``) are not
    names, so phrasing differences still merge."""
    found = set()
    for token in _TOKEN.findall(title):
        if any(c.isdigit() for c in token) or any(c.isupper() for c in token[1:]):
            found.add(token.lower())
    return frozenset(found - _NOT_NAMES)


def same_question(a: QuestionCard, b: QuestionCard, threshold: float) -> bool:
    """Near-identical titles that name the same things."""
    return similarity(a, b) >= threshold and names(a.title) == names(b.title)


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
    """Group cards that ask the same question (single link), merge each group.

    A card joins the earliest group holding a card it matches (``same_question``), as
    an all-pairs scan in file and line order would; candidates come from the prefix
    index (see the module docstring). Returns the merged cards and how many input cards
    were folded into another.
    """
    grams = [bigrams(normalise(card.title)) for card in cards]
    named = [names(card.title) for card in cards]
    frequency = Counter(g for gram in grams for g in gram)
    # One inverted index per set of names: cards naming different things never merge.
    index: dict[frozenset[str], dict[str, list[int]]] = {}
    group_of: list[int] = []
    groups: list[list[QuestionCard]] = []
    bar = progress_bar(cards, desc="dedupe", unit="card", disable=len(cards) < 2000)
    for i, card in enumerate(bar):
        gram = grams[i]
        ordered = sorted(gram, key=lambda g: (frequency[g], g))
        prefix = ordered[: len(ordered) - math.ceil(threshold * len(ordered)) + 1]
        postings = index.setdefault(named[i], {})
        candidates = {j for g in prefix for j in postings.get(g, ())}
        matched = [
            group_of[j]
            for j in candidates
            if threshold * len(grams[j]) <= len(gram) <= len(grams[j]) / threshold
            and len(gram & grams[j]) / len(gram | grams[j]) >= threshold
        ]
        if matched:
            group = min(matched)
            groups[group].append(card)
        else:
            group = len(groups)
            groups.append([card])
        group_of.append(group)
        for g in prefix:
            postings.setdefault(g, []).append(i)
    bar.close()
    merged = [merge_group(group) for group in groups]
    return merged, len(cards) - len(merged)
