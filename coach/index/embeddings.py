"""Sentence embeddings with the query/passage prompts e5-style models need.

e5 models are trained with ``query: `` and ``passage: `` prefixes; mixing them up costs
a lot of recall, so the prefix is applied here and nowhere else.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from functools import lru_cache

import numpy as np
from langchain_core.embeddings import Embeddings

from coach.config import Settings
from coach.hardware import resolve_cpu_dtype


class Embedder(Embeddings):
    """A sentence-transformers model behind LangChain's ``Embeddings`` interface."""

    def __init__(self, settings: Settings) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # one "Loading weights" bar per command is noise

        from coach.packs.base import resolve_model_path

        self.name = settings.embedding.model
        self.path = resolve_model_path(settings.embedding.model, settings.paths.models_dir)
        self.model = SentenceTransformer(self.path, device="cpu")
        self.batch_size = settings.embedding.batch_size
        self.query_prompt = settings.embedding.query_prompt
        self.passage_prompt = settings.embedding.passage_prompt
        self.dtype = resolve_cpu_dtype(settings.embedding.dtype)
        self.lock = threading.RLock()
        """Held around every use of the model and its tokenizer, here and in the grader's
        token encoder: a fast tokenizer keeps its padding and truncation settings in
        shared state, so one thread's call without padding (the token encoder's windows)
        broke another's padded batch ("Unable to create tensor")."""

    def precision(self) -> contextlib.AbstractContextManager:
        """The context every forward pass of this model runs in (see ``embedding_dtype``);
        the grader's token encoder uses it too, so both see the same vectors."""
        if self.dtype != "bfloat16":
            return contextlib.nullcontext()
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16)

    def encode(self, texts: list[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self.lock, self.precision():
            vectors = self.model.encode(
                texts,
                prompt=prompt,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_tensor=True,
                show_progress_bar=False,
            )
        return vectors.float().numpy()

    def encode_batches(self, texts: list[str], as_query: bool = False) -> Iterator[np.ndarray]:
        """Texts in batches, so callers can drive a progress bar.

        ``as_query``: embed with the query prompt. Indexed question phrasings use it,
        because matching a question to a question is a symmetric task, for which e5 asks
        for the ``query:`` prefix on both sides.
        """
        prompt = self.query_prompt if as_query else self.passage_prompt
        for start in range(0, len(texts), self.batch_size):
            yield self.encode(texts[start : start + self.batch_size], prompt)

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    # LangChain's Embeddings interface
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts, self.passage_prompt).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text], self.query_prompt)[0].tolist()


@lru_cache(maxsize=4)
def _cached(settings_json: str) -> Embedder:
    return Embedder(Settings.model_validate_json(settings_json))


def get_embedder(settings: Settings) -> Embedder:
    """One loaded model per process and configuration: loading costs seconds."""
    return _cached(settings.model_dump_json())
