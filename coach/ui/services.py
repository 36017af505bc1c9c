"""What the UI shares between browser sessions: the cards, the graders, the chat
model, the searcher and the history store, each built once on first use (loading the
embedding model takes seconds; a page should not pay for it twice)."""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import Any

from coach.config import Settings
from coach.corpus.catalog import Corpus
from coach.corpus.models import QuestionCard
from coach.interview.engine import Services
from coach.store.history import HistoryStore
from coach.ui.deferred import Deferred, DeferredGrader

logger = logging.getLogger(__name__)


class NotReady(RuntimeError):
    """The index is missing (or similar); the message says what to run."""


class AppServices:
    def __init__(
        self,
        settings: Settings,
        *,
        grader: Any = None,
        chat_model: Any = None,
        searcher: Any = None,
    ) -> None:
        self.settings = settings
        self._graders: dict[bool, Any] = {True: grader} if grader is not None else {}
        self._chat_model = chat_model
        self._searcher = searcher
        self._searcher_owned = searcher is None
        """Built here (so rebuilt after a reindex), not injected by a test."""
        self._lock = threading.Lock()
        self._reindex_lock = threading.Lock()

    @cached_property
    def store(self) -> HistoryStore:
        return HistoryStore.open(self.settings)

    @cached_property
    def corpus(self) -> Corpus:
        from coach.corpus.catalog import load_corpus

        try:
            return load_corpus(self.settings.paths.corpus_file)
        except FileNotFoundError as exc:
            raise NotReady(str(exc)) from exc

    @property
    def cards(self) -> list[QuestionCard]:
        return self.corpus.cards

    def reindex(self) -> None:
        """Bring the index in line with the generated-cards store (what `coach
        accept-cards` runs after it), then drop what was loaded from the old index so the
        next interview and search see the change without a restart. Only the changed
        cards are embedded again."""
        from coach.index.ingest import ingest

        with self._reindex_lock:
            ingest([], self.settings)
            with self._lock:
                self.__dict__.pop("corpus", None)
                if self._searcher_owned:
                    self._searcher = None

    @cached_property
    def anchor_store(self) -> Any:
        from coach.grading.anchors import AnchorStore

        return AnchorStore(self.settings)

    def searcher(self) -> Any:
        with self._lock:
            if self._searcher is None:
                from coach.index.retriever import HybridSearcher
                from coach.index.store import StoreError

                try:
                    self._searcher = HybridSearcher(self.settings)
                except StoreError as exc:
                    raise NotReady(str(exc)) from exc
            return self._searcher

    def deferred_grader(self, use_llm: bool) -> Any:
        """The grader if it is loaded, else one that loads on the first grade."""
        return self._graders.get(use_llm) or DeferredGrader(lambda: self.grader(use_llm))

    def grader(self, use_llm: bool = True) -> Any:
        with self._lock:
            if use_llm not in self._graders:
                from coach.grading.grader import Grader

                self._graders[use_llm] = Grader(self.settings, use_llm=use_llm)
            return self._graders[use_llm]

    def chat_model(self) -> Any:
        if self._chat_model is None:
            from coach.llm.client import make_chat_model

            self._chat_model = make_chat_model(self.settings)
        return self._chat_model

    def job_planner(self) -> Any:
        """A planner for a job (coach/jobs/planner.py) on this process's index; the model
        takes part when its server answers and ``plan.llm`` is on."""
        from coach.jobs.planner import JobPlanner

        injected = self._chat_model is not None and not hasattr(self._chat_model, "openai_api_base")
        use = self.settings.plan.llm and self.model_problem() is None
        return JobPlanner(
            self.settings,
            self.searcher(),
            self.cards,
            chat_model=self._chat_model if injected else None,
            use_model=use,
        )

    def model_problem(self) -> str | None:
        """None when the model server answers, else the message to show (and the
        interview goes on without the model, grading by the rubric)."""
        if self._chat_model is not None and not hasattr(self._chat_model, "openai_api_base"):
            return None  # an injected test model
        from coach.llm.client import ModelServerUnavailable, check_server

        try:
            check_server(self.settings)
        except ModelServerUnavailable as exc:
            return str(exc)
        return None

    def warm_up(self) -> threading.Thread:
        """Load what the first interview needs (cards, search index, the grader's models,
        the history store) in a background thread, and grade one short answer so the
        encoders have run once. Why: they loaded on first use, so the first question
        took 8.5 s to appear after Start on a UI just started (issue 30). A failure here
        only logs: the first action loads it again and says what is wrong."""

        def run() -> None:
            try:
                cards = self.cards
                self.searcher()
                self.store  # noqa: B018 - a cached property: opening it is the point
                if cards:
                    self.grader(True).rubric.grade(cards[0].question, cards[0].question[:12])
            except Exception:  # noqa: BLE001 - reported again by the first real action
                logger.info("Warming up the interview's services failed", exc_info=True)

        thread = threading.Thread(target=run, name="coach-warm-up", daemon=True)
        thread.start()
        return thread

    def interview(self) -> Services:
        """What an interview needs; the grader and the searcher are handed over loaded
        when they are, else deferred to first use (coach/ui/deferred.py)."""
        return Services(
            settings=self.settings,
            cards=self.cards,
            grader=self.deferred_grader(True),
            store=self.store,
            chat_model=self.chat_model(),
            searcher=self._searcher or Deferred(self.searcher),
            prepared=self.prepared_store,
            phrasing_speed=self.phrasing_speed,
        )

    @cached_property
    def prepared_store(self) -> Any:
        from coach.interview.prepared import PreparedStore

        return PreparedStore(self.settings)

    @cached_property
    def phrasing_speed(self) -> Any:
        from coach.interview.model_voice import PhrasingSpeed

        return PhrasingSpeed(self.settings.interview.live_phrasing_samples)
