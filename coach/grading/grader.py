"""The one entry point for grading an answer: reference -> rubric -> LLM judge -> Grade.

Why this order: the rubric's evidence (which key points the answer makes, whether it
negates them, whether it is empty, off-topic or an injection attempt) is cheap and
checkable, so it always runs and always yields a Grade. The LLM judge only refines it;
when the server is down, slow or returns junk, the rubric's Grade is returned with a
flag and a note, so nothing the user wrote is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from coach.config import Settings, get_settings
from coach.grading.flags import GradeFlag
from coach.grading.models import Grade

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)
_Outcome = TypeVar("_Outcome")


class Grader:
    """Grades answers; build one per process and reuse it (it holds the loaded models).

    ``use_llm=False`` grades with the rubric alone (``--no-llm``). ``chat_model`` replaces
    the model from ``coach.llm.client.make_chat_model`` (tests pass fakes).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        use_llm: bool = True,
        chat_model: BaseChatModel | None = None,
    ) -> None:
        from coach.grading.reference import ReferenceFinder
        from coach.grading.rubric import Rubric

        self.settings = settings or get_settings()
        self.use_llm = use_llm
        self.references = ReferenceFinder(self.settings)
        self.rubric = Rubric(self.settings)
        self._pooled = False
        self.judge = None
        self.scorer = None
        if use_llm and self.settings.grading.llm_mode == "judge":
            from coach.grading.judge import Judge

            self.judge = Judge(self.settings, chat_model=chat_model)
        elif use_llm:
            from coach.grading.scorer import LlmScorer

            self.scorer = LlmScorer(self.settings, chat_model=chat_model)

    def add_references(self, references: list[str]) -> None:
        """Count these reference cells in the evidence score's IDF pool. A batch calls it
        with all its references before grading, so a row's score does not depend on
        which rows were graded before it."""
        from coach.grading.reference import split_references

        self.rubric.evidence.add_to_pool([t for r in references for t in split_references(r)])

    def prefetch(
        self,
        answers: list[str],
        questions: Sequence[str] | None = None,
        references: Sequence[str | None] | None = None,
    ) -> None:
        """Encode a chunk of a batch's answers ahead, many per forward pass; with the
        rows' questions and reference cells, their reference side too. A row whose
        reference cannot be found is left to fail on its own, with its message."""
        from coach.grading.reference import ReferenceError

        found = []
        if questions is not None:
            self._pool_corpus()
            cells = references if references is not None else [None] * len(questions)
            for question, cell in zip(questions, cells, strict=True):
                try:
                    found.append((question, self.references.find(question, reference=cell)))
                except ReferenceError as exc:
                    logger.debug("no reference to prefetch for %r: %s", question[:60], exc)
                    continue
        self.rubric.prefetch(answers, found)

    def clear_prefetched(self) -> None:
        self.rubric.clear_prefetched()

    def _pool_corpus(self) -> None:
        """The corpus's reference answers join the IDF pool once, before the first grade
        (none when there is no index: batch files with their own references)."""
        if self._pooled:
            return
        self._pooled = True
        from pydantic import ValidationError

        from coach.corpus.catalog import load_corpus

        try:
            corpus = load_corpus(self.settings.paths.corpus_file)
        except (OSError, ValueError, ValidationError) as exc:
            # normal for a batch of files that bring their own references
            logger.debug("no corpus for the IDF pool (%s)", exc)
            return
        self.rubric.evidence.add_to_pool([t for c in corpus.cards for t in c.reference_texts()])

    async def astages(
        self,
        question: str,
        answer: str,
        *,
        reference: str | None = None,
        card_id: str | None = None,
        llm_timeout: float | None = None,
    ) -> AsyncIterator[tuple[Grade, bool]]:
        """``(grade, final)`` pairs: with the LLM on, first the rubric's grade (seconds),
        then the rubric combined with the judge's verdict (on a CPU server, a minute or
        more); without it, only the rubric's grade, final.

        Why: a candidate in a mock interview should not stare at a spinner while a CPU
        model writes its verdict; the checkable evidence can be shown at once and the
        judge's refinement replaces it when it comes.

        ``llm_timeout``: seconds the LLM's verdict may take in all (retries included)
        before the rubric's grade is final, flagged ``llm_unavailable``; None leaves only
        the per-call timeouts (a batch's calls also wait behind each other); 0: the model
        is not asked at all (see ``models.AsyncGrader``).
        """
        from coach.grading.combine import combine, combine_scored

        await asyncio.to_thread(self._pool_corpus)
        ref = await asyncio.to_thread(
            self.references.find, question, reference=reference, card_id=card_id
        )
        rubric_result = await asyncio.to_thread(self.rubric.grade, question, answer, ref)
        only_rubric = self.judge is None and self.scorer is None
        yield combine(rubric_result, None, self.settings, notes=[]), only_rubric
        if self.scorer is not None:
            scorer = self.scorer
            llm_score, notes, flags = await self._bounded(
                lambda: scorer.ascore(
                    question, rubric_result.graded_text or answer, ref, rubric_result.flags
                ),
                llm_timeout,
            )
            yield combine_scored(rubric_result, llm_score, self.settings, notes, flags), True
            return
        if self.judge is None:
            return
        judge = self.judge
        verdict, notes, flags = await self._bounded(
            lambda: judge.ajudge(question, answer, ref, rubric_result), llm_timeout
        )
        grade = combine(rubric_result, verdict, self.settings, notes=notes)
        grade.flags.extend(f for f in flags if f not in grade.flags)
        yield grade, True

    async def _bounded(
        self, call: Callable[[], Awaitable[_Outcome]], timeout: float | None
    ) -> _Outcome | tuple[None, list[str], list[str]]:
        """The scorer's or judge's outcome, or (None, note, flag) when it takes longer
        than ``timeout`` seconds: a server that accepts the request but never answers.
        A timeout of 0 or less never starts the call (``call`` is a factory for that
        reason): no request is sent that nobody would wait for."""
        if timeout is not None and timeout <= 0:
            note = (
                "The model server was not asked (no time was allowed for its verdict); "
                "graded by the rubric alone."
            )
            return None, [note], [GradeFlag.LLM_UNAVAILABLE]
        try:
            async with asyncio.timeout(timeout):
                return await call()
        except TimeoutError:
            note = (
                f"The model server at {self.settings.llm.base_url} did not answer within "
                f"{timeout:g} s (COACH_LLM_TIMEOUT); graded by the rubric alone."
            )
            logger.warning(
                "The model server gave no verdict within %g s; graded by the rubric alone",
                timeout,
            )
            return None, [note], [GradeFlag.LLM_UNAVAILABLE]

    async def agrade(
        self,
        question: str,
        answer: str,
        *,
        reference: str | None = None,
        card_id: str | None = None,
        llm_timeout: float | None = None,
    ) -> Grade:
        """Grade ``answer`` to ``question``: the final grade of ``astages``.

        ``reference``: a user-given reference answer (its key points are extracted like a
        card's; nothing is retrieved). ``card_id``: grade against that card. Otherwise the
        card is found by retrieval from ``question`` (flag ``no_matching_card`` when none
        matches well). Never raises for model-server trouble: falls back to the rubric.
        ``llm_timeout``: see ``astages``.
        """
        stages = [
            grade
            async for grade, _final in self.astages(
                question, answer, reference=reference, card_id=card_id, llm_timeout=llm_timeout
            )
        ]
        return stages[-1]  # the final one; consumed to the end so the generator closes

    def grade(
        self,
        question: str,
        answer: str,
        *,
        reference: str | None = None,
        card_id: str | None = None,
        llm_timeout: float | None = None,
    ) -> Grade:
        """Synchronous ``agrade`` for scripts and the CLI (not for use inside a running
        event loop: call ``agrade`` there)."""
        return asyncio.run(
            self.agrade(
                question, answer, reference=reference, card_id=card_id, llm_timeout=llm_timeout
            )
        )
