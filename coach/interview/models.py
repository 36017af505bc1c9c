"""The interview's data: its configuration, each asked question, and the events the
engine emits for a UI (or a test) to show."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from coach.corpus.models import QuestionCard
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


Written = Literal["", "generated", "resume"]
"""Who wrote a question's reference: ``""`` a card of the bank; ``generated`` the LLM, for
a job's area the bank does not cover; ``resume`` a deep dive into a project on the
candidate's résumé (coach/jobs). A written question is marked as such in the chat, the
grade and the report, and graded with a lower confidence."""


class JobArea(BaseModel):
    """One area of the job an interview is planned for, as the report groups by it."""

    name: str
    core: bool = True
    covered: bool = True
    """The bank (or a written question) had something to ask about it."""


class JobContext(BaseModel):
    """The job an interview is planned for (coach/jobs/plan.py): what the report groups
    results by, and the questions the plan wrote, which are in no bank."""

    job_id: str = ""
    """Its row in the history store (``HistoryStore.save_job``); empty: not saved."""
    title: str
    areas: list[JobArea] = Field(default_factory=list)
    card_areas: dict[str, str] = Field(default_factory=dict)
    """Card id -> the area it was planned for."""
    written: list[QuestionCard] = Field(default_factory=list)
    """Cards the plan wrote (``kind="generated"``; their topic says generated or resume
    through ``written_of``); asked where ``card_ids`` names them."""
    written_origin: dict[str, str] = Field(default_factory=dict)
    """Written card id -> ``generated`` or ``resume``."""
    anchors: dict[str, list[str]] = Field(default_factory=dict)
    """Résumé deep dive's card id -> its project's title, then the project's own terms."""


class InterviewConfig(BaseModel):
    topic: str | None = None
    """A topic track (a card's ``topic``); None asks from every topic."""
    questions: int = Field(default=5, ge=1)
    difficulty: Difficulty = "any"
    language: Language = "zh"
    card_ids: list[str] = Field(default_factory=list)
    """These cards, in this order (an interview planned for a job, coach/jobs); empty:
    chosen by topic, difficulty and the review schedule."""
    job: JobContext | None = None
    """The job the interview is planned for: the report groups by its areas."""


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
    written: Written = ""
    """The question was written for a job's plan, not taken from the bank."""


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
    written: Written = ""
    """Questions: written for a job's plan (``generated`` / ``resume``), not the bank's."""
