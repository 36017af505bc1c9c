"""Ask the coach a free question: answer from the material, or say at once that the
material does not cover it (issue 30, part 7).

Three steps, each measured (``eval/coverage.py``, figures in eval/README.md):

1. Coverage, before any model call. e5 similarity alone does not tell a covered question
   from an uncovered one (best-hit cosine 0.83-0.97 covered, 0.79-0.92 uncovered), but
   the terms a question names do: a Latin term in a Chinese question (KV cache, RoPE,
   FlashAttention), or an acronym / CamelCase word in an English one, that the material
   never mentions means it cannot be answered from it. Questions without such
   terms fall back to the best e5 similarity between the question and a retrieved card's
   question, with one threshold per language (an English question scores lower against
   Chinese cards). Not covered: one event, no model call, the closest passages listed.
2. The answer. An opening line written by the program (which passages it answers from)
   is on screen as soon as retrieval is done; the model's answer streams after it.
3. Support, once the answer is complete. Each sentence must share enough of its
   character bigrams with one passage (the 1.5B model copies the material's wording, and a
   sentence it makes up shares little with it); a sentence in another language than the
   passages (an English answer from a Chinese corpus) is compared by e5 with the
   passages' lines instead. Unsupported sentences are *dropped* from the final text and
   counted in a closing line: the streamed draft showed them, and a learner who keeps
   the final text should not keep claims the material does not make. A citation is kept
   only where its passage supports the sentence on its own; numbers naming no passage
   are removed, and a supported sentence left without one cites its best passage.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from coach.common.text import CJK, clip, overlap, tokens
from coach.config import Settings
from coach.config.interview import InterviewSettings
from coach.index.tokenize import STOPWORDS
from coach.interview.models import Event
from coach.prompts import chat_prompt

Encode = Callable[[list[str]], np.ndarray]
"""Texts -> normalised e5 vectors with the symmetric ``query:`` prompt."""
Stream = Callable[..., AsyncIterator[tuple[str, str | None]]]
"""``ModelVoice.stream(prompt, values, max_tokens)``: (text so far, None) per chunk, or
one ("", failure) when the model is down."""
Say = Callable[..., str]

logger = logging.getLogger(__name__)


class Passage(Protocol):
    title: str
    source: str
    text: str


_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+\-]*")
_CITE = r"\[\d+(?:\s*[,，、]\s*\d+)*\]"
_CITE_RE = re.compile(_CITE)
_END = r"(?:[。！？!?；;]|(?<=[A-Za-z)\]])\.(?=\s|$))"
"""A full stop; a Latin one only after a word ('1. **数据清洗**' is a list number)."""
_SENTENCE = re.compile(rf".+?(?:{_END}+(?:\s*{_CITE})*|$)")
_MARKUP = re.compile(r"^\s*(?:[-*•]|\d+[.)、]|#+)\s*|\*\*")


def named_terms(question: str) -> list[str]:
    """The terms a question names, as written: in a Chinese question every Latin word
    (KV, cache, RoPE), in an English one the acronyms and CamelCase words (LLM, GPTQ,
    FlashAttention); stopwords and single letters never."""
    chinese = bool(CJK.search(question))
    found: dict[str, str] = {}
    for word in _LATIN_WORD.findall(question):
        if len(word) < 2 or word.lower() in STOPWORDS:
            continue
        capitals = sum(c.isupper() for c in word)
        if chinese or capitals >= 2 or any(c.isupper() for c in word[1:]):
            found.setdefault(word.lower(), word)
    return list(found.values())


@dataclass(frozen=True)
class Coverage:
    covered: bool
    similarity: float | None
    """Best e5 cosine between the question and a retrieved card's question (None: no
    embedder, only the terms were checked)."""
    missing_terms: tuple[str, ...] = ()
    """Terms the question names that no retrieved passage contains."""


def passage_text(hit: Passage) -> str:
    return f"{hit.title}\n{hit.text}"


def hit_question(hit: Any) -> str:
    """What a hit asks: a card's question, an article chunk's title."""
    return getattr(hit, "question", "") or hit.title


def best_similarity(question: str, hits: Sequence[Any], encode: Encode) -> float:
    vectors = encode([question, *[hit_question(h) for h in hits]])
    return float((vectors[1:] @ vectors[0]).max())


def similarity_floor(question: str, settings: InterviewSettings) -> float:
    if CJK.search(question):
        return settings.coach_min_similarity_zh
    return settings.coach_min_similarity_en


_MATERIAL: dict[tuple[int, int], str] = {}


def material_text(searcher: Any) -> str | None:
    """Every indexed text, lower-cased, once per loaded index (None for a searcher
    without a BM25 index: then the retrieved passages stand for the material)."""
    records = getattr(getattr(searcher, "bm25", None), "records", None)
    if records is None:
        return None
    key = (id(records), len(records))
    if key not in _MATERIAL:
        _MATERIAL.clear()
        _MATERIAL[key] = "\n".join(r.text for r in records).lower()
    return _MATERIAL[key]


def missing_terms(question: str, text: str) -> tuple[str, ...]:
    """The named terms of ``question`` that ``text`` (lower-cased) never contains."""
    return tuple(t for t in named_terms(question) if t.lower() not in text)


def coverage(
    question: str,
    hits: Sequence[Any],
    settings: InterviewSettings,
    encode: Encode | None,
    material: str | None = None,
) -> Coverage:
    """Whether the retrieved passages can answer ``question`` (module docstring, step 1).
    ``material``: the whole indexed text, lower-cased; a named term counts as missing
    only when the material never mentions it (measured: passages-only refused covered
    questions about BERT and TPU, which the material mentions outside the best cards)."""
    if not hits:
        return Coverage(covered=False, similarity=None)
    if material is None:
        material = "\n".join(passage_text(h) for h in hits).lower()
    missing = missing_terms(question, material)
    similarity = best_similarity(question, hits, encode) if encode is not None else None
    low = similarity is not None and similarity < similarity_floor(question, settings)
    return Coverage(covered=not missing and not low, similarity=similarity, missing_terms=missing)


# ---- sentences and their support -------------------------------------------------------


def split_sentences(text: str) -> list[list[str]]:
    """The answer's lines, each cut into sentences; a citation written after the full
    stop (``…。[2]``) stays with its sentence."""
    return [
        [s.strip() for s in _SENTENCE.findall(line) if s.strip()]
        for line in text.splitlines()
        if line.strip()
    ]


def cited_numbers(sentence: str) -> list[int]:
    return [int(n) for c in _CITE_RE.findall(sentence) for n in re.findall(r"\d+", c)]


def bare(sentence: str) -> str:
    """The sentence's claim: citations and Markdown list/bold marks removed."""
    return _MARKUP.sub("", _CITE_RE.sub("", sentence)).strip()


@dataclass
class SentenceCheck:
    text: str
    """As written by the model."""
    claim: bool
    """Long enough to claim something (a heading such as "方法：" is not checked)."""
    scores: list[float] = field(default_factory=list)
    """Support by each passage (bigram share, or e5 cosine across languages)."""
    floor: float = 0.0
    cited: list[int] = field(default_factory=list)

    @property
    def supported(self) -> bool:
        return not self.claim or (bool(self.scores) and max(self.scores) >= self.floor)

    @property
    def best(self) -> int:
        """1-based number of the passage that supports it most."""
        return int(np.argmax(self.scores)) + 1 if self.scores else 0

    def citations(self) -> list[int]:
        """The cited passages that support it on their own; else its best passage."""
        if not self.claim or not self.supported:
            return []
        kept = [n for n in dict.fromkeys(self.cited) if 0 < n <= len(self.scores)]
        kept = [n for n in kept if self.scores[n - 1] >= self.floor]
        return kept or [self.best]

    def rewritten(self) -> str:
        """The sentence with only its true citations, placed where the model put them
        (at the end when it gave none)."""
        if not self.claim:
            return self.text
        marks = "".join(f"[{n}]" for n in self.citations())
        if not self.cited:
            stripped = self.text.rstrip()
            end = re.search(rf"{_END}+$", stripped)
            if end:
                return stripped[: end.start()] + marks + stripped[end.start() :]
            return stripped + marks
        first = True

        def replace(match: re.Match[str]) -> str:
            nonlocal first
            out = marks if first else ""
            first = False
            return out

        return _CITE_RE.sub(replace, self.text)


@dataclass
class CheckedAnswer:
    lines: list[list[SentenceCheck]]
    bad_citations: list[int]
    """Citation numbers that name no passage."""

    @property
    def sentences(self) -> list[SentenceCheck]:
        return [s for line in self.lines for s in line]

    @property
    def claims(self) -> list[SentenceCheck]:
        return [s for s in self.sentences if s.claim]

    @property
    def dropped(self) -> list[SentenceCheck]:
        return [s for s in self.claims if not s.supported]

    def text(self) -> str:
        out = []
        for line in self.lines:
            kept = [s for s in line if s.supported]
            if not kept or (any(s.claim for s in line) and not any(s.claim for s in kept)):
                continue  # what is left of a line whose every claim was dropped goes too
            joiner = "" if CJK.search("".join(s.text for s in kept)) else " "
            out.append(joiner.join(s.rewritten() for s in kept))
        return "\n".join(out)


def check_answer(
    answer: str,
    passages: Sequence[str],
    settings: InterviewSettings,
    encode: Encode | None,
) -> CheckedAnswer:
    """Score each sentence of ``answer`` against each passage (module docstring, step 3)."""
    lines = [
        [
            SentenceCheck(
                text=s,
                claim=len(tokens(bare(s))) > settings.coach_claim_min_units,
                cited=cited_numbers(s),
            )
            for s in line
        ]
        for line in split_sentences(answer)
    ]
    checks = [s for line in lines for s in line if s.claim]
    passages_cjk = any(CJK.search(p) for p in passages)
    same = [s for s in checks if bool(CJK.search(bare(s.text))) == passages_cjk]
    other = [s for s in checks if s not in same]
    for s in same:
        s.scores = [overlap(bare(s.text), p) for p in passages]
        s.floor = settings.coach_support_min_overlap
    if other and encode is not None:
        units = [[u.strip() for u in p.splitlines() if u.strip()] for p in passages]
        flat = [u for group in units for u in group]
        vectors = encode([bare(s.text) for s in other] + flat)
        sentence_vectors, unit_vectors = vectors[: len(other)], vectors[len(other) :]
        owner = np.repeat(np.arange(len(passages)), [len(g) for g in units])
        cosines = sentence_vectors @ unit_vectors.T
        for s, row in zip(other, cosines, strict=True):
            s.scores = [
                float(row[owner == i].max()) if (owner == i).any() else 0.0
                for i in range(len(passages))
            ]
            s.floor = settings.coach_support_min_similarity
    elif other:  # no embedder to compare across languages: kept, as the model wrote it
        for s in other:
            s.claim = False
    cited = {n for s in checks for n in s.cited}
    bad = sorted(n for n in cited if not 0 < n <= len(passages))
    return CheckedAnswer(lines=lines, bad_citations=bad)


# ---- the events ------------------------------------------------------------------------


def passage_list(hits: Iterable[Passage], say: Say) -> str:
    return "\n".join(
        say("coach_passage_line", number=i, title=h.title, source=h.source)
        for i, h in enumerate(hits, 1)
    )


def opening(hits: Sequence[Passage], say: Say) -> str:
    names = say("coach_list_joiner").join(
        say("coach_passage_name", number=i, title=h.title) for i, h in enumerate(hits, 1)
    )
    return say("coach_opening", passages=names)


def refusal(found: Coverage, hits: Sequence[Passage], say: Say) -> str:
    if found.missing_terms:
        terms = say("coach_list_joiner").join(found.missing_terms)
        head = say("coach_not_covered_terms", terms=terms)
    else:
        head = say("coach_not_covered")
    return f"{head}\n{passage_list(hits, say)}"


def query_encoder(searcher: Any, settings: Settings) -> Encode | None:
    """The searcher's e5 model with the symmetric prompt (None for a searcher without
    one, e.g. a test's: then only the terms decide coverage)."""
    embedder = getattr(searcher, "embedder", None)
    if embedder is None:
        return None
    prompt = settings.embedding.query_prompt
    return lambda texts: embedder.encode(texts, prompt)


async def ask_coach(
    question: str,
    searcher: Any,
    *,
    settings: Settings,
    stream: Stream,
    say: Say,
    tell_model_down: Callable[[str | None], list[Event]],
) -> AsyncIterator[Event]:
    """Everything ``InterviewEngine.ask_coach`` yields: the engine passes its searcher
    and its model, phrase and notice helpers in, so this module needs no engine."""
    question = (question or "").strip()
    if not question:
        yield Event(kind="notice", text=say("notice_empty_coach_question"))
        return
    if searcher is None:
        yield Event(kind="error", text=say("error_no_index"))
        return
    try:
        hits = searcher.search(question, settings.interview.coach_k)
    except Exception as exc:
        logger.warning("Searching the passages for a free question failed", exc_info=True)
        yield Event(kind="error", text=say("error_search", error=f"{type(exc).__name__}: {exc}"))
        return
    if not hits:
        yield Event(kind="coach", text=say("coach_no_match"))
        return
    events = answer_from_material(
        question,
        hits,
        settings=settings,
        encode=query_encoder(searcher, settings),
        stream=stream,
        say=say,
        tell_model_down=tell_model_down,
        material=material_text(searcher),
    )
    async for event in events:
        yield event


async def answer_from_material(
    question: str,
    hits: Sequence[Passage],
    *,
    settings: Settings,
    encode: Encode | None,
    stream: Stream,
    say: Say,
    tell_model_down: Callable[[str | None], list[Event]],
    material: str | None = None,
) -> AsyncIterator[Event]:
    """The coach's events for ``question`` given its retrieved ``hits`` (``material``:
    see ``coverage``)."""
    interview = settings.interview
    sources = [h.source for h in hits]
    found = coverage(question, hits, interview, encode, material)
    if not found.covered:
        yield Event(kind="coach", text=refusal(found, hits, say), sources=sources)
        return
    head = opening(hits, say)
    yield Event(kind="coach", text=head, done=False, sources=sources)
    context = "\n\n".join(
        f"[{i}] {h.title}\n{clip(h.text, interview.coach_passage_chars)}"
        for i, h in enumerate(hits, 1)
    )
    values = {"language": say("language_name"), "context": context, "question": question}
    answer = ""
    async for partial, failure in stream(
        chat_prompt("interview_coach"), values, interview.coach_max_tokens
    ):
        if failure is not None:
            for event in tell_model_down(failure):
                yield event
            text = f"{say('coach_model_down')}\n{passage_list(hits, say)}"
            yield Event(kind="coach", text=text, sources=sources)
            return
        answer = partial
        yield Event(kind="coach", text=f"{head}\n{answer}", done=False, sources=sources)
    checked = check_answer(answer, [passage_text(h) for h in hits], interview, encode)
    body = checked.text()
    if not body.strip():
        text = f"{say('coach_unsupported')}\n{passage_list(hits, say)}"
        yield Event(kind="coach", text=text, sources=sources)
        return
    if checked.dropped:
        body += "\n" + say("coach_dropped", count=len(checked.dropped))
    yield Event(kind="coach", text=f"{head}\n{body}", sources=sources)
