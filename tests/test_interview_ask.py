"""Ask the coach (coach/interview/ask.py) through the engine, with fake models: refusal
without a model call, the program's opening line first, unsupported sentences dropped,
citations checked, the passages listed when the model is down."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import BaseModel

from coach.config import Settings
from coach.interview.ask import check_answer, coverage, named_terms, split_sentences
from coach.interview.models import Event
from coach.store.history import HistoryStore
from tests.interview_fakes import down_model, recording_model
from tests.test_interview_engine import make_engine, run

PARALLEL = "数据并行：将数据集分成多个子集，每个子集由不同的 GPU 处理，然后并行训练模型。"
QUANT = "量化：将模型中的浮点数权重转换为较低精度的整数，减少模型大小。"


class Hit(BaseModel):
    title: str
    source: str
    text: str
    question: str = ""


HITS = [
    Hit(title="并行计算技术", source="a.md:1", text=PARALLEL, question="有哪些并行计算技术？"),
    Hit(title="模型压缩技术", source="b.md:2", text=QUANT, question="有哪些模型压缩技术？"),
]


class FakeEmbedder:
    """Vectors chosen per text (a text containing a key gets its vector); anything
    unknown is orthogonal to everything known."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors

    def encode(self, texts: list[str], prompt: str) -> np.ndarray:
        rows = [
            next((v for key, v in self.vectors.items() if key in t), [0.0, 0.0, 1.0]) for t in texts
        ]
        out = np.asarray(rows, dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class Searcher:
    def __init__(self, hits: list[Hit] = HITS, embedder: FakeEmbedder | None = None) -> None:
        self.hits = hits
        self.queries: list[str] = []
        if embedder is not None:
            self.embedder = embedder

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        self.queries.append(query)
        return self.hits[: k or len(self.hits)]


@pytest.fixture
def store(tmp_path: Path, settings: Settings) -> HistoryStore:
    return HistoryStore(tmp_path / "h.sqlite3", settings)


def ask(engine, question: str) -> list[Event]:
    return run(engine.ask_coach(question))


def test_a_term_no_passage_mentions_is_refused_without_a_model_call(
    settings: Settings, store: HistoryStore
) -> None:
    model = recording_model(["should never be asked"])
    engine = make_engine(settings, store, model=model, searcher=Searcher())
    events = ask(engine, "大模型推理时 KV cache 为什么能加速？")
    assert [e.kind for e in events] == ["coach"] and events[0].done
    assert model.prompts == [], "no model call"
    text = events[0].text
    assert "KV" in text and "cache" in text, "says which terms the material lacks"
    assert "[1] 并行计算技术（a.md:1）" in text and "[2] 模型压缩技术（b.md:2）" in text
    assert events[0].sources == ["a.md:1", "b.md:2"]


def test_a_question_far_from_every_card_is_refused_by_similarity(
    settings: Settings, store: HistoryStore
) -> None:
    question = "自注意力里为什么要除以维度的平方根？"
    embedder = FakeEmbedder(
        {question: [1.0, 0.0, 0.0], HITS[0].question: [0.6, 0.8, 0.0]}  # cosine 0.6
    )
    model = recording_model(["never"])
    engine = make_engine(settings, store, model=model, searcher=Searcher(embedder=embedder))
    events = ask(engine, question)
    assert len(events) == 1 and model.prompts == []
    assert events[0].text.startswith("资料里没有讲到这个问题")


def test_covered_question_opens_at_once_and_keeps_supported_sentences(
    settings: Settings, store: HistoryStore
) -> None:
    question = "数据并行是什么？"
    embedder = FakeEmbedder({question: [1.0, 0.0, 0.0], HITS[0].question: [1.0, 0.1, 0.0]})
    answer = "数据并行是将数据集分成多个子集，由不同的 GPU 处理后并行训练模型[1]。"
    model = recording_model([answer])
    engine = make_engine(settings, store, model=model, searcher=Searcher(embedder=embedder))
    events = ask(engine, question)
    first = events[0]
    assert first.kind == "coach" and not first.done
    assert first.text == "根据资料 [1]《并行计算技术》、[2]《模型压缩技术》 作答："
    assert len(model.prompts) == 1 and PARALLEL in model.prompts[0]
    final = events[-1]
    assert final.done and final.text == f"{first.text}\n{answer}"
    assert "删去" not in final.text


def test_an_unsupported_sentence_is_dropped_and_counted(
    settings: Settings, store: HistoryStore
) -> None:
    made_up = "数据并行在每张卡上都要保存完整的优化器状态，所以显存占用很大[1]。"
    answer = f"数据并行将数据集分成多个子集，每个子集由不同的 GPU 处理[1]。{made_up}"
    model = recording_model([answer])
    engine = make_engine(settings, store, model=model, searcher=Searcher())
    events = ask(engine, "数据并行是什么？")
    assert any(made_up in e.text for e in events if not e.done), "the draft streamed it"
    final = events[-1]
    assert made_up not in final.text
    assert "每个子集由不同的 GPU 处理[1]。" in final.text
    assert final.text.endswith("（已删去 1 句在资料中找不到依据的话。）")


def test_citations_naming_no_passage_or_the_wrong_one_are_corrected(
    settings: Settings, store: HistoryStore
) -> None:
    answer = (
        "量化将浮点数权重转换为较低精度的整数，减少模型大小[7]。\n"
        "数据并行把数据集分成多个子集，由不同的 GPU 处理[2]。"
    )
    model = recording_model([answer])
    engine = make_engine(settings, store, model=model, searcher=Searcher())
    final = ask(engine, "量化和数据并行是什么？")[-1]
    assert "减少模型大小[2]。" in final.text, "[7] names no passage: the supporting one"
    assert "由不同的 GPU 处理[1]。" in final.text, "[2] does not support it; [1] does"
    checked = check_answer(answer, [h.text for h in HITS], settings.interview, None)
    assert checked.bad_citations == [7]


def test_an_answer_with_no_support_at_all_is_not_shown(
    settings: Settings, store: HistoryStore
) -> None:
    model = recording_model(["张量并行会把每一层的矩阵乘法按列切分到多张卡上，再做通信汇总。"])
    engine = make_engine(settings, store, model=model, searcher=Searcher())
    final = ask(engine, "数据并行是什么？")[-1]
    assert final.text.startswith("模型的回答在资料中找不到依据")
    assert "张量" not in final.text and "[1] 并行计算技术（a.md:1）" in final.text


def test_model_down_lists_the_passages(settings: Settings, store: HistoryStore) -> None:
    engine = make_engine(settings, store, model=down_model(), searcher=Searcher())
    events = ask(engine, "数据并行是什么？")
    assert "notice" in [e.kind for e in events]
    final = events[-1]
    assert final.kind == "coach" and final.done
    assert "[1] 并行计算技术（a.md:1）" in final.text and final.sources == ["a.md:1", "b.md:2"]


def test_sentences_across_languages_are_judged_by_the_embedder(settings: Settings) -> None:
    good = "Data parallelism splits the data across GPUs [1]."
    bad = "It keeps the optimizer state on every card [1]."
    line = PARALLEL
    embedder = FakeEmbedder(
        {"Data parallelism": [1.0, 0.0, 0.0], "optimizer": [0.0, 1.0, 0.0], line: [1, 0.05, 0]}
    )

    def encode(texts: list[str]) -> np.ndarray:
        return embedder.encode(texts, "query: ")

    checked = check_answer(f"{good} {bad}", [line], settings.interview, encode)
    assert [s.supported for s in checked.claims] == [True, False]
    assert checked.text() == good


def test_named_terms_and_sentence_splitting() -> None:
    assert named_terms("大模型推理时 KV cache 为什么能加速？") == ["KV", "cache"]
    assert named_terms("How does continuous batching improve LLM serving?") == ["LLM"]
    assert named_terms("How do you prevent a large model from overfitting?") == []
    assert split_sentences("第一句[1]。第二句。[2]\n- 第三句\n1. **数据清洗**：清除错误。") == [
        ["第一句[1]。", "第二句。[2]"],
        ["- 第三句"],
        ["1. **数据清洗**：清除错误。"],
    ]
    assert split_sentences("It splits data [1]. Then it trains.") == [
        ["It splits data [1].", "Then it trains."]
    ]


def test_coverage_without_hits_or_embedder(settings: Settings) -> None:
    assert not coverage("任何问题", [], settings.interview, None).covered
    found = coverage("GPU 怎么选？", HITS, settings.interview, None)
    assert found.covered and found.similarity is None
