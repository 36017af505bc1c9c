"""Does a sentence that names a key point negate or invert its claim?

Measured in DESIGN.md: wrong answers built from the reference's own words ("不应该使用
正则化", "量化会让推理变慢") fool any overlap measure, lexical or semantic, because the
words are all there. Three cheap checks catch the common forms, each on tokens so that
不断 / 不同 / 不平衡 are not read as negations:
- a negator whose scope holds the point's name or one of its explanation's words;
- a word whose antonym the point uses about the same subject (提高/降低 泛化能力);
- a harmful outcome (变慢, 更容易过拟合) asserted of a technique the point recommends.
A point whose own text is negated is left to the LLM judge (double negation is where
rules go wrong).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from coach.grading.segment import search_words, words
from coach.index.tokenize import STOPWORDS

POLARITY_FILE = Path(__file__).with_name("polarity.toml")
_PUNCT = re.compile(r"^[\s，,。.;；:：!！?？、()（）\[\]\"'“”‘’]+$")
_CONTENT = re.compile(r"[\w\u4e00-\u9fff]")


@dataclass(frozen=True)
class PolarityLexicon:
    negators: frozenset[str]
    scope: int
    antonyms: dict[str, frozenset[str]]
    window: int
    generic: frozenset[str]
    harmful: tuple[str, ...]
    weighing: tuple[str, ...]


@lru_cache(maxsize=1)
def lexicon() -> PolarityLexicon:
    data = tomllib.loads(POLARITY_FILE.read_text("utf-8"))
    antonyms: dict[str, set[str]] = {}
    for a, b in data["antonyms"]:
        antonyms.setdefault(a, set()).add(b)
        antonyms.setdefault(b, set()).add(a)
    return PolarityLexicon(
        negators=frozenset(data["negators_zh"]) | frozenset(data["negators_en"]),
        scope=int(data["scope_tokens"]),
        antonyms={k: frozenset(v) for k, v in antonyms.items()},
        window=int(data["antonym_window"]),
        generic=frozenset(data["generic"]),
        harmful=tuple(data["harmful_zh"]) + tuple(data["harmful_en"]),
        weighing=tuple(data["weighing_zh"]) + tuple(data["weighing_en"]),
    )


def tokens(text: str) -> list[str]:
    """Precise-mode jieba tokens, lower-cased, spaces dropped, punctuation kept (it
    ends a negator's scope)."""
    return [t for t in (t.strip() for t in words(text.lower())) if t]


def content_terms(text: str) -> set[str]:
    """Words that carry meaning: no stopwords, no single CJK characters."""
    out = set()
    for t in search_words(text.lower()):
        t = t.strip()
        if not t or t in STOPWORDS or not _CONTENT.search(t):
            continue
        if len(t) == 1 and not t.isascii():
            continue
        out.add(t)
    return out


def _is_negated_text(toks: list[str]) -> bool:
    return any(t in lexicon().negators for t in toks)


def _negated_spans(toks: list[str]) -> list[str]:
    """The text each negator governs: the tokens after it, until punctuation."""
    lex = lexicon()
    spans: list[str] = []
    for i, t in enumerate(toks):
        if t not in lex.negators:
            continue
        scope: list[str] = []
        for follower in toks[i + 1 : i + 1 + lex.scope]:
            if _PUNCT.match(follower):
                break
            scope.append(follower)
        if scope:
            spans.append(" ".join(scope) if t.isascii() else "".join(scope))
    return spans


def _object_terms(toks: list[str], index: int) -> set[str]:
    """Content words right after ``toks[index]`` (what the verb acts on)."""
    lex = lexicon()
    out: set[str] = set()
    for t in toks[index + 1 : index + 1 + lex.window]:
        if _PUNCT.match(t):
            break
        if len(t) > 1 and t not in STOPWORDS and t not in lex.generic and _CONTENT.search(t):
            out.add(t)
    return out


def contradiction(
    sentence: str, names: list[str], point_text: str, context: str | None = None
) -> str | None:
    """Why ``sentence`` contradicts the point (``names``: its label and alias;
    ``point_text``: label, alias and explanation), or None. ``context``: the whole
    sentence when ``sentence`` is one of its clauses (the reason that makes a negation
    a judgement is often in the next clause: "不可能去 grid search，一次预训练几十万美金")."""
    lex = lexicon()
    s_toks = tokens(sentence)
    p_toks = tokens(point_text)
    if _is_negated_text(p_toks):
        return None
    lowered = sentence.lower()
    weighs = any(w in (context or sentence).lower() for w in lex.weighing)
    # 1. a negator governing the point's name or one of its explanation's words, unless
    # the sentence weighs the method (a reason, a condition, an alternative)
    spans = _negated_spans(s_toks)
    scoped_terms = set().union(*(content_terms(s) for s in spans)) if spans else set()
    name_hit = any(n and n.lower() in span for n in names for span in spans)
    point_terms = content_terms(point_text)
    named = any(n and n.lower() in lowered for n in names)
    if (name_hit or (named and scoped_terms & point_terms)) and not weighs:
        return "negated"
    # 2. an antonym of the point's word, about the same subject, in a sentence that names
    # the point ("欠采样，减少多数类样本" does not invert 过采样's "增加少数类样本")
    for i, t in enumerate(s_toks if named else []):
        opposites = lex.antonyms.get(t)
        if not opposites or t in p_toks:
            continue
        objects = _object_terms(s_toks, i)
        for j, p in enumerate(p_toks):
            if p in opposites and objects & _object_terms(p_toks, j) - {t, p}:
                return f"inverted ({t} / {p})"
    # 3. a harmful outcome claimed for a technique the point recommends (not when weighed)
    if named and not weighs:
        for word in lex.harmful:
            if word in lowered and word not in point_text.lower():
                return f"harmful outcome ({word})"
    return None
