"""The parser on every corpus document, and on the shapes users' files take."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.corpus.catalog import Catalog
from coach.corpus.parser import make_splitter, parse_text, strip_numbering

from .conftest import CORPUS

SPLITTER = make_splitter(600, 80)
BANKS = {  # file -> number of questions it asks
    "000_006c2612704ae2d7.txt": 20,
    "001_e366fd72b2cc9c1a.txt": 30,
    "002_e3947ea7f567bf07.txt": 30,
    "004_e1cb5615fcc131f8.txt": 30,
}


def parse(name: str):
    return parse_text(name, (CORPUS / name).read_text("utf-8"), SPLITTER)


@pytest.mark.parametrize("name", sorted(BANKS))
def test_every_question_of_a_bank_becomes_a_card(name: str) -> None:
    doc = parse(name)
    assert len(doc.cards) == BANKS[name]
    lines = (CORPUS / name).read_text("utf-8").splitlines()
    for card in doc.cards:
        assert card.question and card.answer, card.title
        assert len(card.key_points) >= 2, card.title
        span = card.sources[0]
        # The span starts at the question's heading and covers its answer.
        assert lines[span.start_line - 1].lstrip().startswith("#")
        block = "\n".join(lines[span.start_line - 1 : span.end_line])
        assert card.question[:10] in block.replace("**", "")


def test_key_points_keep_label_alias_and_explanation() -> None:
    card = next(c for c in parse("001_e366fd72b2cc9c1a.txt").cards if c.title == "如何优化大模型？")
    first = card.key_points[0]
    assert (first.label, first.alias) == ("数据增强", "Data Augmentation")
    assert first.explanation.startswith("通过增加样本数量")
    assert card.example.startswith("假设我们有一个基于卷积神经网络")
    assert "提高大模型的性能" in card.analysis


def test_colon_outside_bold_is_parsed_too() -> None:
    card = parse("004_e1cb5615fcc131f8.txt").cards[0]
    assert [p.label for p in card.key_points][:2] == ["深度学习", "神经网络"]
    assert card.key_points[0].alias == "Deep Learning"


def test_article_sections_become_chunks_and_faq_becomes_cards() -> None:
    doc = parse("003_846c3482bdd9f7b9.txt")
    assert [c.title for c in doc.cards] == [
        "如何选择合适的大模型？",
        "如何提高大模型训练效率？",
        "如何保证大模型训练数据隐私？",
    ]
    assert all(c.kind == "faq" and len(c.key_points) == 4 for c in doc.cards)
    assert len(doc.chunks) > 20
    paths = {" / ".join(c.section_path) for c in doc.chunks}
    assert "2. 核心概念与联系 / 2.1 大模型技术概述" in paths
    # '# 5.2.1 数据预处理' inside a code fence is a comment, not a heading.
    assert not any("5.2.1" in c.title for c in doc.chunks)
    lines = (CORPUS / "003_846c3482bdd9f7b9.txt").read_text("utf-8").splitlines()
    for chunk in doc.chunks:
        assert chunk.text.splitlines()[0][:15] in "\n".join(
            lines[chunk.source.start_line - 1 : chunk.source.end_line + 1]
        )


def test_code_blocks_are_kept_apart_from_key_points() -> None:
    text = (
        "## 1. 如何实现早停？\n\n**题目：** 如何实现早停？\n\n**答案：**\n\n"
        "1. **监控验证集（Validation）：** 每轮评估。\n2. **耐心值：** 连续 N 轮不降则停止。\n\n"
        "```python\n# not a heading\nif loss > best: patience -= 1\n```\n"
    )
    doc = parse_text("mine.md", text, SPLITTER)
    (card,) = doc.cards
    assert [p.label for p in card.key_points] == ["监控验证集", "耐心值"]
    assert card.code == ["# not a heading\nif loss > best: patience -= 1"]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("一、大模型开发的技术难点有哪些？", "大模型开发的技术难点有哪些？"),
        ("十二、如何优化大模型的推理速度？", "如何优化大模型的推理速度？"),
        ("1. 如何评估大模型的效果？", "如何评估大模型的效果？"),
        ("题目 12：大模型训练中的迁移学习技术有哪些？", "大模型训练中的迁移学习技术有哪些？"),
        ("9.1 如何选择合适的大模型？", "如何选择合适的大模型？"),
    ],
)
def test_numbering_styles_are_stripped(title: str, expected: str) -> None:
    assert strip_numbering(title) == expected


def test_duplicates_are_merged_with_all_sources_and_union_of_points() -> None:
    catalog = Catalog()
    for path in sorted(CORPUS.iterdir()):
        catalog.documents[str(path)] = parse(path.name)
    corpus = catalog.build(dedupe_threshold=0.72)
    assert corpus.raw_cards == 113
    assert corpus.merged_duplicates == corpus.raw_cards - len(corpus.cards) > 30
    overfit = next(c for c in corpus.cards if c.title == "如何处理大模型的过拟合问题？")
    files = {s.file for s in overfit.sources}
    assert len(overfit.sources) >= 3 and len(files) >= 2
    labels = [p.label for p in overfit.key_points]
    assert len(labels) == len(set(labels))
    assert {"正则化", "Dropout", "早期停止"} <= set(labels)
    # Different questions that share words stay apart.
    titles = [c.title for c in corpus.cards]
    assert "如何处理大模型训练中的模型评估问题？" in titles
    assert "如何处理大模型训练中的模型解释问题？" in titles
    ids = [c.id for c in corpus.cards]
    assert len(ids) == len(set(ids))
    assert {c.topic for c in corpus.cards} >= {
        "训练优化",
        "数据与隐私",
        "评估",
        "推理与部署",
        "商业化",
        "应用",
    }


def test_topics_follow_the_question() -> None:
    from coach.corpus.topics import tag

    assert tag("如何处理大模型的过拟合问题？") == "训练优化"
    assert tag("如何优化大模型的推理速度？") == "推理与部署"
    assert tag("如何处理大模型训练中的数据隐私问题？") == "数据与隐私"
    assert tag("如何评估大模型的效果？") == "评估"
    assert tag("AI 大模型创业中的商业模式有哪些？") == "商业化"


def test_corpus_files_are_the_shared_ones() -> None:
    shared = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    if not shared.exists():
        pytest.skip("../shared/corpus is not beside this checkout")
    for path in shared.iterdir():
        assert (CORPUS / path.name).read_bytes() == path.read_bytes()
