"""Issue 28: ingest that survives real folders, and dedupe that keeps questions apart.

Each case was found by probing ``coach ingest`` on real folders: a named pipe hung it, a
link to /dev/zero was read for gigabytes, a 1.5 GB file was read whole before the size
limit refused it, a name that is not UTF-8 stopped every file after it, ``a/q.md`` and
``b/q.md`` shared card ids, "LoRA" and "QLoRA" were merged into one card, and dedupe of
10,000 cards took minutes without a word.
"""

from __future__ import annotations

import os
import random
import signal
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from coach.config import Settings
from coach.corpus.catalog import Catalog
from coach.corpus.dedupe import dedupe, names
from coach.corpus.loader import CorpusFileError, expand_paths, read_document
from coach.corpus.models import QuestionCard, SourceSpan
from coach.corpus.parser import make_splitter, parse_text
from coach.index.ingest import IngestReport, _parse_files, _plan

QUESTION = "## 1. 什么是过拟合？\n\n训练集上好，测试集上差。\n"


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: the bug being tested is a read that never returns."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _ingest_parse(paths: list[Path], settings: Settings) -> tuple[Catalog, IngestReport]:
    """The reading and parsing half of ``coach ingest`` (no embedding model needed)."""
    report = IngestReport()
    known = Catalog()
    catalog, files = _plan(paths, known, False, report)
    _parse_files(files, catalog, known, settings, report, force=False)
    return catalog, report


def test_a_named_pipe_is_skipped_not_waited_on(tmp_path: Path, settings: Settings) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    os.mkfifo(folder / "pipe.md")
    (folder / "q.md").write_text(QUESTION, "utf-8")
    with deadline(10):
        catalog, report = _ingest_parse([folder], settings)
    assert [d.file for d in catalog.documents.values()] == ["q.md"]
    (failure,) = report.files_failed
    assert failure.file.endswith("pipe.md") and "not a regular file" in failure.error


def test_a_link_to_a_device_is_not_read(tmp_path: Path) -> None:
    link = tmp_path / "zero.md"
    link.symlink_to("/dev/zero")
    with deadline(10), pytest.raises(CorpusFileError, match="not a regular file"):
        read_document(link, 5_000_000)


def test_the_size_is_checked_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.md"
    with huge.open("wb") as handle:  # sparse: 1.5 GB on paper, nothing on disk
        handle.truncate(1_500_000_000)
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(CorpusFileError, match="1,500,000,000 bytes, over the"):
        read_document(huge, 5_000_000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert time.perf_counter() - started < 1.0
    assert peak < 1_000_000  # nothing of it was read


def test_a_name_that_is_not_utf8_does_not_stop_the_ingest(
    tmp_path: Path, settings: Settings
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    odd = Path(os.fsdecode(os.fsencode(folder) + b"/q\xff\xfe.md"))
    odd.write_text(QUESTION, "utf-8")
    (folder / "z.md").write_text(QUESTION.replace("过拟合", "欠拟合"), "utf-8")
    catalog, report = _ingest_parse([folder], settings)
    assert not report.files_failed
    assert sorted(d.file for d in catalog.documents.values()) == ["q\\xff\\xfe.md", "z.md"]
    catalog.save(tmp_path / "catalog.json")  # JSON needs real text: the name is escaped
    assert len(Catalog.load(tmp_path / "catalog.json").documents) == 2


def test_same_file_name_in_two_folders_gets_different_card_ids(
    tmp_path: Path, settings: Settings
) -> None:
    for folder in ("a", "b"):
        (tmp_path / "bank" / folder).mkdir(parents=True)
        (tmp_path / "bank" / folder / "q.md").write_text(QUESTION, "utf-8")
    files, _ = expand_paths([tmp_path / "bank"])
    assert [f.name for f in files] == ["a/q.md", "b/q.md"]
    catalog, _ = _ingest_parse([tmp_path / "bank"], settings)
    ids = [c.id for d in catalog.documents.values() for c in d.cards]
    assert len(ids) == len(set(ids)) == 2
    # Ingested as two folders of their own, the second q.md is cited by a longer name.
    catalog, _ = _ingest_parse([tmp_path / "bank" / "a", tmp_path / "bank" / "b"], settings)
    assert sorted(d.file for d in catalog.documents.values()) == ["b/q.md", "q.md"]


def test_a_top_level_file_keeps_its_plain_name(tmp_path: Path) -> None:
    (tmp_path / "000.txt").write_text(QUESTION, "utf-8")
    files, _ = expand_paths([tmp_path, tmp_path / "000.txt"])
    assert [f.name for f in files] == ["000.txt", "000.txt"]


# --- dedupe -----------------------------------------------------------------------------


def _cards(titles: list[str]) -> list[QuestionCard]:
    return [
        QuestionCard(
            id=str(i),
            title=t,
            question=t,
            sources=[SourceSpan(file="f.md", start_line=i, end_line=i)],
        )
        for i, t in enumerate(titles)
    ]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("什么是 LoRA？", "什么是 QLoRA？"),
        ("P-Tuning v1 的原理", "P-Tuning v2 的原理"),
        ("GPT-3 和 GPT-4 的区别", "GPT-4 和 GPT-4o 的区别"),
        ("什么是过拟合？", "什么是欠拟合？"),
        ("BERT 的预训练任务有哪些？", "RoBERTa 的预训练任务有哪些？"),
        ("如何处理大模型训练中的模型评估问题？", "如何处理大模型训练中的模型解释问题？"),
        ("What is L1 regularization?", "What is L2 regularization?"),
    ],
)
def test_near_miss_pairs_stay_apart(a: str, b: str) -> None:
    merged, folded = dedupe(_cards([a, b]), 0.72)
    assert folded == 0, (a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("如何处理大模型的过拟合问题？", "如何处理大模型训练中的过拟合问题？"),
        ("什么是 LoRA？", "什么是LoRA?"),
        ("如何评估大模型的效果？", "如何评估 AI 大模型的效果？"),
        ("What is gradient descent?", "What's gradient descent?"),
    ],
)
def test_true_duplicates_still_merge(a: str, b: str) -> None:
    merged, folded = dedupe(_cards([a, b]), 0.72)
    assert folded == 1 and len(merged[0].sources) == 2


def test_names_are_the_words_that_tell_questions_apart() -> None:
    assert names("P-Tuning v2 与 LoRA 在 7B 模型上的对比") == {"v2", "lora", "7b"}
    assert names("What is gradient descent in AI?") == frozenset()


WORDS = [
    *("注意力", "归一化", "位置编码", "采样", "量化", "蒸馏", "检索", "对齐", "并行", "缓存"),
    *("梯度", "损失", "优化器", "学习率", "正则", "数据增强", "分词器", "嵌入", "解码", "微调"),
    *("预训练", "奖励模型", "偏好", "强化学习", "上下文", "长文本", "稀疏", "专家", "路由"),
    *("显存", "吞吐", "延迟", "批处理", "剪枝", "低秩", "适配器", "提示", "指令", "幻觉"),
    *("评测", "召回", "排序", "向量库", "切分", "知识图谱"),
]
SHAPES = (
    "{a}和{b}在{c}中的区别是什么？",
    "如何用{a}改进{b}的{c}？",
    "为什么{a}会影响{b}与{c}？",
    "{a}、{b}、{c}分别解决什么问题？",
)


def _titles(count: int) -> list[str]:
    """Distinct question titles without names, so only the bigram index tells them apart."""
    rng = random.Random(28)
    titles: dict[str, None] = {}
    while len(titles) < count:
        a, b, c = rng.sample(WORDS, 3)
        titles[rng.choice(SHAPES).format(a=a, b=b, c=c)] = None
    return list(titles)


def _all_pairs(cards: list[QuestionCard], threshold: float) -> list[list[str]]:
    """The definition dedupe must keep: each card joins the earliest group holding a card
    it matches, checked against every earlier card."""
    from coach.corpus.dedupe import same_question

    groups: list[list[QuestionCard]] = []
    for card in cards:
        for group in groups:
            if any(same_question(card, other, threshold) for other in group):
                group.append(card)
                break
        else:
            groups.append([card])
    return [[c.id for c in group] for group in groups]


def test_dedupe_matches_all_pairs() -> None:
    cards = _cards(_titles(400) + ["什么是 LoRA？", "什么是LoRA?", "什么是 QLoRA？"])
    merged, _ = dedupe(cards, 0.72)
    groups = _all_pairs(cards, 0.72)
    assert [m.id for m in merged] == [group[0] for group in groups]
    assert [sorted(s.start_line for s in m.sources) for m in merged] == [
        sorted(int(i) for i in group) for group in groups
    ]
    assert any(len(group) > 1 for group in groups)  # the sample does merge something


def test_dedupe_of_10000_cards_is_fast_and_shows_progress(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from coach.config import get_settings

    monkeypatch.setenv("COACH_PROGRESS", "lines")
    get_settings.cache_clear()
    cards = _cards(_titles(10_000))
    started = time.perf_counter()
    merged, folded = dedupe(cards, 0.72)
    elapsed = time.perf_counter() - started
    assert len(merged) + folded == 10_000
    assert elapsed < 30, elapsed  # all pairs took about 5 minutes (68 s for 2,000 here)
    assert "dedupe" in capsys.readouterr().err


def test_seed_corpus_is_unchanged() -> None:
    """76 cards from 113 questions, as before issue 28 (eval files cite their ids)."""
    from .conftest import CORPUS

    splitter = make_splitter(600, 80)
    catalog = Catalog()
    for path in sorted(CORPUS.iterdir()):
        catalog.documents[str(path)] = parse_text(path.name, path.read_text("utf-8"), splitter)
    corpus = catalog.build(0.72)
    assert (len(corpus.cards), corpus.raw_cards) == (76, 113)
    assert {c.kind for c in corpus.cards} == {"bank", "faq"}


@pytest.mark.slow
@pytest.mark.integration
def test_a_real_folder_through_coach_ingest_and_cards(tmp_path: Path) -> None:
    """The whole command on a folder holding every trap at once: it finishes, says what
    it skipped, and each q.md answers its own question."""
    import json

    from typer.testing import CliRunner

    from coach.cli import app
    from coach.config import get_settings
    from coach.index.retriever import HybridSearcher

    bank = tmp_path / "bank"
    (bank / "a").mkdir(parents=True)
    (bank / "b").mkdir()
    (bank / "a" / "q.md").write_text("## 什么是 LoRA？\n\n- 低秩矩阵\n- 冻结原权重\n", "utf-8")
    (bank / "b" / "q.md").write_text(
        "## 什么是 QLoRA？\n\n- 4-bit 量化基座\n- 再训练 LoRA\n", "utf-8"
    )
    os.mkfifo(bank / "pipe.md")
    (bank / "zero.md").symlink_to("/dev/zero")
    Path(os.fsdecode(os.fsencode(bank) + b"/\xff.md")).write_text(
        "Q: What is RLHF?\nA: Reinforcement learning from human feedback.\n", "utf-8"
    )
    get_settings.cache_clear()
    with deadline(300):
        result = CliRunner().invoke(app, ["ingest", str(bank)])
    assert result.exit_code == 2, result.output  # two files skipped, the rest indexed
    assert "pipe.md: is not a regular file" in result.output
    assert "zero.md: is not a regular file" in result.output
    listed = CliRunner().invoke(app, ["cards", "--json"])
    cards = {c["title"]: c for c in json.loads(listed.stdout)["cards"]}
    assert set(cards) == {"什么是 LoRA？", "什么是 QLoRA？", "What is RLHF?"}
    assert cards["什么是 LoRA？"]["source"] == "a/q.md:1"
    assert cards["什么是 QLoRA？"]["source"] == "b/q.md:1"
    assert cards["What is RLHF?"]["source"] == "\\xff.md:1"
    searcher = HybridSearcher(get_settings())
    (hit, *_) = searcher.search("QLoRA 是怎么省显存的", 3)
    assert hit.unit == cards["什么是 QLoRA？"]["id"]
