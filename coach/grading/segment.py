"""Word segmentation for grading, independent of what the process has indexed.

Why a tokenizer of its own: BM25 teaches its jieba the bank's key-point labels
(coach/index/tokenize.py). Grading on the shared dictionary made an answer's terms, and
so its score, depend on which banks the process had loaded before (a complete answer
read 7.2 in the test suite and 6.6 alone). Here the dictionary is jieba's own, never
taught, and the terms of the card being graded are kept whole by ``protected``: the
same answer to the same card segments the same way in every process.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

import jieba
from jieba import posseg

jieba.setLogLevel(logging.WARNING)

_CJK_TERM = re.compile(r"^[\u4e00-\u9fff][\u4e00-\u9fff0-9A-Za-z]+$")
PROTECTED_TAG = "nz"
"""The part of speech a protected term gets (jieba's tag for other proper nouns)."""


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    return jieba.Tokenizer()


@lru_cache(maxsize=1)
def _pos_tokenizer() -> posseg.POSTokenizer:
    return posseg.POSTokenizer(_tokenizer())


def words(text: str) -> list[str]:
    """Precise-mode words."""
    return list(_words(text))


def search_words(text: str) -> list[str]:
    """Search-mode words: a long word and its parts."""
    return list(_search_words(text))


# Why caches: every answer to a card is compared with the same key points, whose words
# were cut again for each (a sixth of a warm grade's time). Bounded: a batch's answers
# pass through too.
@lru_cache(maxsize=8192)
def _words(text: str) -> tuple[str, ...]:
    return tuple(_tokenizer().lcut(text))


@lru_cache(maxsize=8192)
def _search_words(text: str) -> tuple[str, ...]:
    return tuple(_tokenizer().lcut_for_search(text))


@lru_cache(maxsize=256)
def _protected_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    kept = sorted({t for t in terms if _CJK_TERM.match(t)}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, kept))) if kept else None


def tagged_words(text: str, protected: Iterable[str] = ()) -> Iterator[tuple[str, str]]:
    """(word, part of speech), exact mode without HMM; each Chinese term of
    ``protected`` (the card's labels: 过拟合, 知识蒸馏) found in the text is one word."""
    pattern = _protected_pattern(tuple(sorted(set(protected))))
    start = 0
    for match in pattern.finditer(text) if pattern else ():
        yield from _tagged(text[start : match.start()])
        yield match.group(), PROTECTED_TAG
        start = match.end()
    yield from _tagged(text[start:])


def _tagged(text: str) -> Iterator[tuple[str, str]]:
    if text:
        for pair in _pos_tokenizer().lcut(text, HMM=False):
            yield pair.word, pair.flag
