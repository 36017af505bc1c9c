"""Word segmentation for BM25: jieba for Chinese, lower-cased words for English."""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

import jieba

jieba.setLogLevel(logging.WARNING)

_KEEP = re.compile(r"[\w\u4e00-\u9fff]")
STOPWORDS = frozenset(
    tomllib.loads((Path(__file__).with_name("stopwords.toml")).read_text("utf-8"))["words"]
)


def tokenize(text: str) -> list[str]:
    """Search-mode segmentation so both 过拟合 and its parts can match."""
    tokens = []
    for token in jieba.lcut_for_search(text.lower()):
        token = token.strip()
        if token and _KEEP.search(token) and token not in STOPWORDS:
            tokens.append(token)
    return tokens
