"""Mock interviews and spaced review."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from coach.config.section import Commas, Section


class InterviewSettings(Section):
    """Mock interviews and spaced review (coach/interview, coach/store)."""

    env_prefix: ClassVar[str] = "COACH_INTERVIEW_"
    env_names: ClassVar[dict[str, str]] = {
        "review_intervals_days": "COACH_REVIEW_INTERVALS_DAYS",
    }

    questions: int = Field(default=5, ge=1, le=50)
    """Main questions per mock interview (the UI's default; the candidate may change it)."""
    max_questions: int = Field(default=20, ge=1)
    follow_ups: int = Field(default=2, ge=0, le=10)
    """Follow-up questions at most after each main question. The program, not the model,
    decides whether to ask one: only while key points are still missed, or once for depth."""
    pass_score: float = Field(default=6.0, ge=0, le=10)
    """A main question scored below this comes back in a later interview (review box 1)."""
    depth_score: float = Field(default=8.0, ge=0, le=10)
    """Every key point covered but the score below this: one follow-up asks for depth."""
    rephrase: bool = True
    """Let the model phrase each card's question like an interviewer (falls back to the
    card's own text when the model is down or answers badly)."""
    rephrase_window_s: float = Field(default=5.0, ge=0)
    """The card's question is shown at once; the model's phrasing replaces it only if it
    is ready within this many seconds (while the candidate reads). 0: never ask."""
    follow_up_window_s: float = Field(default=2.5, ge=0)
    """A templated follow-up is shown at once; the model's replaces it only within this
    bound. 0: templated follow-ups only."""
    live_phrasing_samples: int = Field(default=3, ge=1)
    """The process's first this many phrasings are timed; when their median exceeds the
    window, the model is not asked to phrase again (prepared questions and templates
    are shown at once instead), so a slow CPU model stops spending its time on phrasings
    nobody sees."""
    question_max_chars: int = 300
    """A phrased question longer than this is not trusted; the card's text is used."""
    question_min_overlap: float = Field(default=0.25, ge=0, le=1)
    """A phrased Chinese question must keep this share of the card question's character
    bigrams, else the card's text is used (catches a small model's rambling)."""
    max_answer_chars: int = 8_000
    """Longer answers are refused with a message (the text stays in the box)."""
    difficulty_points: Annotated[tuple[int, int], Commas] = (3, 5)
    """A card with at most the first number of key points is easy, at most the second
    medium, more is hard: the number of points an answer must cover is what makes a
    question hard to answer fully."""
    hint_chars: int = 40
    """A hint to a follow-up shows this much of the probed point's explanation."""
    chat_max_tokens: int = 96
    """Tokens for a phrased question or follow-up (one line; short for speed on CPU)."""
    coach_k: int = 4
    """Retrieved passages the coach answers a free question from."""
    coach_max_tokens: int = Field(default=512, ge=16)
    coach_passage_chars: int = Field(default=400, ge=50)
    """Each passage as the coach's prompt shows it, at most (prefill time on a CPU)."""
    coach_min_similarity_zh: float = Field(default=0.893, ge=0, le=1)
    """A Chinese free question whose best e5 cosine to a retrieved card's question is
    below this is not covered: the coach says so without asking the model. Fitted on the
    even lines of eval/retrieval.jsonl + eval/covered.jsonl vs eval/uncovered.jsonl,
    reported on the odd lines (``python eval/coverage.py``, eval/README.md)."""
    coach_min_similarity_en: float = Field(default=0.816, ge=0, le=1)
    """The same for a question without Chinese: e5 scores an English question lower
    against Chinese cards, so it has its own floor (fitted the same way)."""
    coach_support_min_overlap: float = Field(default=0.39, ge=0, le=1)
    """A sentence of the coach's answer is supported when it keeps at least this share
    of its character bigrams from one passage; unsupported ones are dropped from the
    final answer. Fitted on the labelled sentences of eval/support.jsonl (even lines),
    reported on the odd lines."""
    coach_support_min_similarity: float = Field(default=0.87, ge=0, le=1)
    """A sentence in another language than the passages (an English answer from a
    Chinese corpus) is supported when its e5 cosine to one passage line reaches this
    (bigrams cannot match across languages). Fitted like the overlap floor."""
    coach_claim_min_units: int = Field(default=5, ge=0)
    """A sentence of at most this many Chinese characters / Latin words ("方法如下：")
    claims nothing and is kept unchecked."""
    advice: bool = True
    """After a main answer's grade, the coach's advice: the strongest part quoted and one
    sentence, written by the model, about the point worth adding (coach/interview/
    advice.py). Streamed after the follow-up is shown; the follow-up is then the
    program's own, not phrased live (on a CPU the model's phrasing arrived in time for 1
    question in 10)."""
    advice_max_tokens: int = Field(default=80, ge=16)
    """The model's one sentence of advice."""
    summary: bool = True
    """After the debrief, the model's two or three sentences on the whole interview,
    streamed in the chat and added to the report files (coach/interview/coaching.py)."""
    summary_max_tokens: int = Field(default=96, ge=16)
    """Enough for two sentences; the 1.5B pack took 25 s for 160 tokens of six."""
    summary_max_sentences: int = Field(default=2, ge=1)
    """The model's sentences after the program's opening, at most (it was told one or
    two; the 1.5B pack wrote six, walking every question's score)."""
    stronger_by_model: bool = False
    """更好的回答 rewritten by the model instead of composed by the program (the answer
    as written plus the card's missing points, cited). Off: the 1.5B CPU pack's rewrite
    of an expert answer dropped the expert's content and took 152 s."""
    stronger_max_tokens: int = Field(default=420, ge=32)
    stronger_points: int = Field(default=4, ge=1)
    """Points of the card the composed stronger answer adds, most valuable first."""
    advice_answer_chars: int = Field(default=1200, ge=100)
    """The candidate's answer as the advice and stronger-answer prompts see it, at most."""
    advice_point_chars: int = Field(default=80, ge=20)
    """Each reference point's explanation in those prompts, at most."""
    stronger_passages: int = Field(default=2, ge=0)
    """Passages retrieval adds to the card for the stronger answer (each cited)."""
    review_intervals_days: Annotated[list[float], Commas] = Field(
        default_factory=lambda: [0.0, 1.0, 3.0, 7.0, 14.0, 30.0]
    )
    """Spaced repetition (Leitner boxes): a card in box n is due this many days after its
    last review (box 1 = answered badly: due in the next interview). A pass moves a card
    up one box, a fail (or skip, or reveal) back to box 1."""
