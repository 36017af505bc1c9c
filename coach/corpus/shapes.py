"""Recognising the shapes people write questions in.

Question banks on the web and in people's notes rarely use the seed files' ``**题目：**``
blocks. They ask in headings (``#### 1.2 什么是点对点通信？``, ``## Q01 · LoRA 原理``,
``#### 3) Explain over-fitting``), in ``Q:``/``A:`` or ``问：``/``答：`` pairs, in numbered or
bulleted items with the answer below, in bold paragraphs, in two-column question/answer
tables and in ``<details>`` blocks. This module says whether a line asks, and finds the
questions inside a section's body with the lines that answer them; the parser decides what
becomes a card. Everything else stays article text, so a heading that does not ask is
never turned into a question.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_REF_LINK = re.compile(r"\[\[([^\]]*)\]\]\([^)]*\)")  # [[src]](url)
_HTML_TAG = re.compile(r"<[^>]+>")
_EMPHASIS = re.compile(r"\*\*|__|`")
# Numbering in front of a question or a name: 一、 1. 1、 1) 1.2 01_ 题目 1： Q1: Q01 · (1)
# 第1题. A number or a Q that starts a word is none: "QLoRA 是什么？", "4bit 量化", "3D 重建".
_LEAD = re.compile(
    r"^(?:题目\s*\d+\s*[：:]|第\s*\d+\s*题[：:、.]?|[一二三四五六七八九十百]+[、.．]|"
    r"[(（]\d+[)）]|\d+(?:\.\d+)*(?:\s*[._、:：)）]|\s+|$)|"
    r"Q(?:\s*\d+\s*[.:：·、)）-]?|\s*[.:：·、)）-]))\s*",
    re.IGNORECASE,
)
_Q_NUMBER = re.compile(r"^Q\s*\d+\b", re.IGNORECASE)
_ASK_START_ZH = (
    "什么是",
    "什么叫",
    "为什么",
    "为何",
    "如何",
    "怎么",
    "怎样",
    "介绍一下",
    "介绍下",
    "简述",
    "简要介绍",
    "简单介绍",
    "谈谈",
    "谈一谈",
    "说说",
    "说一说",
    "讲讲",
    "讲一讲",
    "解释",
    "请解释",
    "请介绍",
    "请简述",
    "请说明",
    "请描述",
    "描述一下",
    "列举",
    "哪些",
    "哪种",
    "是否",
)
_ASK_ANYWHERE_ZH = re.compile(
    r"有哪些|是什么|为什么|怎么办|如何|吗[?？]?$"
    # a comparison asks when it names what is compared: "LoRA 与全量微调的区别", not "对比表"
    r"|(?:与|和|跟|及|vs\.?|VS|/|、).+(?:区别|对比|异同)"
    r"|^(?:比较|对比).+(?:与|和|跟|及|vs\.?|VS|/|、)"
)
_ASK_START_EN = re.compile(
    r"^(?:what|why|how|when|where|which|who|explain|describe|compare|discuss|define|"
    r"can you|could you|do you|does|is|are|should|would|name|list|give|tell me|"
    r"difference|differences)\b",
    re.IGNORECASE,
)
_QUESTION_END = ("？", "?")


def plain(text: str) -> str:
    """A line's words: links and images by their text, tags and emphasis dropped."""
    text = _REF_LINK.sub(lambda m: f"[{m[1]}]", text)
    text = _LINK.sub(lambda m: m[1], text)
    text = _HTML_TAG.sub("", text)
    return _EMPHASIS.sub("", text).strip().strip("#").strip()


def strip_lead(text: str) -> str:
    """``Q01 · LoRA 原理`` -> ``LoRA 原理``; ``1) What is…`` -> ``What is…``."""
    return _LEAD.sub("", text, count=1).strip(" ·-—:：")


def _trailing_refs(text: str) -> str:
    """Drop a trailing ``[src]``-style reference so ``…? [src]`` still ends in ``?``."""
    return re.sub(r"(\s*\[[^\]]{0,40}\])+\s*$", "", text).strip()


def asks_plainly(title: str) -> bool:
    """A question by its form alone: a question mark, a ``Q``-number, or a question word
    at the start. A heading that asks only this way below another one makes that one a
    title of questions; a mere keyword ("参数量对比") under a question is part of its
    answer."""
    text = _trailing_refs(plain(title))
    if not text:
        return False
    if _Q_NUMBER.match(text) or text.endswith(_QUESTION_END):
        return True
    core = strip_lead(text)
    return bool(core) and (core.startswith(_ASK_START_ZH) or bool(_ASK_START_EN.match(core)))


def asks(title: str, strict: bool = False) -> bool:
    """Whether a heading or line is a question (in Chinese or English).

    Why this wide for headings: banks number their questions in many ways and often drop
    the question mark (``## Q01 · LoRA 原理``, ``简述 BN 的作用``); a ``Q``-number counts
    as asking. ``strict`` (for list items, bold lines and table cells, where prose says
    "如何…" without asking) wants a question mark or a ``Q``-number.
    """
    text = _trailing_refs(plain(plain_letters(title)))
    if not text:
        return False
    if _Q_NUMBER.match(text) or text.endswith(_QUESTION_END):
        return True
    if strict:
        return False
    core = strip_lead(text)
    if not core:
        return False
    return (
        core.startswith(_ASK_START_ZH)
        or bool(_ASK_START_EN.match(core))
        or bool(_ASK_ANYWHERE_ZH.search(core))
    )


_SYMBOLS = re.compile(r"^[^\w(（\[“\"'<]+")


def plain_letters(text: str) -> str:
    """Mathematical bold/italic letters (𝐇𝐨𝐰, used for emphasis where markdown is not)
    as the letters they are; nothing else is normalised (fullwidth ？ stays)."""
    return "".join(
        unicodedata.normalize("NFKC", c) if "\U0001d400" <= c <= "\U0001d7ff" else c for c in text
    )


# Who speaks, in front of a question written as an interview transcript: "面试官：",
# "追问：", "继续追问：", "追问链一：", "问：", "题目：", "Q:", "Q1:". The card asks the
# question; the speaker is not part of it.
_SPEAKER = re.compile(
    r"^(?:面试官|(?:面试官|面试|继续)?追问(?:链[一二三四五六七八九十\d]+)?|问题?|题目|Q\s*\d*)"
    r"\s*[：:]\s*",
    re.IGNORECASE,
)


def strip_speaker(text: str) -> str:
    """``面试官：为什么…？`` -> ``为什么…？``; ``追问：…`` -> ``…``. A follow-up keeps only its
    own words: the question it follows is written in too many ways (a ``**题目**`` line,
    a project heading two levels up) to be joined on reliably."""
    return _SPEAKER.sub("", text, count=1).strip() or text


def question_text(title: str) -> str:
    """The question as shown: numbering, speaker, leading emoji and markup gone, the words
    kept."""
    text = _SYMBOLS.sub("", _trailing_refs(plain(plain_letters(title))))
    core = _SYMBOLS.sub("", strip_speaker(strip_lead(text)))
    return core or text


# A thematic break (``---``, ``***``, ``___``) separates questions on the page; at either
# end of an answer it is layout, not content.
_THEMATIC_BREAK = re.compile(r"^\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")
# A link back to another page ("[⬅ 回到首页](../README.md)", "[⬅ 回到 llm-coding](README.md)",
# "返回目录", "Back to top"); several may share a line, joined by "·" or "|".
_NAV_ARROW = re.compile(r"^(?:[⬅←↑⬆↩🔙🔝]\ufe0f?\s*)+")
_NAV_BACK = re.compile(
    r"^(?:(?:回到|返回)\s*(?:首页|主页|目录|顶部|上一?级|README)|"
    r"back to (?:the )?(?:top|index|contents|home|readme))$",
    re.IGNORECASE,
)
_NAV_LINK = re.compile(r"^\[(?P<text>[^\]]*)\]\([^)]*\)$")
_NAV_SEPARATOR = re.compile(r"\s*[·|｜]\s*")
_HEADING_LINE = re.compile(r"^\s{0,3}(?P<hashes>#{1,6})\s")


def is_navigation(line: str) -> bool:
    """Whether a line only links back (to the index, the top, the folder's README): page
    furniture that would otherwise end the last answer of every page."""
    pieces = [p for p in _NAV_SEPARATOR.split(line.strip()) if p]
    if not pieces:
        return False
    for piece in pieces:
        link = _NAV_LINK.match(piece)
        text = link["text"].strip() if link else piece
        words = _NAV_ARROW.sub("", text).strip()
        arrow_link = link is not None and words != text and bool(words)
        if not (arrow_link or _NAV_BACK.match(words)):
            return False
    return True


def drop_layout(prose: str) -> str:
    """An answer's prose without page layout: navigation lines, sub-headings left empty
    once their code was set apart (``### 🛠 代码``), and thematic breaks or blank lines
    at either end. A break between two parts of an answer stays."""
    lines = [line for line in prose.splitlines() if not is_navigation(line)]
    kept: list[str] = []
    dropped = False  # the blank lines after a dropped heading go with it
    for index, line in enumerate(lines):
        heading = _HEADING_LINE.match(line)
        if heading and _empty_section(lines[index + 1 :], len(heading["hashes"])):
            dropped = True
        elif not (dropped and not line.strip()):
            kept.append(line)
            dropped = False
    while kept and (not kept[-1].strip() or _THEMATIC_BREAK.match(kept[-1])):
        kept.pop()
    while kept and (not kept[0].strip() or _THEMATIC_BREAK.match(kept[0])):
        kept.pop(0)
    return "\n".join(kept)


def _empty_section(after: list[str], level: int) -> bool:
    """Whether a heading at ``level`` has nothing under it before the next heading of the
    same or a higher level (or the end, a thematic break counting as nothing)."""
    for line in after:
        heading = _HEADING_LINE.match(line)
        if heading:
            return len(heading["hashes"]) <= level
        if line.strip() and not _THEMATIC_BREAK.match(line):
            return False
    return True


@dataclass
class Found:
    """A question found inside a section's body, with the lines that answer it."""

    question: str
    answer: list[tuple[int, str]]
    line: int  # 1-based line of the question
    end_line: int  # last line consumed (question and answer)
    kind: str


_QA_Q = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*)?(?:Q|问|问题|Question)\s*\d*\s*(?:\*\*)?\s*[:：.]\s*(?:\*\*)?\s*"
    r"(?P<rest>.*)$",
    re.IGNORECASE,
)
_QA_A = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*)?(?:A|答|答案|回答|Answer)\s*\d*\s*(?:\*\*)?\s*[:：.]\s*(?:\*\*)?\s*"
    r"(?P<rest>.*)$",
    re.IGNORECASE,
)
_ITEM = re.compile(r"^(?P<indent>\s*)(?:\d+[.、)]|[-*+])\s+(?P<body>.+)$")
_BOLD_LINE = re.compile(r"^\s*\*\*(?P<body>[^*]+)\*\*\s*[:：]?\s*$")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)+\|?\s*$")
_Q_HEADER = re.compile(r"^(?:问题|题目|问|Q|Question|Questions)$", re.IGNORECASE)
_A_HEADER = re.compile(r"^(?:答案|回答|解答|答|参考答案|A|Answer|Answers)$", re.IGNORECASE)
_DETAILS_OPEN = re.compile(r"<details\b", re.IGNORECASE)
_DETAILS_TAG = re.compile(r"<details\b[^>]*>", re.IGNORECASE)
_DETAILS_CLOSE = re.compile(r"</details\s*>", re.IGNORECASE)
_SUMMARY = re.compile(r"<summary[^>]*>(?P<text>.*?)</summary>", re.IGNORECASE | re.DOTALL)
_GENERIC_SUMMARY = re.compile(
    r"^(?:答案|参考答案|解析|查看答案|点击查看|展开|点击展开|answer|show answer|solution|"
    r"click to expand|details)\b",
    re.IGNORECASE,
)


def cells(row: str) -> list[str]:
    """The cells of a markdown table row, escaped pipes kept inside their cell."""
    inner = row.strip().strip("|")
    return [c.replace("\\|", "|").strip() for c in re.split(r"(?<!\\)\|", inner)]


def _has_words(lines: list[tuple[int, str]]) -> bool:
    """Whether answer lines say something beyond links (a link list is not an answer)."""
    text = " ".join(_LINK.sub("", line) for _, line in lines)
    return bool(re.search(r"\w{2,}", _HTML_TAG.sub("", text)))


def _table_questions(body: list[tuple[int, str]], start: int) -> tuple[list[Found], int]:
    """Rows of a question/answer table starting at ``start``; returns (found, next index)."""
    end = start
    while end < len(body) and _TABLE_ROW.match(body[end][1]):
        end += 1
    rows = body[start:end]
    if len(rows) < 3 or not _TABLE_RULE.match(rows[1][1]):
        return [], end
    header = [plain(c) for c in cells(rows[0][1])]
    data = [(n, cells(line)) for n, line in rows[2:]]
    if len(header) < 2:
        return [], end
    by_header = bool(_Q_HEADER.match(header[0]) and _A_HEADER.match(header[-1]))
    by_rows = len(header) == 2 and all(asks(c[0], strict=True) for _, c in data if c)
    if not (by_header or by_rows):
        return [], end
    found = [
        Found(
            question=question_text(c[0]),
            answer=[(n, " ".join(c[1:]))],
            line=n,
            end_line=n,
            kind="table",
        )
        for n, c in data
        if len(c) >= 2 and plain(c[0]) and plain(" ".join(c[1:]))
    ]
    return found, end


def _details(body: list[tuple[int, str]], start: int) -> tuple[Found | None, int]:
    """A ``<details>`` block starting at ``start``: its summary (or the question just
    above it, when the summary only says "答案") asks, its content answers."""
    end = start
    while end < len(body) and not _DETAILS_CLOSE.search(body[end][1]):
        end += 1
    block = body[start : min(end + 1, len(body))]
    text = "\n".join(line for _, line in block)
    summary = _SUMMARY.search(text)
    label = plain(summary["text"]) if summary else ""
    content = _DETAILS_CLOSE.sub("", _DETAILS_TAG.sub("", _SUMMARY.sub("", text)))
    answer = [(block[0][0], line) for line in content.strip().splitlines()]
    question, line = "", block[0][0]
    if label and asks(label) and not _GENERIC_SUMMARY.match(label):
        question = label
    elif not label or _GENERIC_SUMMARY.match(label):
        above = [(n, text) for n, text in body[:start] if text.strip()]
        if above and asks(above[-1][1], strict=True):
            line, question = above[-1]
            item = _ITEM.match(question)
            question = item["body"] if item else question
    if not question or not _has_words(answer):
        return None, end + 1
    found = Found(question_text(question), answer, line, block[-1][0], "details")
    return found, end + 1


def _until(
    body: list[tuple[int, str]], start: int, stop: re.Pattern[str] | None, indent: int | None
) -> int:
    """Index after the answer that begins at ``start``: it ends at the next line that
    opens another question of the same kind (``stop``) or, for list items, at the next
    item at the question's indent."""
    index = start
    while index < len(body):
        line = body[index][1]
        if stop is not None and stop.match(line):
            break
        if indent is not None:
            item = _ITEM.match(line)
            if item and len(item["indent"].expandtabs(4)) <= indent and asks(item["body"], True):
                break
        index += 1
    return index


def find_questions(body: list[tuple[int, str]]) -> list[Found]:
    """Questions asked inside a section's body, in order, outside fenced code.

    A candidate needs an answer with words in it: a list of questions with nothing
    below them (a table of contents) stays article text.
    """
    found: list[Found] = []
    index = 0
    in_fence = False
    while index < len(body):
        number, line = body[index]
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence:
            index += 1
            continue
        stripped = line.strip()
        qa = _QA_Q.match(line)
        if qa and qa["rest"].strip():
            answer_at = index + 1
            while answer_at < len(body) and not body[answer_at][1].strip():
                answer_at += 1
            question_lines = [qa["rest"]]
            while (
                answer_at < len(body)
                and body[answer_at][1].strip()
                and not _QA_A.match(body[answer_at][1])
            ):
                question_lines.append(body[answer_at][1])
                answer_at += 1
            if answer_at < len(body) and _QA_A.match(body[answer_at][1]):
                end = _until(body, answer_at + 1, _QA_Q, None)
                first = _QA_A.match(body[answer_at][1])["rest"]  # type: ignore[index]
                answer = [(body[answer_at][0], first)] if first.strip() else []
                answer += body[answer_at + 1 : end]
                if _has_words(answer):
                    found.append(
                        Found(
                            question_text(" ".join(question_lines)),
                            answer,
                            number,
                            _last(body[index:end]),
                            "qa",
                        )
                    )
                    index = end
                    continue
        if _TABLE_ROW.match(line):
            rows, index = _table_questions(body, index)
            found.extend(rows)
            continue
        if _DETAILS_OPEN.search(stripped):
            block, after = _details(body, index)
            if block is not None:
                found.append(block)
                index = after
                continue
        bold = _BOLD_LINE.match(line)
        if bold and asks(bold["body"], strict=True):
            end = _until(body, index + 1, _BOLD_QUESTION, None)
            answer = body[index + 1 : end]
            if _has_words(answer) and not _starts_details(answer):
                last = _last(body[index:end])
                found.append(Found(question_text(bold["body"]), answer, number, last, "bold"))
                index = end
                continue
        item = _ITEM.match(line)
        if item and asks(item["body"], strict=True) and not _LINK_ONLY.match(item["body"]):
            indent = len(item["indent"].expandtabs(4))
            end = _until(body, index + 1, None, indent)
            answer = body[index + 1 : end]
            if _has_words(answer) and not _starts_details(answer):
                last = _last(body[index:end])
                found.append(Found(question_text(item["body"]), answer, number, last, "list"))
                index = end
                continue
        index += 1
    return found


_BOLD_QUESTION = re.compile(r"^\s*\*\*[^*]+[？?]\*\*\s*$")
_LINK_ONLY = re.compile(r"^\s*\[[^\]]+\]\([^)]*\)\s*$")


def _starts_details(answer: list[tuple[int, str]]) -> bool:
    """An answer hidden in a ``<details>`` block right below is taken by that block."""
    first = next((line for _, line in answer if line.strip()), "")
    return bool(_DETAILS_OPEN.search(first))


def _last(lines: list[tuple[int, str]]) -> int:
    filled = [n for n, line in lines if line.strip()]
    return filled[-1] if filled else lines[0][0]
