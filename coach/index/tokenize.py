"""Word segmentation for BM25: jieba for Chinese, lower-cased words for English."""

from __future__ import annotations

import logging
import re

import jieba

jieba.setLogLevel(logging.WARNING)

_KEEP = re.compile(r"[\w\u4e00-\u9fff]")
STOPWORDS = frozenset(
    "的 了 和 是 在 中 有 与 及 或 等 对 为 以 将 可以 如何 怎么 怎样 什么 哪些 一个 进行 "
    "通过 使用 请 吗 呢 啊 吧 the a an of to and or in on for is are how what which "
    "do does with be can".split()
)


def tokenize(text: str) -> list[str]:
    """Search-mode segmentation so both 过拟合 and its parts can match."""
    tokens = []
    for token in jieba.lcut_for_search(text.lower()):
        token = token.strip()
        if token and _KEEP.search(token) and token not in STOPWORDS:
            tokens.append(token)
    return tokens
