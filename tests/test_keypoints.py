from __future__ import annotations

from coach.corpus.keypoints import extract_key_points, split_label


def test_bold_labels_with_alias_and_nested_items() -> None:
    answer = (
        "评估可以从以下几个方面进行：\n\n"
        "1. **准确率（Accuracy）：** 预测正确的比例。\n"
        "2. **F1 分数（F1 Score）：** 精确率和召回率的调和平均。\n"
        "   - 适合类别不平衡\n"
        "- **过拟合（Overfitting）**：训练好测试差。\n"
    )
    points = extract_key_points(answer)
    assert [(p.label, p.alias) for p in points] == [
        ("准确率", "Accuracy"),
        ("F1 分数", "F1 Score"),
        ("过拟合", "Overfitting"),
    ]
    assert points[1].explanation == "精确率和召回率的调和平均。 适合类别不平衡"
    assert points[0].text() == "准确率（Accuracy）：预测正确的比例。"


def test_plain_items_and_free_text_references() -> None:
    assert [p.label for p in extract_key_points("1. 普通项：没有加粗\n2. 一整句话没有冒号")] == [
        "普通项",
        "一整句话没有冒号",
    ]
    prose = extract_key_points("Overfitting means memorising noise. Use dropout; add data.")
    assert [p.label for p in prose] == [
        "Overfitting means memorising noise.",
        "Use dropout;",
        "add data.",
    ]
    chinese = extract_key_points("过拟合是指模型记住了噪声。可以用正则化！也可以早停")
    assert [p.label for p in chinese] == [
        "过拟合是指模型记住了噪声。",
        "可以用正则化！",
        "也可以早停",
    ]
    assert extract_key_points("   ") == []


def test_split_label_handles_both_bracket_styles() -> None:
    assert split_label("数据增强 (Data Augmentation)") == ("数据增强", "Data Augmentation")
    assert split_label("F1 分数") == ("F1 分数", None)
    assert split_label("数据（中文括号）") == ("数据（中文括号）", None)


def test_english_labels_in_bold_letters_or_with_commas() -> None:
    """Labels typed in mathematical bold letters read as plain ones (a candidate types
    plain letters); a short English label may name several things with commas."""
    answer = (
        "1. 𝐁𝐢𝐚𝐬-𝐕𝐚𝐫𝐢𝐚𝐧𝐜𝐞 𝐓𝐫𝐚𝐝𝐞𝐨𝐟𝐟: Simpler models underfit, complex ones overfit.\n"
        "2. Mean, Median, and Mode: Three ways to summarise the centre of a sample.\n"
        "3. In this case, the value we report is: the median.\n"
    )
    points = extract_key_points(answer)
    assert [(p.label, p.explanation) for p in points] == [
        ("Bias-Variance Tradeoff", "Simpler models underfit, complex ones overfit."),
        ("Mean, Median, and Mode", "Three ways to summarise the centre of a sample."),
        ("In this case, the value we report is: the median.", ""),
    ]


def test_a_label_item_explained_on_the_next_line() -> None:
    """``1. Portable`` with its explanation on the next, unindented line is one point:
    Markdown reads the two lines as one paragraph. A line after an item that is already
    a sentence stays out, as a closing remark."""
    answer = (
        "Why pick a JVM language:\n"
        "1. Portable\nThe same bytecode runs on every platform.\n\n"
        "2. Mature tooling\nProfilers and debuggers have existed for decades.\n"
    )
    points = extract_key_points(answer)
    assert [(p.label, p.explanation) for p in points] == [
        ("Portable", "The same bytecode runs on every platform."),
        ("Mature tooling", "Profilers and debuggers have existed for decades."),
    ]
    closing = extract_key_points("- Use a cache.\n- Batch the requests.\nBoth cut latency.\n")
    assert [(p.label, p.explanation) for p in closing] == [
        ("Use a cache.", ""),
        ("Batch the requests.", ""),
    ]


def test_a_lone_sub_heading_leads_its_sentence_instead_of_staying_markup() -> None:
    """A card with one sub-heading falls back to sentences; the heading's markup
    (``### 🎯 思路``) ended up inside a key point."""
    answer = "用小顶堆维护 K 个元素，堆顶最小。\n\n### 🎯 思路\n\n"
    answer += "先统计频次，再遍历。复杂度 O(n log k)。"
    labels = [p.label for p in extract_key_points(answer)]
    assert labels == [
        "用小顶堆维护 K 个元素，堆顶最小。",
        "思路：先统计频次，再遍历。",
        "复杂度 O(n log k)。",
    ]
    assert not any("#" in label or "🎯" in label for label in labels)
