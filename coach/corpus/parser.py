"""Structure-aware parsing of the question banks and articles.

Generic splitters cut a question away from its answer, which is the classic failure of
Chinese RAG tools on Q&A documents. This parser follows the documents' own structure
instead: headings (outside fenced code) delimit sections; a section holding a
``**题目：**`` block is one question card; headings ending in a question mark under an
FAQ/附录 heading become cards too; everything else is article text, chunked by section.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from langchain_text_splitters import RecursiveCharacterTextSplitter

from coach.corpus.keypoints import clean_inline, extract_key_points
from coach.corpus.models import ArticleChunk, ParsedDocument, QuestionCard, SourceSpan

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

    @property
    def end_line(self) -> int:
        filled = [number for number, line in self.body if line.strip()]
        return filled[-1] if filled else self.line


def strip_numbering(title: str) -> str:
    return _NUMBERING.sub("", clean_inline(title)).strip()


def stable_id(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:12]


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
            sections.append(Section(level, title, number, parents=[t for _, t in stack]))
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
    if "question" not in blocks:
        return None
    title = strip_numbering(section.title) or clean_inline(_text(blocks["question"]))
    answer, code = _split_code(_text(blocks.get("answer", [])))
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


def _faq_card(file: str, section: Section) -> QuestionCard | None:
    title = strip_numbering(section.title)
    if not title.endswith(_QUESTION_END) or not any(_FAQ_PARENT.search(p) for p in section.parents):
        return None
    answer, code = _split_code(_text(section.body))
    if not answer:
        return None
    return QuestionCard(
        id=stable_id(file, str(section.line)),
        title=title,
        question=title,
        answer=answer,
        key_points=extract_key_points(answer),
        code=code,
        sources=[SourceSpan(file=file, start_line=section.line, end_line=section.end_line)],
        variants=[title],
        kind="faq",
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


def parse_text(file: str, text: str, splitter: RecursiveCharacterTextSplitter) -> ParsedDocument:
    """Parse one document's text; ``file`` is the name cited in every source span."""
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    doc = ParsedDocument(file=file, sha256=sha)
    for section in split_sections(text.splitlines()):
        card = _bank_card(file, section) or _faq_card(file, section)
        if card is not None:
            doc.cards.append(card)
        else:
            doc.chunks.extend(_article_chunks(file, section, splitter))
    return doc
