"""Text in an answer that is not language: base64, random characters, lorem ipsum.

Why: appended to a partial answer (graded 2.5) any of them raised the grade to 4.0-4.4,
and lorem ipsum alone "covered" 正则化: e5 maps strings it cannot read to vectors that
sit close to many things, so every token of noise is one more chance for a reference
token to find a match. A person skips such text; so does the grade. Only stretches of
ASCII are judged (the corpus is Chinese, the noise seen is ASCII), and only when most of
a stretch is not words, so English answers, code and terms (LoRA, fp16, 1e-4, warm-up)
stay.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

from coach.config import Settings

NOISE_FILE = Path(__file__).with_name("noise.toml")
_ASCII_RUN = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")
_PART_SPLIT = re.compile(r"[./_\-=:(),+\[\]'\"`*#;!?<>{}|\\~^&%@$]+")
_EDGE = "\"'`.,;:!?()[]{}<>*#"
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)*(?:e-?\d+)?[a-z%]{0,3}$", re.IGNORECASE)
_VOWEL = re.compile(r"[aeiouy]", re.IGNORECASE)
_URL = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)


@lru_cache(maxsize=1)
def lorem_words() -> frozenset[str]:
    return frozenset(tomllib.loads(NOISE_FILE.read_text("utf-8"))["lorem"])


def _part_is_word(part: str, max_chars: int) -> bool:
    if not part or _NUMBER.match(part):
        return True
    if not part.isalnum() or not part.isascii() or len(part) > max_chars:
        return False
    if part.isalpha():
        # words have vowels; acronyms (RLHF, SFT, KV) are short and upper case
        return bool(_VOWEL.search(part)) or (part.isupper() and len(part) <= 6)
    return len(part) <= 8  # GPT4, A100, fp16, int8, 70B


def is_word(token: str, max_chars: int) -> bool:
    """A token a reader takes for a word, a number, a term or a bit of code."""
    core = token.strip(_EDGE)
    if not core or _URL.match(core):
        return True  # a link is a citation, not noise (its instructions are injection.py's)
    symbols = sum(1 for c in core if not c.isalnum())
    if symbols > 0.4 * len(core):
        return False
    return all(_part_is_word(p, max_chars) for p in _PART_SPLIT.split(core))


def noise_spans(text: str, settings: Settings) -> list[str]:
    """The stretches of ``text`` that are noise, in order."""
    g = settings.grading
    lorem = lorem_words()
    spans: list[str] = []
    for match in _ASCII_RUN.finditer(text):
        run = match.group()
        tokens = run.split()
        if len(run) < g.noise_min_chars or not tokens:
            continue
        chars = sum(len(t) for t in tokens)
        junk = sum(len(t) for t in tokens if not is_word(t, g.noise_word_max_chars))
        words = [t.strip(_EDGE).lower() for t in tokens if t.strip(_EDGE).isalpha()]
        latin = sum(1 for w in words if w in lorem)
        if junk > g.noise_share * chars or (len(words) >= 3 and latin > g.noise_share * len(words)):
            spans.append(run)
    return spans


def without_noise(text: str, settings: Settings) -> tuple[str, list[str]]:
    """``text`` without its noise, and the pieces taken out."""
    spans = noise_spans(text, settings)
    for span in spans:
        text = text.replace(span, " ")
    return text, spans
