"""Structure-aware parsing of the question banks and articles.

Generic splitters cut a question away from its answer, which is the classic failure of
Chinese RAG tools on Q&A documents. This parser follows the documents' own structure
instead: headings (outside fenced code) delimit sections; a section holding a
``**题目：**`` block is one question card; a heading that asks (``coach.corpus.shapes``)
is a card whose answer is everything up to the next heading of the same or a higher
level, sub-headings included, unless the headings below it are mostly questions too
(then it only titles them; a lone "为什么…？" beside 思路 and 复杂度 is part of its answer);
inside other sections, ``Q:``/``A:`` pairs, numbered or bold questions, question
tables and ``<details>`` blocks become cards. Everything else is article text, chunked
by section.

``file`` is the path relative to the folder that was ingested (the bare name for a file
given on its own), so ``a/q.md`` and ``b/q.md`` get different card ids while a file at
the top of the folder keeps the id it always had.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from dataclasses import dataclass, field

from langchain_text_splitters import RecursiveCharacterTextSplitter

from coach.corpus.keypoints import as_text, clean_inline, extract_key_points
from coach.corpus.models import ArticleChunk, ParsedDocument, QuestionCard, SourceSpan
from coach.corpus.shapes import (
    Found,
    asks,
    asks_plainly,
    drop_layout,
    find_questions,
    question_text,
    strip_lead,
    strip_speaker,
)

_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
# Numbering styles seen in the banks: 一、  1.  1、  题目 1：  9.1
_NUMBERING = re.compile(
    r"^(?:题目\s*\d+\s*[：:]|[一二三四五六七八九十百]+、|\d+(?:\.\d+)*\s*[.、:：)]?)\s*"
)
_BLOCK = re.compile(
    r"^\*\*(?P<label>题目|问题|答案|解析|举例|示例|代码)\s*[：:]?\*\*\s*[：:]?\s*(?P<rest>.*)$"
)
_BLOCK_FIELDS = {
    "题目": "question",
    "问题": "question",
    "答案": "answer",
    "解析": "analysis",
    "举例": "example",
    "示例": "example",
    "代码": "code",
}
_FAQ_PARENT = re.compile(r"常见问题|FAQ|附录|问答", re.IGNORECASE)
_QUESTION_END = ("？", "?")


@dataclass
class Section:
    level: int
    title: str
    line: int  # 1-based line of the heading (or 1 for text before any heading)
    body: list[tuple[int, str]] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    raw: str = ""  # the heading line as written

    @property
    def end_line(self) -> int:
        filled = [number for number, line in self.body if line.strip()]
        return filled[-1] if filled else self.line


def strip_numbering(title: str) -> str:
    return _NUMBERING.sub("", clean_inline(title)).strip()


def stable_id(*parts: str) -> str:
    """A short id from ``parts``; any string works, a file name with undecodable bytes
    (surrogate escapes) included, and a UTF-8 one hashes as it always did."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:12]


def split_sections(lines: list[str]) -> list[Section]:
    """Sections by heading, ignoring ``#`` lines inside fenced code (comments in code)."""
    sections = [Section(level=0, title="", line=1)]
    stack: list[tuple[int, str]] = []
    in_fence = False
    for number, line in enumerate(lines, start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            level = len(heading["hashes"])
            title = clean_inline(heading["text"])
            while stack and stack[-1][0] >= level:
                stack.pop()
            parents = [t for _, t in stack]
            sections.append(Section(level, title, number, parents=parents, raw=line))
            stack.append((level, title))
        else:
            sections[-1].body.append((number, line))
    return sections


def _blocks(section: Section) -> dict[str, list[tuple[int, str]]]:
    """The bold-labelled blocks of a question section, code fences kept whole."""
    blocks: dict[str, list[tuple[int, str]]] = {}
    current: str | None = None
    in_fence = False
    for number, line in section.body:
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _BLOCK.match(line.strip())
        if match:
            current = _BLOCK_FIELDS[match["label"]]
            blocks.setdefault(current, [])
            if match["rest"].strip():
                blocks[current].append((number, match["rest"]))
        elif current is not None:
            blocks[current].append((number, line))
    return blocks


def _text(lines: list[tuple[int, str]]) -> str:
    return "\n".join(line for _, line in lines).strip()


def _split_code(text: str) -> tuple[str, list[str]]:
    """Separate fenced code from prose: code is shown, never matched as key points."""
    prose: list[str] = []
    code: list[str] = []
    fence: list[str] | None = None
    for line in text.splitlines():
        if _FENCE.match(line):
            if fence is None:
                fence = []
            else:
                code.append("\n".join(fence))
                fence = None
            continue
        (fence if fence is not None else prose).append(line)
    if fence:
        code.append("\n".join(fence))
    return "\n".join(prose).strip(), code


def _bank_card(file: str, section: Section) -> QuestionCard | None:
    blocks = _blocks(section)
    # Both blocks: a "**问题**：…" line inside prose names a problem, it is not a bank entry.
    if "question" not in blocks or "answer" not in blocks:
        return None
    title = strip_numbering(section.title) or clean_inline(_text(blocks["question"]))
    answer, code = _split_code(_text(blocks.get("answer", [])))
    answer = drop_layout(answer)
    example, example_code = _split_code(_text(blocks.get("example", [])))
    code += example_code + [c for c in [_text(blocks.get("code", []))] if c]
    question = clean_inline(_text(blocks["question"]))
    return QuestionCard(
        id=stable_id(file, str(section.line)),
        title=title,
        question=question,
        answer=answer,
        key_points=extract_key_points(answer),
        analysis=_text(blocks.get("analysis", [])),
        example=example,
        code=code,
        sources=[SourceSpan(file=file, start_line=section.line, end_line=section.end_line)],
        variants=[question],
    )


# "Answer:" / "答：" opening an answer labels it; it is not a key point.
_ANSWER_MARK = re.compile(
    r"^(?:\*\*)?(?:answer|ans|a|答案|答|回答|解答)\s*(?:\*\*)?\s*[:：]\s*(?:\*\*)?", re.I
)
_GENERIC_FOLDERS = {
    "docs",
    "doc",
    "notes",
    "note",
    "src",
    "content",
    "contents",
    "md",
    "markdown",
    "笔记",
    "文档",
    "posts",
    "pages",
    "source",
}


def _clean_topic(name: str) -> str:
    """``02.大语言模型架构`` -> ``大语言模型架构``; ``03 · Fine-tuning`` -> ``Fine-tuning``."""
    text = strip_lead(clean_inline(name.strip().strip("#").strip()))
    text = re.sub(r"^[-_\s]+|[-_\s]+$", "", text)
    return re.sub(r"^[^\w(（]+", "", text).strip()


def structural_topic(file: str, parents: list[str]) -> str:
    """The topic a user's own material gives a card: its top folder (a generic one such
    as ``docs`` skipped), else its top-level heading, else the file's name."""
    *folders, name = file.split("/")
    for folder in folders:
        cleaned = _clean_topic(folder)
        if cleaned and cleaned.lower() not in _GENERIC_FOLDERS:
            return cleaned
    for title in parents:
        cleaned = _clean_topic(title)
        if cleaned:
            return cleaned
    stem = name.rsplit(".", 1)[0]
    return _clean_topic(stem) or stem


def _subtree_end(sections: list[Section], index: int) -> int:
    """Index of the next section at the same or a higher level than ``sections[index]``."""
    level = sections[index].level
    end = index + 1
    while end < len(sections) and sections[end].level > level:
        end += 1
    return end


def _asks_below(sections: list[Section]) -> bool:
    """Whether questions sit below a heading that asks, so that it only titles them: a
    ``**题目：**`` block, or a group of sibling sub-headings most of which ask. A lone
    asking sub-heading among non-asking ones (``为什么用小顶堆？`` beside 思路, 代码 and
    复杂度 under ``Q07 · 前 K 个高频元素``) is part of the answer above it."""
    if any(_is_bank(s) for s in sections):
        return True
    groups: dict[int, list[Section]] = {}  # by the index of their parent (-1: the heading)
    stack: list[tuple[int, int]] = []
    for index, section in enumerate(sections):
        while stack and stack[-1][0] >= section.level:
            stack.pop()
        groups.setdefault(stack[-1][1] if stack else -1, []).append(section)
        stack.append((section.level, index))
    return any(
        2 * sum(bool(s.title and asks_plainly(s.raw or s.title)) for s in group) > len(group)
        for group in groups.values()
    )


def _is_bank(section: Section) -> bool:
    blocks = _blocks(section)
    return "question" in blocks and "answer" in blocks


def _card(
    file: str,
    line: int,
    end_line: int,
    title: str,
    answer_lines: list[tuple[int, str]],
    kind: str,
    parents: list[str],
) -> QuestionCard | None:
    # Dedent first: an answer indented under a list item keeps its own list structure.
    answer, code = _split_code(textwrap.dedent("\n".join(x for _, x in answer_lines)).strip())
    answer = _ANSWER_MARK.sub("", as_text(drop_layout(answer)).strip(), count=1).strip()
    points = extract_key_points(answer)
    if not answer and code:
        # A coding question answered by code alone: the code is the reference; it has no
        # key points to check, which `coach cards` reports.
        answer, points = "\n\n".join(code), []
    if not answer:
        return None
    return QuestionCard(
        id=stable_id(file, str(line)),
        title=title,
        question=title,
        answer=answer,
        key_points=points,
        code=code,
        sources=[SourceSpan(file=file, start_line=line, end_line=end_line)],
        variants=[title],
        kind=kind,  # type: ignore[arg-type]
        topic=structural_topic(file, parents),
    )


def _heading_card(file: str, section: Section, below: list[Section]) -> QuestionCard | None:
    """A heading that asks: its answer is its body and every section below it."""
    faq = any(_FAQ_PARENT.search(p) for p in section.parents)
    if faq and section.title.endswith(_QUESTION_END):
        title = strip_speaker(strip_numbering(section.title))  # as FAQ cards were titled
    else:
        title, faq = question_text(section.raw or section.title), False
    lines = list(section.body)
    for sub in below:
        lines.append((sub.line, sub.raw))
        lines.extend(sub.body)
    end = max([section.end_line, *(s.end_line for s in below)])
    kind = "faq" if faq else "heading"
    return _card(file, section.line, end, title, lines, kind, section.parents)


def _found_card(file: str, section: Section, found: Found) -> QuestionCard | None:
    parents = [*section.parents, section.title] if section.title else section.parents
    return _card(
        file, found.line, found.end_line, found.question, found.answer, found.kind, parents
    )


def _article_chunks(
    file: str, section: Section, splitter: RecursiveCharacterTextSplitter
) -> list[ArticleChunk]:
    text = _text(section.body)
    if not text:
        return []
    path = [*section.parents, section.title] if section.title else section.parents
    first_line = section.body[0][0]
    chunks = []
    offset = 0
    for index, piece in enumerate(splitter.split_text(text)):
        # Map the piece back to its lines so a citation points at the right place.
        found = text.find(piece[:40], offset)
        start = first_line + text.count("\n", 0, max(found, 0))
        offset = max(found, offset)
        end = start + piece.count("\n")
        chunks.append(
            ArticleChunk(
                id=stable_id(file, str(section.line), str(index)),
                title=section.title or file,
                section_path=[p for p in path if p],
                text=piece,
                source=SourceSpan(file=file, start_line=start, end_line=end),
            )
        )
    return chunks


def make_splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    """Split on paragraphs, lines, then Chinese and English sentence ends."""
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=["\n\n", "\n", "。", "！", "？", "；", ". ", "，", " ", ""],
        keep_separator="end",
    )


def _remaining(section: Section, found: list[Found]) -> Section:
    """The section without the lines its questions took: what is left is article text."""
    taken = [(f.line, f.end_line) for f in found]
    body = [(n, line) for n, line in section.body if not any(a <= n <= b for a, b in taken)]
    return Section(section.level, section.title, section.line, body, section.parents)


def parse_text(file: str, text: str, splitter: RecursiveCharacterTextSplitter) -> ParsedDocument:
    """Parse one document's text; ``file`` is the name cited in every source span."""
    sha = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    doc = ParsedDocument(file=file, sha256=sha)
    sections = split_sections(text.splitlines())
    index = 0
    while index < len(sections):
        section = sections[index]
        card = _bank_card(file, section)
        if card is not None:
            card.topic = structural_topic(file, section.parents)
            doc.cards.append(card)
            index += 1
            continue
        end = _subtree_end(sections, index)
        if section.title and asks(section.raw or section.title):
            below = sections[index + 1 : end]
            if not _asks_below(below):
                card = _heading_card(file, section, below)
                if card is not None:
                    doc.cards.append(card)
                    index = end
                    continue
        found = find_questions(section.body)
        for item in found:
            card = _found_card(file, section, item)
            if card is not None:
                doc.cards.append(card)
        doc.chunks.extend(_article_chunks(file, _remaining(section, found), splitter))
        index += 1
    for chunk in doc.chunks:
        chunk.topic = structural_topic(file, chunk.section_path)
    return doc
