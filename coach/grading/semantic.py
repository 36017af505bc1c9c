"""Per-sentence semantic match against key points, as contrast with background text.

Why contrast and not raw cosine: e5 cosines are compressed (nearly everything scores
0.80-0.95) and cross-language pairs score lower than same-language ones, so one cosine
threshold either misses English answers or credits any on-domain Chinese sentence.
A sentence's similarity to a point is therefore measured in standard deviations above
its similarity to a fixed set of unrelated sentences (background.txt): a sentence that
makes the point stands out from the background whatever its language.
"""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path

import numpy as np

from coach.config import Settings

BACKGROUND_FILE = Path(__file__).with_name("background.txt")


def background_sentences() -> list[str]:
    lines = BACKGROUND_FILE.read_text("utf-8").splitlines()
    return [s.strip() for s in lines if s.strip() and not s.startswith("#")]


class SemanticMatcher:
    """Holds the embedder and caches key-point vectors (the same cards recur)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._cache: dict[str, np.ndarray] = {}
        self._prefetched: dict[str, np.ndarray] = {}

    @cached_property
    def embedder(self):  # noqa: ANN201 - coach.index.embeddings.Embedder
        from coach.index.embeddings import get_embedder

        return get_embedder(self.settings)

    def encode(self, texts: list[str], cache: bool = True) -> np.ndarray:
        """Normalised vectors with the symmetric (``query:``) prefix. Key points and
        background are cached (they recur); answers are not (a batch would fill memory).
        One lock: the model is shared by concurrent gradings (batch runs them in threads)."""
        with self._lock:
            if not cache:
                if texts and all(t in self._prefetched for t in texts):
                    return np.stack([self._prefetched[t] for t in texts])
                return self.embedder.encode(texts, self.settings.embedding.query_prompt)
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
            if missing:
                vectors = self.embedder.encode(missing, self.settings.embedding.query_prompt)
                self._cache.update(zip(missing, vectors, strict=True))
            return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 0))

    def prefetch(self, texts: list[str]) -> None:
        """Encode answers' units ahead, many per forward pass (a batch grades rows one
        at a time; one text per pass leaves most of the CPU's throughput unused). The
        prefetched vectors stay until ``clear_prefetched`` (the end of the chunk): the
        same answer may occur twice in one chunk."""
        todo = sorted({t for t in texts if t not in self._prefetched}, key=len)
        if not todo:
            return
        vectors = self.embedder.encode(todo, self.settings.embedding.query_prompt)
        with self._lock:
            self._prefetched.update(zip(todo, vectors, strict=True))

    def clear_prefetched(self) -> None:
        with self._lock:
            self._prefetched.clear()

    @cached_property
    def background(self) -> np.ndarray:
        return self.encode(background_sentences())

    def contrast(
        self, units: list[str], targets: list[str], vectors: np.ndarray | None = None
    ) -> np.ndarray:
        """z[i, j]: how far unit i's similarity to target j stands above unit i's
        similarity to the background, in the background's standard deviations.
        ``vectors``: the units' vectors when the caller has them (one encoding per
        answer, not one per comparison)."""
        if not units or not targets:
            return np.zeros((len(units), len(targets)))
        background = self.background
        u = vectors if vectors is not None else self.encode(units, cache=False)
        t = self.encode(targets)
        against_background = u @ background.T
        mean = against_background.mean(axis=1, keepdims=True)
        std = against_background.std(axis=1, keepdims=True) + 1e-6
        return (u @ t.T - mean) / std
