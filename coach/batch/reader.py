"""Read a batch file (CSV/TSV, JSONL or XLSX) into validated rows.

Problems with the whole file (unreadable, wrong columns, duplicate ids) stop the batch
before any grading, with a message naming the file; problems with one row (empty answer,
answer too long, a broken JSONL line) become that row's error so the rest are graded.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

from coach.batch.models import BatchInputError, BatchRow
from coach.config import Settings

FORMATS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".xlsx": "xlsx"}
REQUIRED_COLUMNS = ("question", "answer")
OPTIONAL_COLUMNS = ("id", "reference", "topic")
_SNIFF_BYTES = 8192
_COLUMN_HELP = (
    "The first row must name the columns question and answer (optional: id, reference, topic)."
)


@dataclass
class RawTable:
    """A file's header and its non-blank records, before validation."""

    columns: list[str]
    records: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    broken: list[tuple[int, str]] = field(default_factory=list)
    """Lines that could not be parsed at all (JSONL): (line, reason)."""
    where: str = ""
    """Extra location for messages, e.g. the worksheet name."""


def read_batch(path: Path, settings: Settings) -> list[BatchRow]:
    """All rows of ``path`` in file order; raises BatchInputError for file-level problems."""
    table = read_table(path, settings)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        found = [c for c in table.columns if c] or "no named columns"
        raise BatchInputError(
            f"{path}{table.where} has no column {', '.join(missing)}; columns found: {found}. "
            + _COLUMN_HELP
        )
    rows = [_to_row(i, line, record, settings) for i, (line, record) in enumerate(table.records)]
    rows += [
        BatchRow(index=0, line=line, id=f"row-{line}", error=reason)
        for line, reason in table.broken
    ]
    rows.sort(key=lambda r: r.line)
    rows = [r.model_copy(update={"index": i}) for i, r in enumerate(rows)]
    if not rows:
        raise BatchInputError(f"{path}{table.where} has a header but no rows to grade.")
    _check_unique_ids(path, rows)
    return rows


def read_table(path: Path, settings: Settings) -> RawTable:
    if not path.is_file():
        raise BatchInputError(f"Batch file {path} does not exist (or is not a file).")
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        hint = " Save it as .xlsx or .csv." if path.suffix.lower() in (".xls", ".ods") else ""
        raise BatchInputError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}; use one of "
            f"{', '.join(FORMATS)}.{hint}"
        )
    size = path.stat().st_size
    if size == 0:
        raise BatchInputError(f"{path} is empty.")
    if size > settings.batch_max_input_bytes:
        raise BatchInputError(
            f"{path} is {size} bytes, over the limit of {settings.batch_max_input_bytes} "
            "(COACH_BATCH_MAX_INPUT_BYTES); split it or raise the limit."
        )
    if kind == "xlsx":
        table = _read_xlsx(path)
    else:
        text = decode_text(path.read_bytes(), path, settings)
        table = _read_jsonl(path, text) if kind == "jsonl" else _read_csv(path, text)
    if not table.columns:
        raise BatchInputError(f"{path}{table.where} has no rows at all. " + _COLUMN_HELP)
    return table


def decode_text(data: bytes, path: Path, settings: Settings) -> str:
    """UTF-8 (with or without BOM) and UTF-16 with BOM are certain; anything else is
    detected, preferring Chinese code pages when the detector sees a tie."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise BatchInputError(
            f"{path} is a binary file, not a text table; save it as CSV (UTF-8) or XLSX."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    matches = list(from_bytes(data))
    if not matches:
        raise BatchInputError(
            f"{path}: cannot tell the text encoding; save it as UTF-8 (Excel: 'CSV UTF-8')."
        )
    best = matches[0]
    preferred = [
        m
        for m in matches
        if m.chaos <= best.chaos
        and any(enc in settings.batch_preferred_encodings for enc in m.could_be_from_charset)
    ]
    chosen = preferred[0] if preferred else best
    return str(chosen)


def _normalise_columns(path: Path, header: list[Any], where: str = "") -> list[str]:
    columns = [str(h if h is not None else "").strip().lstrip("\ufeff").lower() for h in header]
    seen: set[str] = set()
    for name in columns:
        if name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS and name in seen:
            raise BatchInputError(f"{path}{where}: column {name!r} appears twice in the header.")
        seen.add(name)
    return columns


def _is_blank(values: list[Any]) -> bool:
    return all(v is None or str(v).strip() == "" for v in values)


def _records(path: Path, rows: list[tuple[int, list[Any]]], where: str = "") -> RawTable:
    """Header = first non-blank row; records = the following non-blank rows."""
    rows = [(n, values) for n, values in rows if not _is_blank(values)]
    if not rows:
        return RawTable(columns=[], where=where)
    columns = _normalise_columns(path, rows[0][1], where)
    records = [
        (n, {c: values[i] if i < len(values) else None for i, c in enumerate(columns) if c})
        for n, values in rows[1:]
    ]
    return RawTable(columns=columns, records=records, where=where)


def _read_csv(path: Path, text: str) -> RawTable:
    # The header names the delimiter: whichever of , tab ; it uses most (Excel in some
    # locales writes ;). csv.Sniffer guesses from data rows and is fooled by Chinese text.
    header = text.split("\n", 1)[0]
    default = "\t" if path.suffix.lower() == ".tsv" else ","
    delimiter = max((",", "\t", ";"), key=lambda d: (header.count(d), d == default))
    try:
        parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise BatchInputError(f"{path} is not a readable CSV file: {exc}") from exc
    return _records(path, list(enumerate(parsed, start=1)))


def _read_jsonl(path: Path, text: str) -> RawTable:
    records: list[tuple[int, dict[str, Any]]] = []
    broken: list[tuple[int, str]] = []
    columns: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            broken.append((number, f"line {number} is not valid JSON ({exc.msg})"))
            continue
        if not isinstance(value, dict):
            broken.append((number, f"line {number} is not a JSON object"))
            continue
        record = {str(k).strip().lower(): v for k, v in value.items()}
        columns.update(dict.fromkeys(record))
        records.append((number, record))
    if not records and broken:
        raise BatchInputError(
            f"{path} is not JSONL: no line is a JSON object ({broken[0][1]}). "
            "Each line must be an object such as "
            '{"id": "1", "question": "...", "answer": "..."}.'
        )
    return RawTable(columns=list(columns), records=records, broken=broken)


def _read_xlsx(path: Path) -> RawTable:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise BatchInputError(
            f"{path} is not an Excel .xlsx workbook ({type(exc).__name__}: {exc})."
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = [(n, list(values)) for n, values in enumerate(sheet.iter_rows(values_only=True), 1)]
        return _records(path, rows, where=f" (sheet {sheet.title!r})")
    finally:
        workbook.close()


def cell_text(value: Any) -> str:
    """A cell as text: 12.0 from Excel is the id "12", not "12.0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()


def _to_row(index: int, line: int, record: dict[str, Any], settings: Settings) -> BatchRow:
    question = cell_text(record.get("question"))
    answer = cell_text(record.get("answer"))
    row = BatchRow(
        index=index,
        line=line,
        id=cell_text(record.get("id")) or f"row-{line}",
        question=question,
        answer=answer,
        reference=cell_text(record.get("reference")) or None,
        topic=cell_text(record.get("topic")) or None,
    )
    problems = []
    if not question:
        problems.append("empty question")
    if not answer:
        problems.append("empty answer")
    if len(question) > settings.batch_max_question_chars:
        problems.append(
            f"question is {len(question)} characters, over the limit of "
            f"{settings.batch_max_question_chars} (COACH_BATCH_MAX_QUESTION_CHARS)"
        )
    if len(answer) > settings.batch_max_answer_chars:
        problems.append(
            f"answer is {len(answer)} characters, over the limit of "
            f"{settings.batch_max_answer_chars} (COACH_BATCH_MAX_ANSWER_CHARS)"
        )
    if problems:
        row.error = "; ".join(problems)
    return row


def _check_unique_ids(path: Path, rows: list[BatchRow]) -> None:
    lines: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        lines[row.id].append(row.line)
    duplicates = {i: n for i, n in lines.items() if len(n) > 1}
    if duplicates:
        shown = "; ".join(f"{i!r} at rows {n}" for i, n in list(duplicates.items())[:5])
        more = f" and {len(duplicates) - 5} more" if len(duplicates) > 5 else ""
        raise BatchInputError(
            f"{path} has duplicate ids: {shown}{more}. Every id must be unique "
            "(rows without an id get 'row-<row number>')."
        )
