"""Is a transcript what the candidate said? Whisper does not say when it failed.

Measured 2026-12-04 with whisper-base on espeak-ng's robotic Mandarin
(tests/data/voice/robotic_zh.wav): without a prompt it returned Latin gibberish ("U biology
is free hattukayppry..."), with the question as the prompt it returned nothing; issue 17's
probe saw it return the prompt itself, and here, prompted with the question and a key
term, it looped on the term ("词：正则化：正则化：正则化…"), and without a prompt a shorter
clip came back as digits ("3-4-3-2-3..."). Each case asks the candidate to repeat or type.
"""

from __future__ import annotations

import re

from coach.common.text import cjk_count, distinct_share, overlap, tokens
from coach.config.voice import VoiceSettings

_LETTER = re.compile(r"[^\W\d_]")

NOTHING_HEARD = "nothing_heard"
PROMPT_ECHO = "prompt_echo"
WRONG_SCRIPT = "wrong_script"
REPETITION = "repetition"
UNSURE = "unsure"
MIN_LOOP_TOKENS = 8
"""Shorter texts are too short to call a loop (``正则化，正则化`` may be an answer)."""


def problems(
    text: str,
    *,
    language: str,
    prompt: str,
    voice: VoiceSettings,
    no_speech: float = 0.0,
    avg_logprob: float = 0.0,
) -> list[str]:
    """The reasons not to trust ``text`` (empty when it looks like an answer), by the
    thresholds of ``voice``; ``no_speech`` / ``avg_logprob``: Whisper's own doubt (the
    defaults, no doubt, leave that check out)."""
    if not text.strip():
        return [NOTHING_HEARD]
    found = []
    if prompt and overlap(text, prompt) >= voice.echo_overlap:
        found.append(PROMPT_ECHO)
    long_enough = len(tokens(text)) >= MIN_LOOP_TOKENS
    if long_enough and distinct_share(text) < voice.min_distinct_share:
        found.append(REPETITION)
    if no_speech > voice.max_no_speech or avg_logprob < voice.min_avg_logprob:
        found.append(UNSURE)
    cjk, letters = cjk_count(text), len(_LETTER.findall(text))
    if language == "zh" and (not cjk or cjk / max(letters, 1) < voice.min_script_share):
        found.append(WRONG_SCRIPT)
    return found
