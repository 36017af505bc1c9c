"""The machine-readable findings a Grade carries in ``flags``.

Why an enum of strings: the flags are written into JSON, CSV, XLSX, the history store
and the reports, and read back by the UI, the evaluation and the tests as plain text; a
typo in one of the many places that set or test a flag used to pass silently. A
``StrEnum`` member is its value (``GradeFlag.EMPTY == "empty"``, ``str()`` and JSON
give ``"empty"``), so what is stored and shown does not change.
"""

from __future__ import annotations

from enum import StrEnum


class GradeFlag(StrEnum):
    EMPTY = "empty"
    """No answer to grade (too few content characters)."""
    DONT_KNOW = "dont_know"
    """The answer says the candidate does not know: an honest non-answer, graded 0 and
    told the point, not called empty."""
    OFF_TOPIC = "off_topic"
    """The answer matches neither the question nor any key point."""
    INJECTION = "injection"
    """The answer speaks to the grader (instructions found by the rubric or the judge)."""
    KEYWORD_STUFFING = "keyword_stuffing"
    """Most matched points are bare mentions of their terms, not explanations."""
    CONTRADICTION = "contradiction"
    """A matching sentence negates or inverts a key point's claim."""
    NOISE = "noise"
    """Part of the answer is not language (base64, random characters, lorem ipsum) and
    was not graded."""
    TRUNCATED = "truncated"
    """The answer is longer than ``grading.answer_read_chars``; its end was not read."""
    NO_MATCHING_CARD = "no_matching_card"
    """No card is close enough to the question; the nearest one was used."""
    LLM_UNAVAILABLE = "llm_unavailable"
    """The model server failed or was too slow; the rubric's grade stands."""
    LLM_INVALID_OUTPUT = "llm_invalid_output"
    """The model answered, but not with a usable verdict or score."""
    OTHER_PROJECT = "other_project"
    """A résumé deep dive answered about something else: the answer names neither the
    project nor any of its own terms (coach/interview/written.py)."""
    WRITTEN_REFERENCE = "written_reference"
    """The reference points were written for a job's plan (by the LLM, or from a résumé
    project), not by a person: the grade is less sure (coach/jobs)."""


DECISIVE_FLAGS = (GradeFlag.EMPTY, GradeFlag.DONT_KNOW, GradeFlag.INJECTION, GradeFlag.OFF_TOPIC)
"""There is nothing to credit, or the answer speaks to the grader: the grade is sure
(confidence) and the LLM may not lift it (formula.no_lift)."""
CAPPED_FLAGS = (*DECISIVE_FLAGS, GradeFlag.KEYWORD_STUFFING)
"""Flags that cap the rubric's score; their feedback always stays in the grade."""
LOOSE_REFERENCE_FLAGS = (GradeFlag.NO_MATCHING_CARD,)
"""The reference is only loosely the question's: the grade is less sure."""
LLM_FALLBACK_FLAGS = (GradeFlag.LLM_UNAVAILABLE, GradeFlag.LLM_INVALID_OUTPUT)
"""The LLM's verdict is missing and the rubric's score stands."""
