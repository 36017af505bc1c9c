"""Key points: the checkable claims a reference answer makes.

The question banks write answers as lists whose items open with a bold label
(``1. **数据增强（Data Augmentation）：** 通过…``). The label, its English alias and the
explanation become one ``KeyPoint``. The same function reads a teacher's free-text
reference (no list, no bold), so graders treat both the same way.

People's notes structure answers in other ways too, so the points come from the first of
these that the answer has: sub-headings (two or more), list items (table rows count as
items), bold terms (two or more), and failing those its sentences. Images and tables are
turned into text first (alt text, cells), so nothing an answer says is dropped silently.
"""

from __future__ import annotations

import re

from coach.corpus.models import KeyPoint
from coach.corpus.shapes import plain_letters, question_text

_ITEM = re.compile(r"^(?P<indent>\s*)(?:\d+[.、)]|[-*+•])\s+(?P<body>.+)$")
# **标签：** rest   |   **标签**：rest   |   **标签** rest
_BOLD_LABEL = re.compile(r"^\*\*(?P<label>[^*]+?)[：:]?\*\*\s*[：:]?\s*(?P<rest>.*)$")
# label: rest. A label is short: up to 24 characters without a comma (a Chinese term), or
# a few English words, commas allowed ("Query, Key, and Value"); a longer text before the
# colon is a sentence that happens to hold one.
_PLAIN_LABEL = re.compile(
    r"^(?P<label>[^：:，,。]{1,24}|[A-Za-z][\w'’&/()-]*(?:,?\s+[\w'’&/()-]+){0,4})[：:]\s*"
    r"(?P<rest>.+)$"
)
_ALIAS = re.compile(r"^(?P<label>.+?)\s*[（(](?P<alias>[^（）()]*[A-Za-z][^（）()]*)[）)]\s*$")
# A label that ends like a sentence is a whole statement, not a term awaiting explanation.
_ENDS_SENTENCE = re.compile(r"[。！？!?；;.]\s*$")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])\s*|(?<=[.])\s+")
_MARKDOWN = re.compile(r"\*\*|`")
_SUBHEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<title>.+?)\s*#*\s*$", re.MULTILINE)
_BOLD_TERM = re.compile(r"\*\*(?P<term>[^*\n]{2,40}?)\*\*")
_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]*)[^)]*\)")
_HTML_IMAGE = re.compile(r"<img\b[^>]*?(?:alt=[\"'](?P<alt>[^\"']*)[\"'][^>]*)?>", re.IGNORECASE)
_REFERENCE = re.compile(
    r"\[\[[^\]]*\]\]\([^)]*\)|\[(?:src|source|link|answer|ref)\]\([^)]*\)", re.IGNORECASE
)
_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]+)\]\((?:https?:|#|\.|/)[^)]*\)")
_QUOTE = re.compile(r"^\s{0,3}>\s?", re.MULTILINE)
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_DECORATION = re.compile(r"^[\W_\d]*?(?=[\w(（])", re.UNICODE)
_EXPLANATION_CHARS = 160


def clean_inline(text: str) -> str:
    """Strip inline markdown so text can be shown, tokenised and compared."""
    return _MARKDOWN.sub("", text).strip()


def split_label(label: str) -> tuple[str, str | None]:
    """``数据增强（Data Augmentation）`` -> (``数据增强``, ``Data Augmentation``)."""
    match = _ALIAS.match(label.strip())
    if match:
        return match["label"].strip(), match["alias"].strip()
    return label.strip(), None


def _point_from_item(body: str) -> KeyPoint:
    match = _BOLD_LABEL.match(body) or _PLAIN_LABEL.match(clean_inline(body))
    if match:
        label, alias = split_label(clean_inline(match["label"]))
        return KeyPoint(label=label, alias=alias, explanation=clean_inline(match["rest"]))
    text = clean_inline(body)
    return KeyPoint(label=text, explanation="")


def _image_text(match: re.Match[str]) -> str:
    alt = (match["alt"] or "").strip()
    if alt:
        return f"（图：{alt}）"
    src = match.groupdict().get("src") or ""
    return f"（图：{src.rsplit('/', 1)[-1]}）" if src else "（图）"


def as_text(answer: str) -> str:
    """Markdown whose images, links and tables are text: an image by its alt text (or
    file name), a link by its words (a bare ``[[src]](url)`` reference dropped), a table
    as one list item per row (``- cell：cell；cell``), ``<br>`` a line break, a quote
    without its ``>``. Text with none of these is returned unchanged."""
    text = _IMAGE.sub(_image_text, answer)
    text = _REFERENCE.sub("", text)
    text = _LINK.sub(lambda m: m["text"], text)
    text = _QUOTE.sub("", text)
    text = _HTML_IMAGE.sub(_image_text, text)
    text = _BREAK.sub("\n", text)
    if "|" not in text:
        return text
    lines = text.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        if (
            _TABLE_ROW.match(lines[index])
            and index + 1 < len(lines)
            and _TABLE_RULE.match(lines[index + 1])
        ):
            index += 2  # the header names the columns; the rows say the content
            while index < len(lines) and _TABLE_ROW.match(lines[index]):
                row = [c.strip() for c in lines[index].strip().strip("|").split("|")]
                row = [c for c in row if c]
                if row:
                    rest = "；".join(row[1:])
                    out.append(f"- {row[0]}：{rest}" if rest else f"- {row[0]}")
                index += 1
            continue
        out.append(lines[index])
        index += 1
    return "\n".join(out)


def _short(text: str) -> str:
    """The first sentences of ``text``, up to a length a key point can show."""
    text = clean_inline(" ".join(text.split()))
    if len(text) <= _EXPLANATION_CHARS:
        return text
    kept = ""
    for sentence in split_sentences(text):
        if kept and len(kept) + len(sentence) > _EXPLANATION_CHARS:
            break
        kept += sentence
    return kept[:_EXPLANATION_CHARS]


def _heading_points(answer: str) -> list[KeyPoint]:
    """One point per sub-heading, explained by the start of its own text."""
    points: list[KeyPoint] = []
    body: list[str] = []
    for line in [*answer.splitlines(), "# end"]:
        heading = _SUBHEADING.match(line)
        if heading is None:
            body.append(line.lstrip("-*+ ").strip())
            continue
        if points:
            points[-1].explanation = _short(" ".join(x for x in body if x))
        body = []
        if line != "# end":
            title = _DECORATION.sub("", clean_inline(heading["title"])).strip()
            label, alias = split_label(title or clean_inline(heading["title"]))
            points.append(KeyPoint(label=label, alias=alias))
    points = [p for p in points if p.label]
    explained = [p for p in points if p.explanation]
    # "代码" over a code block says nothing checkable once the code is set apart.
    return explained if len(explained) >= 2 else points


def _bold_points(answer: str) -> list[KeyPoint]:
    """One point per distinct bold term, explained by the sentence it stands in."""
    points: dict[str, KeyPoint] = {}
    for line in answer.splitlines():
        for sentence in split_sentences(line):
            for match in _BOLD_TERM.finditer(sentence):
                term = match["term"].strip(" ：:，,")
                if len(term) >= 2 and term not in points:
                    label, alias = split_label(term)
                    points[term] = KeyPoint(label=label, alias=alias, explanation=_short(sentence))
    return list(points.values())


def split_sentences(text: str) -> list[str]:
    """Sentences of Chinese or English prose, without empty pieces."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def extract_key_points(answer: str) -> list[KeyPoint]:
    """Key points of an answer: its sub-headings, top-level list items, bold terms, or
    else its sentences (see the module docstring for why in this order). Mathematical bold
    letters (𝐅𝐥𝐚𝐬𝐤, emphasis where markdown is not) read as the letters they are, as the
    question's do: a label is compared with what a candidate types."""
    answer = as_text(plain_letters(answer))
    headings = _heading_points(answer) if _SUBHEADING.search(answer) else []
    if len(headings) >= 2:
        return headings
    points = _list_points(answer)
    if points:
        return points
    bold = _bold_points(answer)
    if len(bold) >= 2:
        return bold
    # A lone sub-heading (``### 🎯 思路``) leads the sentence below it as a label, not as
    # markup inside the point.
    prose = _SUBHEADING.sub(_heading_as_lead, answer)
    prose = clean_inline(" ".join(prose.split())).replace("： ", "：")
    return [KeyPoint(label=s) for s in split_sentences(prose)]


def _heading_as_lead(match: re.Match[str]) -> str:
    title = question_text(match["title"])
    return f"{title}{'' if _ENDS_SENTENCE.search(title) or not title else '：'}"


def _list_points(answer: str) -> list[KeyPoint]:
    """Top-level list items. Nested items and continuation lines belong to the item
    above them, because in these documents they elaborate that item rather than make a
    new point. An item that is only a label (``1. Scalable``) may have its explanation on
    the next lines without indent and without a blank line between: Markdown reads them
    as the item's own paragraph. (After an item that is a sentence, such lines are more
    often the answer's closing remark, so they are left out as before.)"""
    points: list[KeyPoint] = []
    top_indent: int | None = None
    lazy = False  # whether an unindented line still explains the last item
    for line in answer.splitlines():
        item = _ITEM.match(line)
        if item:
            indent = len(item["indent"].expandtabs(4))
            if top_indent is None:
                top_indent = indent
            if indent <= top_indent:
                point = _point_from_item(item["body"].strip())
                points.append(point)
                lazy = not point.explanation and not _ENDS_SENTENCE.search(point.label)
                continue
        lazy = lazy and bool(line.strip()) and not _SUBHEADING.match(line)
        if points and line.strip() and (item or line.startswith((" ", "\t")) or lazy):
            extra = clean_inline(item["body"] if item else line)
            points[-1].explanation = f"{points[-1].explanation} {extra}".strip()
    return points
