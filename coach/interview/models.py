"""The interview's data: its configuration, each asked question, and the events the
engine emits for a UI (or a test) to show."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from coach.grading.models import Grade
from coach.speech.models import Delivery

Language = Literal["zh", "en"]
Difficulty = Literal["any", "easy", "medium", "hard"]
Phase = Literal["idle", "awaiting_answer", "awaiting_follow_up", "finished"]
Outcome = Literal["pending", "answered", "skipped", "revealed", "passed"]
"""``passed``: a follow-up the candidate left with 下一题 (moving on is not a failure)."""
EventKind = Literal[
    "question",  # a main question (streamed while the model phrases it)
    "follow_up",  # a follow-up question (streamed)
    "grading",  # grading has started (the answer is already saved)
    "grade",  # a finished grade
    "hint",
    "reference",  # the reference answer with its sources
    "coach",  # the coach's answer to a free question (streamed)
    "advice",  # the model's advice on a graded answer (streamed after the follow-up)
    "stronger",  # the model's stronger version of the candidate's answer (streamed)
    "summary",  # the model's few sentences on the whole interview, after the report (streamed)
    "notice",  # something the candidate should know (model down, empty answer, ...)
    "error",  # something failed; what the candidate typed is kept
    "report",  # the session is over
]


class InterviewConfig(BaseModel):
    topic: str | None = None
    """A topic track (a card's ``topic``); None asks from every topic."""
    questions: int = Field(default=5, ge=1)
    difficulty: Difficulty = "any"
    language: Language = "zh"
    card_ids: list[str] = Field(default_factory=list)
    """These cards, in this order (an interview planned for a job, coach/jobs); empty:
    chosen by topic, difficulty and the review schedule."""


class Turn(BaseModel):
    """One asked question (main or follow-up) and what became of it."""

    kind: Literal["main", "follow_up"]
    card_id: str
    topic: str
    title: str
    text: str
    question_id: int = 0
    """Its row in the history store."""
    targets: list[str] = Field(default_factory=list)
    """Key-point labels a follow-up probes (empty for a main or a depth follow-up)."""
    answer: str | None = None
    answer_id: int = 0
    grade: Grade | None = None
    outcome: Outcome = "pending"
    hints: int = 0
    delivery: Delivery | None = None
    """Set when the answer was spoken: the recordings' length and pace, for the feedback."""
    advice: str | None = None
    """The model's advice on the answer (not part of the score)."""
    stronger: str | None = None
    """The model's stronger version of the answer, when asked for."""


class Event(BaseModel):
    """What the engine tells its UI. Streamed kinds come as several events with the
    text so far (``done=False``), then one with the final text (``done=True``)."""

    kind: EventKind
    text: str = ""
    done: bool = True
    grade: Grade | None = None
    sources: list[str] = Field(default_factory=list)
    """``file:line`` of what the text rests on (reference answers, coach answers)."""
    turn: int | None = None
    """Index of the turn the event belongs to."""
    revised: bool = False
    """A question or follow-up shown earlier, now in the model's phrasing: replace it."""
    number: int | None = None
    """Questions and follow-ups: the main question's number in the interview (1-based)."""
    total: int | None = None
    """Questions and follow-ups: the interview's main questions."""
    topic: str = ""
    """Questions and follow-ups: the card's topic."""
    delivery: Delivery | None = None
    """A grade of a spoken answer: the recordings' length and pace, for the feedback."""
