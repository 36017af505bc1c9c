"""Word segmentation for BM25: jieba for Chinese, lower-cased words for English."""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

import jieba

from coach.common.text import CJK

jieba.setLogLevel(logging.WARNING)
_JIEBA = jieba.Tokenizer()
"""BM25's own dictionary: taught the bank's terms here, so grading (which segments
with a tokenizer of its own, grading/segment.py) never depends on what was indexed."""

_KEEP = re.compile(r"[\w\u4e00-\u9fff]")
STOPWORDS = frozenset(
    tomllib.loads((Path(__file__).with_name("stopwords.toml")).read_text("utf-8"))["words"]
)


def has_cjk(text: str) -> bool:
    """Chinese text or not: what the interview and the judge check a model's prose by."""
    return bool(CJK.search(text))


def add_terms(terms: list[str]) -> None:
    """Teach jieba the corpus's own terms (key-point labels such as 过拟合, 知识蒸馏).

    Why: jieba's dictionary splits many ML terms (过拟合 -> 过 / 拟合), so BM25 would
    match 拟合 in unrelated text. Index and queries must be segmented with the same
    terms, so the BM25 index stores them and re-adds them on load.
    """
    for term in terms:
        _JIEBA.add_word(term)


def tokenize(text: str) -> list[str]:
    """Search-mode segmentation so both 过拟合 and its parts can match."""
    tokens = []
    for token in _JIEBA.lcut_for_search(text.lower()):
        token = token.strip()
        if token and _KEEP.search(token) and token not in STOPWORDS:
            tokens.append(token)
    return tokens
