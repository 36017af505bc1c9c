"""The one place a grade's number is made: findings in, score and confidence out.

Read this file to know how a score comes about. The findings (grading/rubric.py) are:
- ``evidence`` (0-1): how much of the card's reference answers the answer says, in any
  words (token alignment, evidence_score.py);
- ``depth`` (0-1): on-question, specific, explained content whatever the reference says
  (substance.py): an answer that goes beyond the card earns it, a recital of the card
  earns it too, empty talk and a bare list of terms do not;
- the guards: caps for empty, off-topic, instructions to the grader, keyword stuffing;
  the contradiction factor for points the answer states the opposite of;
- with the LLM on, its 0-10 check of the answer's correctness (scorer.py).

1. ``content = max(w * evidence, depth)`` blended with their mean by
   ``formula_max_share`` (``w`` = ``formula_evidence_weight``):
   an answer is credited for saying what the card says *or* for saying something else
   that is specific and on the question; saying both does not count twice.
2. ``content`` times the contradiction factor is mapped to 0-10 through the piecewise-
   linear ``score_curve`` (chosen on the train splits of eval/interview.jsonl and LE, so
   that a strong answer reads 8-9, a textbook one 6-7, bare terms 3-4, empty talk ~2).
3. With the LLM: ``(1 - w) * that + w * llm``, ``w`` = ``weight_scorer_short`` for an
   answer under ``short_answer_chars`` content characters and ``weight_scorer`` for a
   longer one (all three measured per model by ``coach eval fit-weight`` and stored in
   coach.toml). Why by length: on a short answer the evidence side has few words to go
   on and the model's check of its correctness tells more; on a long one the evidence
   side sees the depth and a small model mostly rewards length. The LLM may lower a
   score freely but lift it by at most ``llm_max_lift`` times the answer's content, and
   not at all when a guard found nothing to credit (empty, off-topic, injection): a
   non-answer the guards catch stays caught, whatever the model says.
4. The guards' ceiling.
"""

from __future__ import annotations

import numpy as np

from coach.config import Settings
from coach.grading.flags import DECISIVE_FLAGS, GradeFlag


def content(evidence: float, depth: float, settings: Settings) -> float:
    """Step 1: 0-1."""
    share = settings.grading.formula_max_share
    evidence *= settings.grading.formula_evidence_weight
    return share * max(evidence, depth) + (1 - share) * (evidence + depth) / 2


def curve(value: float, settings: Settings) -> float:
    """Step 2: 0-1 content to the 0-10 scale through ``score_curve``."""
    knots = sorted(settings.grading.score_curve)
    xs = [x for x, _ in knots]
    ys = [y for _, y in knots]
    return float(np.interp(value, xs, ys))


def ceiling(flags: list[str], settings: Settings, wrong_share: float = 0.0) -> float:
    """Step 4: the most the guards allow. ``wrong_share``: of the card's points the
    answer speaks about, the share it states the opposite of (a reference copied with
    every claim negated scored 6.6 before this cap)."""
    g = settings.grading
    top = 10.0
    if GradeFlag.CONTRADICTION in flags and wrong_share >= g.mostly_wrong_share:
        top = g.mostly_wrong_cap
    if GradeFlag.EMPTY in flags or GradeFlag.DONT_KNOW in flags:
        top = g.empty_score
    if GradeFlag.OFF_TOPIC in flags:
        top = min(top, g.off_topic_cap)
    if GradeFlag.INJECTION in flags:
        top = min(top, g.injection_cap)
    if GradeFlag.KEYWORD_STUFFING in flags:
        top = min(top, g.stuffing_cap)
    return top


def no_lift(flags: list[str]) -> bool:
    """Whether the LLM may only lower the score, never raise it: these flags say there
    is no answer to credit (empty, off-topic) or that the answer speaks to the grader,
    and an LLM that read an injection is the one signal that may have obeyed it."""
    return any(f in flags for f in DECISIVE_FLAGS)


def llm_weight(chars: int | None, settings: Settings) -> float:
    """Step 3's ``w`` for an answer of ``chars`` content characters (None: unknown,
    read as long)."""
    g = settings.grading
    if chars is not None and chars < g.short_answer_chars:
        return g.weight_scorer_short
    return g.weight_scorer


def final_score(
    base: float,
    substance: float,
    factor: float,
    flags: list[str],
    settings: Settings,
    llm: float | None = None,
    wrong_share: float = 0.0,
    chars: int | None = None,
) -> float:
    """The grade's score, 0-10 (steps 3-4). ``base``: ``curve(content * factor)``; ``substance``:
    ``content`` (0-1), which bounds the LLM's lift; ``factor``: the contradiction factor
    (1 when nothing is contradicted); ``llm``: the LLM's 0-10, None without it;
    ``chars``: the graded answer's content characters (``common.text.content_chars``)."""
    g = settings.grading
    score = base
    if llm is not None:
        w = llm_weight(chars, settings)
        mixed = (1 - w) * base + w * llm * factor
        lift = 0.0 if no_lift(flags) else g.llm_max_lift * substance
        score = min(mixed, base + lift)
    return round(max(0.0, min(score, ceiling(flags, settings, wrong_share))), 2)
