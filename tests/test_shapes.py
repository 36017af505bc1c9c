"""Issue 28: the shapes people write question banks in, each from a small sample.

Every sample is written here, in the shape found in public banks and notes; the
assertions say which questions become cards, what answers them and what stays article.
"""

from __future__ import annotations

import pytest

from coach.corpus.catalog import Catalog
from coach.corpus.keypoints import extract_key_points
from coach.corpus.parser import make_splitter, parse_text, structural_topic
from coach.corpus.shapes import asks, is_navigation, question_text, strip_lead

SPLITTER = make_splitter(600, 80)


def parse(text: str, name: str = "notes.md"):
    return parse_text(name, text, SPLITTER)


@pytest.mark.parametrize(
    "title",
    [
        "1.2 什么是 点对点通信？",
        "**3. 为什么要用 LayerNorm**",
        "如何缓解大模型幻觉",
        "介绍一下 RLHF 的流程",
        "简述 BN 的作用",
        "谈谈你对 MoE 的理解",
        "LoRA 与全量微调的区别",
        "Q01 · LoRA 原理",
        "4) How do you combat the curse of dimensionality? [[src](http://x.org)]",
        "What is gradient descent",
        "Explain over- and under-fitting",
    ],
)
def test_headings_that_ask(title: str) -> None:
    assert asks(title)


@pytest.mark.parametrize(
    "title",
    ["2.1 大模型技术概述", "N-gram Model", "背景介绍", "References", "3.3 算法优缺点", "小结"],
)
def test_headings_that_do_not_ask(title: str) -> None:
    assert not asks(title)


def test_question_text_drops_numbering_emoji_and_links() -> None:
    assert question_text("### 📖 如何减少 KV Cache？") == "如何减少 KV Cache？"
    assert question_text("Q01 · LoRA 原理") == "LoRA 原理"
    assert question_text("1) What is X? [[src](http://a.b)]") == "What is X?"
    assert question_text("**1.2 什么是 点对点通信？**") == "什么是 点对点通信？"


def test_a_word_that_starts_with_q_or_a_number_keeps_it() -> None:
    """The numbering pattern took the Q of "QLoRA" and the 4 of "4bit" for numbering."""
    assert question_text("## QLoRA 是什么？") == "QLoRA 是什么？"
    assert question_text("Quantization 有哪些方法？") == "Quantization 有哪些方法？"
    assert question_text("### 4bit 量化会损失多少精度？") == "4bit 量化会损失多少精度？"
    assert question_text("3D 并行是什么？") == "3D 并行是什么？"
    assert question_text("Q: 什么是 MoE？") == "什么是 MoE？"
    assert question_text("Q3. 什么是 MoE？") == "什么是 MoE？"
    assert question_text("12、什么是 MoE？") == "什么是 MoE？"
    assert question_text("3 什么是 MoE？") == "什么是 MoE？"
    assert strip_lead("003_分布式训练") == "分布式训练"  # a file name's numbering


NOTES = """# 分布式训练

## 1. 概述

分布式训练把计算分到多张卡上。这一节不提问题，是文章。

### 1.1 什么是数据并行？

每张卡放一份完整模型，各算一部分 batch，再同步梯度。

#### 1.1.1 同步方式

- AllReduce：所有卡求和梯度
- 参数服务器：中心节点汇总

### 1.2 为什么需要张量并行

模型太大一张卡放不下时，把一层的矩阵切到多张卡上。

## 2. 通信原语

文章段落：介绍 NCCL。

### 2.1 点对点通信

send/recv 在两张卡之间传数据。
"""


def test_question_headings_take_their_sub_sections_and_the_rest_stays_article() -> None:
    doc = parse(NOTES)
    titles = [c.title for c in doc.cards]
    assert titles == ["什么是数据并行？", "为什么需要张量并行"]
    data_parallel = doc.cards[0]
    # The answer runs to the next heading of the same level, sub-heading included.
    assert "AllReduce" in data_parallel.answer and "参数服务器" in data_parallel.answer
    assert "张量并行" not in data_parallel.answer
    assert data_parallel.sources[0].start_line == 7
    assert data_parallel.sources[0].end_line == 14
    assert data_parallel.kind == "heading"
    # Headings that do not ask stay article text.
    article = " ".join(c.text for c in doc.chunks)
    assert "这一节不提问题" in article and "send/recv" in article
    assert "AllReduce" not in article


def test_a_heading_that_asks_above_other_questions_only_titles_them() -> None:
    text = "# 面试：如何准备大模型岗位？\n\n## 1. 什么是 SFT？\n\n监督微调，用指令数据继续训练。\n"
    doc = parse(text)
    assert [c.title for c in doc.cards] == ["什么是 SFT？"]


def test_qa_pairs_in_chinese_and_english() -> None:
    text = (
        "## 面经\n\n"
        "问：什么是 KV Cache？\n答：缓存已生成 token 的 K 和 V，避免重复计算。\n\n"
        "Q: Why use warmup?\nA: Large early updates can diverge; warmup starts small.\n"
        "It also stabilises Adam's second moment.\n\n"
        "Q1. What is beam search?\n\nA1. Keeping the k best partial sequences at each step.\n"
    )
    doc = parse(text)
    assert [(c.title, c.kind) for c in doc.cards] == [
        ("什么是 KV Cache？", "qa"),
        ("Why use warmup?", "qa"),
        ("What is beam search?", "qa"),
    ]
    assert doc.cards[0].answer == "缓存已生成 token 的 K 和 V，避免重复计算。"
    assert "second moment" in doc.cards[1].answer
    assert not doc.chunks  # every line was a question or its answer


def test_numbered_and_bulleted_questions_with_answers_below() -> None:
    text = (
        "## 高频题\n\n"
        "1. 为什么 Transformer 要除以 √d？\n"
        "   点积的方差随维度增大，softmax 会饱和。\n"
        "   除以 √d 让方差回到 1。\n"
        "2. RoPE 有什么优点？\n"
        "   - 相对位置\n"
        "   - 外推性较好\n"
        "- 只列问题没有答案的条目？\n"
        "- 另一个没有答案的条目？\n"
    )
    doc = parse(text)
    assert [c.title for c in doc.cards] == ["为什么 Transformer 要除以 √d？", "RoPE 有什么优点？"]
    assert all(c.kind == "list" for c in doc.cards)
    assert [p.label for p in doc.cards[1].key_points] == ["相对位置", "外推性较好"]
    # A list of questions with nothing below them (a table of contents) is not a card.
    assert "只列问题没有答案的条目" in " ".join(c.text for c in doc.chunks)


def test_bold_question_paragraphs() -> None:
    text = (
        "## 八股\n\n**什么是梯度消失？**\n\n反向传播时梯度逐层变小，浅层几乎不更新。\n\n"
        "**如何缓解梯度消失？**\n\n用残差连接、合适的初始化和 ReLU。\n"
    )
    doc = parse(text)
    assert [(c.title, c.kind) for c in doc.cards] == [
        ("什么是梯度消失？", "bold"),
        ("如何缓解梯度消失？", "bold"),
    ]
    assert doc.cards[0].answer == "反向传播时梯度逐层变小，浅层几乎不更新。"


def test_two_column_question_answer_tables() -> None:
    text = (
        "## 速查\n\n| 问题 | 答案 |\n|---|---|\n"
        "| 什么是 MQA？ | 所有查询头共享一组 K/V。 |\n"
        "| 什么是 GQA？ | 查询头分组，每组共享 K/V。 |\n\n"
        "| 方法 | 显存 |\n|---|---|\n| LoRA | 低 |\n"
    )
    doc = parse(text)
    assert [(c.title, c.answer) for c in doc.cards] == [
        ("什么是 MQA？", "所有查询头共享一组 K/V。"),
        ("什么是 GQA？", "查询头分组，每组共享 K/V。"),
    ]
    assert all(c.kind == "table" for c in doc.cards)
    # A table that does not pair questions with answers stays article text.
    assert "LoRA" in " ".join(c.text for c in doc.chunks)


def test_details_blocks() -> None:
    text = (
        "## 自测\n\n"
        "<details>\n<summary>什么是温度采样？</summary>\n\n"
        "温度除 logits：温度高分布更平，温度低更尖。\n</details>\n\n"
        "3. 什么是 top-p 采样？\n<details><summary>答案</summary>\n"
        "从累计概率达到 p 的最小集合里采样。\n</details>\n"
    )
    doc = parse(text)
    assert [(c.title, c.kind) for c in doc.cards] == [
        ("什么是温度采样？", "details"),
        ("什么是 top-p 采样？", "details"),
    ]
    assert doc.cards[0].answer == "温度除 logits：温度高分布更平，温度低更尖。"
    assert doc.cards[1].answer == "从累计概率达到 p 的最小集合里采样。"
    assert not doc.chunks


def test_questions_inside_code_are_not_cards() -> None:
    text = "## 代码\n\n```python\n# 什么是注释？\nQ: not a question\nA: code\n```\n"
    assert parse(text).cards == []


# --- key points -------------------------------------------------------------------------


def test_key_points_from_sub_headings() -> None:
    answer = "### 核心思想\n\n冻结原权重，只训练低秩矩阵。\n\n### 🎯 初始化\n\nB 初始化为 0。\n"
    points = extract_key_points(answer)
    assert [(p.label, p.explanation) for p in points] == [
        ("核心思想", "冻结原权重，只训练低秩矩阵。"),
        ("初始化", "B 初始化为 0。"),
    ]


def test_key_points_from_bold_terms_without_a_list() -> None:
    answer = "LoRA **冻结预训练权重**，只训练**低秩分解矩阵**。推理时可以合并回原权重。"
    assert [p.label for p in extract_key_points(answer)] == ["冻结预训练权重", "低秩分解矩阵"]


def test_tables_and_images_in_an_answer_are_kept_as_text() -> None:
    answer = (
        "两种方法对比如下：\n\n| 方法 | 特点 |\n|---|---|\n| MQA | 共享一组 KV |\n"
        "| GQA | 分组共享 KV |\n\n![GQA 结构示意](img/gqa.png)\n"
    )
    points = extract_key_points(answer)
    assert [p.text() for p in points] == ["MQA：共享一组 KV", "GQA：分组共享 KV"]
    doc = parse(f"## 什么是 GQA？\n\n{answer}")
    assert "GQA 结构示意" in doc.cards[0].answer
    assert "img/gqa.png" not in doc.cards[0].answer


def test_a_card_of_one_sentence_has_one_point() -> None:
    (card,) = parse("## 什么是 N-gram？\n\n按前 n-1 个词预测下一个词的统计语言模型。\n").cards
    assert len(card.key_points) == 1


# --- topics -----------------------------------------------------------------------------


def test_topics_come_from_folders_then_top_level_headings() -> None:
    assert structural_topic("04.分布式训练/1.概述/notes.md", ["x"]) == "分布式训练"
    assert structural_topic("docs/03-fine-tuning.md", ["03 · Fine-tuning 微调"]) == (
        "Fine-tuning 微调"
    )
    assert structural_topic("rag.md", []) == "rag"
    doc = parse(NOTES, "bank/分布式.md")
    assert {c.topic for c in doc.cards} == {"bank"}
    doc = parse(NOTES)
    assert {c.topic for c in doc.cards} == {"分布式训练"}


def test_keyword_topics_only_for_the_seed_files() -> None:
    text = "# 强化学习\n\n## 如何优化大模型的推理速度？\n\n- 量化\n- 剪枝\n"
    catalog = Catalog()
    catalog.documents["/a/mine.md"] = parse(text, "mine.md")
    catalog.documents["/b/seed"] = parse(text, "000_006c2612704ae2d7.txt")
    corpus = catalog.build(dedupe_threshold=0.72)
    topics = {c.source.file: c.topic for c in corpus.cards}
    # Both ask the same question, so they merge; the first source (by file name) decides.
    assert topics == {"000_006c2612704ae2d7.txt": "推理与部署"}
    catalog.documents.pop("/b/seed")
    assert [c.topic for c in catalog.build(0.72).cards] == ["强化学习"]


def test_a_keyword_heading_under_a_question_belongs_to_its_answer() -> None:
    text = (
        "## Q01 · LoRA 原理\n\n### 核心思想\n\n冻结原权重，只训练低秩矩阵。\n\n"
        "### 参数量对比\n\n- 全量：d×d\n- LoRA：2dr\n\n"
        "## Q02 · Memory\n\n### 短期记忆\n\n当前对话的上下文。\n**问题**：窗口有限。\n\n"
        "### 长期记忆\n\n跨会话保留信息。\n"
    )
    doc = parse(text)
    assert [(c.title, [p.label for p in c.key_points]) for c in doc.cards] == [
        ("LoRA 原理", ["核心思想", "参数量对比"]),
        ("Memory", ["短期记忆", "长期记忆"]),
    ]
    assert asks("LoRA 与全量微调的区别") and not asks("参数量对比") and not asks("对比表")


def test_what_public_banks_write_around_their_answers() -> None:
    """Seen in the fetched banks: an "Answer:" label, link-only references, questions in
    mathematical bold letters, answers that are only code, "代码" sub-headings."""
    text = (
        "#### 2) What is gradient descent? [[src](http://a.b)]\n[[Answer]](http://c.d)\n\n"
        "Answer: An optimisation algorithm. It follows the negative gradient "
        "([more](https://e.f)).\n\n"
        "### 𝐇𝐨𝐰 𝐝𝐨𝐞𝐬 𝐝𝐫𝐨𝐩𝐨𝐮𝐭 𝐰𝐨𝐫𝐤?\n\nIt zeroes random units. It scales the rest.\n\n"
        "### Q2: Find the duplicates in a list? ###\n\nAnswer:\n```\nprint(set(x))\n```\n\n"
        "## Q03 · 用栈实现队列\n\n### 思路\n\n两个栈，一个入队一个出队。\n\n### 代码\n\n"
        "```python\nclass Q: ...\n```\n\n### 复杂度\n\n均摊 O(1)。\n"
    )
    cards = {c.title: c for c in parse(text).cards}
    assert list(cards) == [
        "What is gradient descent?",
        "How does dropout work?",
        "Find the duplicates in a list?",
        "用栈实现队列",
    ]
    assert [p.label for p in cards["What is gradient descent?"].key_points] == [
        "An optimisation algorithm.",
        "It follows the negative gradient (more).",
    ]
    code_only = cards["Find the duplicates in a list?"]
    assert code_only.answer == "print(set(x))" and code_only.key_points == []
    assert [p.label for p in cards["用栈实现队列"].key_points] == ["思路", "复杂度"]


# --- page layout and transcripts, from the public banks' shapes --------------------------


def test_page_layout_around_answers_is_dropped() -> None:
    """Handbook-style pages separate questions with ``---``, leave "代码" sub-headings empty
    once the code is set apart, and end with links back to the index: none of it is part
    of an answer or a key point."""
    text = (
        "## Q01 · 合并区间\n\n> [LeetCode 56](https://example.org/56) · 难度：⭐⭐\n\n"
        "### 🎯 思路\n\n先按左端点排序，再逐个合并重叠的区间。\n\n"
        "### 🛠 代码\n\n```python\ndef merge(xs): ...\n```\n\n"
        "### 📊 复杂度\n\n- 时间：O(n log n)\n\n---\n\n"
        "## Q02 · 旋转数组\n\n***\n\n三次反转：整体反转，再分别反转两段。\n\n___\n\n"
        "[⬅ 回到 algorithms](README.md) · [⬅ 回到首页](../README.md)\n"
    )
    merge, rotate = parse(text).cards
    assert merge.answer.endswith("- 时间：O(n log n)") and "代码" not in merge.answer
    assert merge.code == ["def merge(xs): ..."]
    assert [p.label for p in merge.key_points] == ["思路", "复杂度"]
    assert rotate.answer == "三次反转：整体反转，再分别反转两段。"
    assert [p.text() for p in rotate.key_points] == ["三次反转：整体反转，再分别反转两段。"]


@pytest.mark.parametrize(
    ("line", "navigates"),
    [
        ("⬅ 回到首页", True),
        ("[⬅ 回到 notes](README.md) · [⬅ 回到首页](../README.md)", True),
        ("返回目录", True),
        ("[Back to top](#top)", True),
        ("回到正题：梯度为什么会消失", False),
        ("返回 (loss, reward)", False),
        ("Back to basics: what a tensor is.", False),
        ("---", False),
    ],
)
def test_navigation_lines(line: str, navigates: bool) -> None:
    assert is_navigation(line) is navigates


def test_interview_transcripts_ask_without_the_speaker() -> None:
    """Transcript-style notes put the speaker in front of each question ("面试官：",
    "追问：", "Q1："); the card asks the question itself."""
    text = (
        "## 项目：客服机器人\n\n"
        "**面试官：为什么要把检索和生成拆开部署？**\n\n"
        "> 两者扩缩容节奏不同，拆开后可以独立限流。\n\n"
        "**追问：拆开后延迟怎么控制？**  \n并行预取候选文档，超时就降级到缓存结果。\n\n"
        "## 高频问答\n\n### Q1：向量库要不要分租户？\n\n要，按租户分区并在查询时强制过滤。\n"
    )
    assert [c.title for c in parse(text).cards] == [
        "为什么要把检索和生成拆开部署？",
        "拆开后延迟怎么控制？",
        "向量库要不要分租户？",
    ]
    assert question_text("面试官:如何评估召回？") == "如何评估召回？"
    assert question_text("### 继续追问：如何回滚？") == "如何回滚？"
    assert question_text("问：什么是 MoE？") == "什么是 MoE？"
    assert question_text("Q: What is beam search?") == "What is beam search?"


def test_a_lone_asking_sub_heading_is_part_of_the_answer_above() -> None:
    """A numbered question with 思路 / 复杂度 parts and one "为什么…？" aside is one card: the
    aside needs the question above for context. Sub-headings that are mostly questions
    still make the heading above only their title."""
    text = (
        "## Q05 · 数组中的第 K 大元素\n\n### 🎯 思路\n\n维护大小为 K 的堆。\n\n"
        "### 🪤 为什么不直接排序？\n\n排序是 O(n log n)，堆只要 O(n log K)。\n\n"
        "### 📊 复杂度\n\n- 时间：O(n log K)\n"
    )
    (card,) = parse(text).cards
    assert card.title == "数组中的第 K 大元素"
    assert [p.label for p in card.key_points] == ["思路", "为什么不直接排序？", "复杂度"]
