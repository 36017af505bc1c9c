"""The evidence score: how much of a reference answer an answer says, in any words.

Why soft token alignment and not the rubric's steps: measured on two human-scored sets
(DESIGN.md, eval/README.md), covered/partial/missed steps and hard zeros destroy the
ranking people make, while the best cosine of every reference token against the answer's
tokens (e5's contextual token vectors, BERTScore-style recall) follows it closely and
credits paraphrases, plain-language synonyms and answers in another language. One
forward pass of the e5 model gives both the token vectors and the sentence vector (its
mean pooling), so the score costs one encoding of the answer.

Weights: a token's IDF (from the corpus and the reference pool, so 的/the count little)
times ``grading_question_token_weight`` when the question has the token (restating the
question earns nothing). The raw recall is compressed (unrelated text already scores
~0.75); it is mapped to 0-1 by a fixed, label-free line (``grading_recall_floor``).
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from coach.config import Settings


@dataclass(frozen=True)
class TokenView:
    """One text as the e5 model sees it: content tokens only (no special or prompt
    tokens), each with its character span, plus the sentence vector."""

    text: str
    ids: np.ndarray
    vectors: np.ndarray
    """(tokens, dim), each row unit length."""
    spans: list[tuple[int, int]]
    sentence: np.ndarray
    """Unit-length mean pooling over every token, as e5's sentence embedding."""


class TokenEncoder:
    """Runs the sentence-transformers model once per text and keeps its token vectors.

    Why not ``SentenceTransformer.encode(output_value="token_embeddings")``: it loses the
    token ids and character offsets, which the IDF weights and the evidence spans need.
    """

    def __init__(self, settings: Settings, embedder) -> None:  # noqa: ANN001 - Embedder
        self.settings = settings
        self.embedder = embedder
        self.model = embedder.model
        self.tokenizer = self.model.tokenizer
        self.special = set(self.tokenizer.all_special_ids)
        self._lock = threading.Lock()
        self._cache: dict[str, TokenView] = {}
        self._prefetched: dict[str, TokenView] = {}

    def views(self, texts: list[str], cache: bool = True) -> list[TokenView]:
        """Views of ``texts``; references and key points recur and are cached, answers
        are not (a batch would fill memory). A text longer than the model reads at once
        is read in windows (``windows``) whose views are joined: every part counts."""
        with self._lock:
            if not cache and texts and all(t in self._prefetched for t in texts):
                return [self._prefetched[t] for t in texts]
            pieces = {t: self.windows(t) for t in dict.fromkeys(texts) if t not in self._cache}
            todo = sorted(
                {w for ws in pieces.values() for _, w in ws}, key=len
            )  # similar lengths per batch: less padding
            encoded = self._encode(todo)
            fresh = {t: _joined(t, [(at, encoded[w]) for at, w in ws]) for t, ws in pieces.items()}
            if cache:
                self._cache.update(fresh)
            return [self._cache.get(t) or fresh[t] for t in texts]

    def windows(self, text: str) -> list[tuple[int, str]]:
        """``(offset, piece)`` pieces of ``text`` that each fit the model's window, cut
        at a sentence end where there is one. Why: e5 reads 512 tokens, and an answer
        cut there lost its end without a word (the reference after a long introduction
        scored 0.39); spoken answers run long."""
        limit = self.settings.grading.token_max_length - self.settings.grading.window_margin
        with self.embedder.lock:
            offsets = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)[
                "offset_mapping"
            ]
        if len(offsets) <= limit:
            return [(0, text)]
        out: list[tuple[int, str]] = []
        start_token = 0
        while start_token < len(offsets):
            end_token = min(len(offsets), start_token + limit)
            lo = offsets[start_token][0]
            hi = offsets[end_token - 1][1] if end_token == len(offsets) else offsets[end_token][0]
            if end_token < len(offsets):
                cut = max(text.rfind(ch, lo, hi) for ch in _WINDOW_ENDS)
                if cut > lo + (hi - lo) // 2:
                    hi = cut + 1
                    while end_token > start_token + 1 and offsets[end_token - 1][0] >= hi:
                        end_token -= 1
            out.append((lo, text[lo:hi]))
            start_token = end_token
        return out

    def _encode(self, todo: list[str]) -> dict[str, TokenView]:
        import torch

        fresh: dict[str, TokenView] = {}
        size = self.settings.embedding.batch_size
        for start in range(0, len(todo), size):
            batch = todo[start : start + size]
            with self.embedder.lock, torch.inference_mode(), self.embedder.precision():
                encoded = self._tokenize(batch, padding=True, return_tensors="pt")
                offsets = encoded.pop("offset_mapping").numpy()
                out = self.model[0].auto_model(**encoded, output_hidden_states=True)
            last = out.last_hidden_state.float().numpy()
            hidden = out.hidden_states[self.settings.grading.token_layer].float().numpy()
            mask = encoded["attention_mask"].numpy().astype(bool)
            ids = encoded["input_ids"].numpy()
            for k, text in enumerate(batch):
                fresh[text] = self._view(text, ids[k], hidden[k], last[k], offsets[k], mask[k])
        return fresh

    def token_ids(self, texts: list[str]) -> list[np.ndarray]:
        """The ids ``views`` would keep for each text, from the tokenizer alone: the IDF
        pool needs only these, and a forward pass per corpus reference cost a batch
        with its own references seconds before its first row."""
        out: list[np.ndarray] = []
        for start in range(0, len(texts), self.settings.embedding.batch_size):
            batch = texts[start : start + self.settings.embedding.batch_size]
            with self.embedder.lock:
                encoded = self._tokenize(batch)
            for k, text in enumerate(batch):
                ids = np.asarray(encoded["input_ids"][k])
                offsets = np.asarray(encoded["offset_mapping"][k])
                mask = np.ones(len(ids), dtype=bool)
                out.append(ids[self._kept(text, ids, offsets, mask)].astype(np.int64))
        return out

    def _tokenize(self, batch: list[str], **options: object):  # noqa: ANN202 - BatchEncoding
        """The one tokenizer call behind ``views`` and ``token_ids`` (same prompt, cut and
        offsets, so both keep the same ids); ``options``: padding and tensors."""
        return self.tokenizer(
            [self.settings.embedding.query_prompt + t for t in batch],
            truncation=True,
            max_length=self.settings.grading.token_max_length,
            return_offsets_mapping=True,
            **options,
        )

    def prefetch(self, texts: list[str]) -> None:
        """Views of answers computed ahead in full batches, kept until
        ``clear_prefetched`` (the end of a batch's chunk)."""
        views = self.views(texts, cache=False)
        with self._lock:
            self._prefetched.update((v.text, v) for v in views)

    def clear_prefetched(self) -> None:
        with self._lock:
            self._prefetched.clear()

    def _view(
        self,
        text: str,
        ids: np.ndarray,
        hidden: np.ndarray,
        last: np.ndarray,
        offsets: np.ndarray,
        mask: np.ndarray,
    ) -> TokenView:
        shift = len(self.settings.embedding.query_prompt)
        sentence = last[mask].mean(axis=0)
        keep = self._kept(text, ids, offsets, mask)
        vectors = hidden[keep]
        vectors = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9)
        spans = [(max(0, int(offsets[i][0]) - shift), int(offsets[i][1]) - shift) for i in keep]
        return TokenView(
            text=text,
            ids=ids[keep].astype(np.int64),
            vectors=vectors.astype(np.float32),
            spans=spans,
            sentence=(sentence / (np.linalg.norm(sentence) + 1e-9)).astype(np.float32),
        )

    def _kept(self, text: str, ids: np.ndarray, offsets: np.ndarray, mask: np.ndarray) -> list[int]:
        """Positions of the text's own tokens: not padding, special or the prompt's, and
        not bare whitespace."""
        shift = len(self.settings.embedding.query_prompt)
        return [
            i
            for i in range(len(ids))
            if mask[i]
            and int(ids[i]) not in self.special
            and offsets[i][1] > shift
            and text[max(0, offsets[i][0] - shift) : offsets[i][1] - shift].strip()
        ]


_WINDOW_ENDS = "。！？!?；;\n."


def _joined(text: str, parts: list[tuple[int, TokenView]]) -> TokenView:
    """One view of ``text`` from the views of its windows (``offset``, view): tokens and
    spans in order, the sentence vector the token-weighted mean of the windows'."""
    if len(parts) == 1:
        return parts[0][1] if parts[0][1].text == text else _retext(text, parts[0][1])
    sentence = sum(len(v.ids) * v.sentence for _, v in parts)
    sentence = sentence / (np.linalg.norm(sentence) + 1e-9)
    return TokenView(
        text=text,
        ids=np.concatenate([v.ids for _, v in parts]),
        vectors=np.concatenate([v.vectors for _, v in parts]),
        spans=[(at + a, at + b) for at, v in parts for a, b in v.spans],
        sentence=sentence.astype(np.float32),
    )


def _retext(text: str, view: TokenView) -> TokenView:
    return TokenView(text, view.ids, view.vectors, view.spans, view.sentence)


class Idf:
    """Inverse document frequency of token ids over a pool of texts (smoothed)."""

    def __init__(self, documents: Iterable[np.ndarray] = ()) -> None:
        self.df: Counter[int] = Counter()
        self.n = 0
        self.add(documents)

    def add(self, documents: Iterable[np.ndarray]) -> None:
        for ids in documents:
            self.df.update(set(int(i) for i in ids))
            self.n += 1

    def weights(self, ids: np.ndarray) -> np.ndarray:
        return np.array([math.log((self.n + 1) / (self.df.get(int(i), 0) + 1)) + 1 for i in ids])


@dataclass
class Alignment:
    """How one answer covers one target text (a reference or a key point)."""

    recall: float
    """Weighted mean over the target's tokens of their best cosine in the answer."""
    precision: float
    """The same from the answer's side: how much of the answer the target supports."""
    top: np.ndarray
    """Per target token, its best cosine in the answer."""
    best: np.ndarray
    """Per target token, the index of the answer token that matches it best."""
    weights: np.ndarray

    def blend(self, precision_weight: float) -> float:
        """Recall, with a little precision so that padding an answer with unrelated text
        costs something."""
        return (self.recall + precision_weight * self.precision) / (1.0 + precision_weight)


def align(
    target: TokenView,
    answer: TokenView,
    idf: Idf,
    *,
    question_ids: set[int],
    question_weight: float,
    idf_power: float,
) -> Alignment:
    """Soft alignment both ways; tokens the question has weigh ``question_weight``."""
    if not len(target.ids) or not len(answer.ids):
        empty = np.zeros(0)
        return Alignment(0.0, 0.0, empty, np.zeros(0, dtype=int), empty)
    sims = target.vectors @ answer.vectors.T

    def weights(view: TokenView) -> np.ndarray:
        w = idf.weights(view.ids) ** idf_power
        if question_ids:
            w = w * np.array([question_weight if int(i) in question_ids else 1.0 for i in view.ids])
        return w

    w_target, w_answer = weights(target), weights(answer)
    top = sims.max(axis=1)
    recall = float((w_target * top).sum() / max(w_target.sum(), 1e-9))
    precision = float((w_answer * sims.max(axis=0)).sum() / max(w_answer.sum(), 1e-9))
    return Alignment(recall, precision, top, sims.argmax(axis=1), w_target)


def rescale(value: float, floor: float, full: float) -> float:
    """Map a compressed similarity to 0-1: ``floor`` (what unrelated text reaches) to 0,
    ``full`` to 1, linearly, clipped."""
    if full <= floor:
        return 1.0 if value >= full else 0.0
    return float(np.clip((value - floor) / (full - floor), 0.0, 1.0))
