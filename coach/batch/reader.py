"""Read a batch file (CSV/TSV, JSONL or XLSX) into validated rows.

Problems with the whole file (unreadable, wrong columns, duplicate ids, a quote that
would merge rows) stop the batch before any grading, with a message naming the file and
line; problems with one row (empty answer, answer too long, a broken JSONL line, a formula
cell without a saved value) become that row's error so the rest are graded.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

from coach.batch.models import BatchInputError, BatchRow
from coach.batch.workbook import apply_merges, read_sheet
from coach.config import Settings

logger = logging.getLogger(__name__)
FORMATS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".xlsx": "xlsx"}
REQUIRED_COLUMNS = ("question", "answer")
OPTIONAL_COLUMNS = ("id", "reference", "topic", "audio")
SPOKEN_ANSWER = "audio"
"""A column naming a recording of the answer (relative to the input file's folder): with
the voice extra and pack, a row without a written answer is graded on its transcript."""
_SNIFF_BYTES = 8192
_UTF16_NUL_SHARE = 0.1
"""UTF-16 without a BOM is recognised when at least this share of its 2-byte units have a
zero byte on the same side: the ASCII delimiters, digits and newlines every table has
(Chinese characters seldom have a zero byte, so the share stays low but not zero)."""
_UTF16_PRINTABLE_SHARE = 0.95
"""... and when the decoded text is this printable (binary data decodes to junk)."""
_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive; an .xlsx workbook is one, so if it is a workbook name it .xlsx",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls (or Word .doc) file; save it as .xlsx or CSV",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\x1f\x8b": "a gzip archive",
}
"""Leading bytes of files people save with a .csv name by mistake, to say what it holds."""
_SHOWN_LINES = 5
"""How many offending lines a file-level message lists before "and N more"."""
_FORMULA_SHOWN_CHARS = 60
"""How much of a formula a row's error quotes (enough to recognise it)."""
_COLUMN_HELP = (
    "The first row must name the columns question and answer (optional: id, reference, topic, "
    "audio: a recording of the answer, for rows whose answer cell is empty)."
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
    cell_problems: dict[int, dict[str, str]] = field(default_factory=dict)
    """Cells that hold something other than a value (XLSX formulas without a saved
    result): {line: {column: why}}; such a row gets the reason instead of "empty"."""
    notes: list[str] = field(default_factory=list)
    """What the run's report should say about how the file was read (which sheet, cells
    past the column cap, merged cells filled)."""


def read_batch(
    path: Path,
    settings: Settings,
    *,
    sheet: str | None = None,
    audio_dir: Path | None = None,
    notes: list[str] | None = None,
) -> list[BatchRow]:
    """All rows of ``path`` in file order; raises BatchInputError for file-level problems.

    ``sheet``: the worksheet of an .xlsx (default: the active one). ``audio_dir``: the
    only folder recordings named in the ``audio`` column (relative to the input's folder)
    are read from (default: the input's own folder). ``notes``: receives what the report
    should say about the file."""
    table = read_table(path, settings, sheet=sheet)
    if notes is not None:
        notes.extend(table.notes)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing == ["answer"] and SPOKEN_ANSWER in table.columns:
        missing = []
    if missing:
        found = [c for c in table.columns if c] or "no named columns"
        raise BatchInputError(
            f"{path}{table.where} has no column {', '.join(missing)}; columns found: {found}. "
            + _COLUMN_HELP
        )
    rows = [
        _to_row(i, line, record, settings, table.cell_problems.get(line, {}))
        for i, (line, record) in enumerate(table.records)
    ]
    rows += [
        BatchRow(index=0, line=line, id=f"row-{line}", error=reason)
        for line, reason in table.broken
    ]
    rows.sort(key=lambda r: r.line)
    rows = [r.model_copy(update={"index": i}) for i, r in enumerate(rows)]
    if not rows:
        raise BatchInputError(f"{path}{table.where} has a header but no rows to grade.")
    _check_unique_ids(path, rows)
    if any(r.audio for r in rows):
        from coach.batch.spoken import transcribe_rows

        rows = transcribe_rows(rows, path.parent, settings, root=audio_dir)
    return rows


def count_rows(path: Path, settings: Settings, *, sheet: str | None = None) -> int:
    """How many rows ``read_batch`` will give, without transcribing any recording (a
    progress bar's total); raises BatchInputError as it would."""
    table = read_table(path, settings, sheet=sheet)
    return len(table.records) + len(table.broken)


def read_table(path: Path, settings: Settings, *, sheet: str | None = None) -> RawTable:
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
    if size > settings.batch.max_input_bytes:
        raise BatchInputError(
            f"{path} is {size} bytes, over the limit of {settings.batch.max_input_bytes} "
            "(COACH_BATCH_MAX_INPUT_BYTES); split it or raise the limit."
        )
    if sheet is not None and kind != "xlsx":
        raise BatchInputError(f"--sheet names a worksheet of an .xlsx file; {path} is not one.")
    if kind == "xlsx":
        table = _read_xlsx(path, settings, sheet)
    else:
        text = decode_text(path.read_bytes(), path, settings)
        table = _read_jsonl(path, text) if kind == "jsonl" else _read_csv(path, text)
    if not table.columns:
        raise BatchInputError(f"{path}{table.where} has no rows at all. " + _COLUMN_HELP)
    return table


def decode_text(data: bytes, path: Path, settings: Settings) -> str:
    """UTF-8 (with or without BOM) and UTF-16 with BOM are certain; UTF-16 without a BOM
    is recognised by its zero bytes; anything else is detected, preferring Chinese code
    pages when the detector sees a tie."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if b"\x00" in data[:_SNIFF_BYTES]:
        text = _utf16_without_bom(data)
        if text is not None:
            return text
        raise BatchInputError(
            f"{path} is a binary file ({_what_binary(data)}), not a text table; "
            "save it as CSV (UTF-8) or XLSX."
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
        and any(enc in settings.batch.preferred_encodings for enc in m.could_be_from_charset)
    ]
    chosen = preferred[0] if preferred else best
    logger.info("%s is not UTF-8: read as %s", path, chosen.encoding)
    return str(chosen)


def _utf16_without_bom(data: bytes) -> str | None:
    """The text, when ``data`` reads as UTF-16 (little or big endian) without a BOM, as
    some Windows tools write it; None when it does not look like UTF-16 text."""
    sample = data[: _SNIFF_BYTES - _SNIFF_BYTES % 2]
    units = len(sample) // 2
    if not units:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    encoding = "utf-16-le" if odd > even else "utf-16-be"
    if max(even, odd) < units * _UTF16_NUL_SHARE:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    shown = text[: len(sample) // 2]
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in shown)
    if "\x00" in text or printable < len(shown) * _UTF16_PRINTABLE_SHARE:
        return None
    return text


def _what_binary(data: bytes) -> str:
    for signature, what in _SIGNATURES.items():
        if data.startswith(signature):
            return what
    return "it has zero bytes, which text tables never have"


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
    return _records(path, _csv_rows(path, text, delimiter))


def _csv_rows(path: Path, text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Records numbered as a spreadsheet numbers its rows (a multi-line cell is one row).

    Parsed strictly: the lenient default reads an unclosed quote as a cell running to the
    next quote or the end of the file, which silently merges every row in between into
    one answer. ``strict=True`` raises there instead; a multi-line record with more
    cells than the header is the same fault where the quotes happened to pair up. A
    record whose cell count differs from the header's (an unquoted comma in an answer
    cuts it there and grades the first piece) refuses the file with its lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    width: int | None = None
    mismatched: list[tuple[int, int]] = []
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise BatchInputError(_csv_error(path, exc, start, reader.line_num)) from exc
        if width is None and not _is_blank(values):
            width = len(values)
        elif width is not None and reader.line_num > start and _spills(values, width):
            raise BatchInputError(
                f"{path}: the row that starts on line {start} runs on to line "
                f"{reader.line_num} and has {len(values)} cells where the header has {width}. "
                'A quote (") in it is probably not closed, which merged the lines after it '
                'into one cell. Close the quote (a quote inside a cell is written twice: ""), '
                "then rerun; nothing was graded."
            )
        elif width is not None and not _is_blank(values) and _wrong_width(values, width):
            mismatched.append((start, len(values)))
        rows.append((len(rows) + 1, values))
    if mismatched and width is not None:
        raise BatchInputError(_width_error(path, mismatched, width, delimiter))
    return rows


def _spills(values: list[str], width: int) -> bool:
    """More non-empty cells than the header names (trailing empty cells are harmless)."""
    return any(v.strip() for v in values[width:])


def _wrong_width(values: list[str], width: int) -> bool:
    """More non-empty cells than the header names, or fewer cells (trailing empty cells,
    as some spreadsheets write them, are harmless)."""
    return len(values) < width or _spills(values, width)


def _width_error(path: Path, mismatched: list[tuple[int, int]], width: int, delimiter: str) -> str:
    name = {",": "comma", "\t": "tab", ";": "semicolon"}[delimiter]
    shown = ", ".join(f"line {line} has {cells}" for line, cells in mismatched[:_SHOWN_LINES])
    more = f" and {len(mismatched) - _SHOWN_LINES} more" if len(mismatched) > _SHOWN_LINES else ""
    rows = "row does" if len(mismatched) == 1 else f"{len(mismatched)} rows do"
    return (
        f"{path}: {rows} not have the header's {width} cells ({shown}{more}). A {name} "
        "inside an answer splits it into two cells unless the cell is quoted, and a line "
        f'break cuts a row in two: put such cells in double quotes ("a{delimiter} b"), or '
        "save the file from a spreadsheet as CSV, then rerun; nothing was graded."
    )


def _csv_error(path: Path, exc: csv.Error, start: int, line: int) -> str:
    reason = str(exc)
    if "unexpected end of data" in reason:
        return (
            f'{path}: the quoted cell that starts on line {start} is never closed (a " '
            "without its closing quote), so every line after it would be read into that one "
            'cell. Close the quote (a quote inside a cell is written twice: ""), then rerun; '
            "nothing was graded."
        )
    if "expected after" in reason:
        opened = (
            f"a quote opened on line {start} is probably not closed, or " if start < line else ""
        )
        return (
            f"{path} line {line}: text follows a closing quote ({reason}); {opened}a quote "
            'inside a cell is not written twice (""). Fix the quotes, then rerun; nothing '
            "was graded."
        )
    return f"{path} line {line} is not readable as CSV ({reason}); nothing was graded."


class _Object(dict[str, Any]):
    """A JSON object that remembers its keys as written, duplicates included (a plain
    dict keeps the last of two equal keys without a word)."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        self.pairs = pairs


def _clashing_keys(value: dict[str, Any]) -> str | None:
    """Why a line is refused when two of its keys name the same column coach reads
    (``answer`` and ``Answer``, or ``answer`` twice) with different values: which one
    is meant is a guess, and the other would be dropped silently."""
    seen: dict[str, tuple[str, Any]] = {}
    for key, item in getattr(value, "pairs", value.items()):
        name = str(key).strip().lower()
        if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
            continue
        if name in seen and seen[name][1] != item:
            return (
                f"the keys {seen[name][0]!r} and {key!r} both name the column {name!r} with "
                "different values; keep one of them (coach cannot tell which is meant)"
            )
        seen.setdefault(name, (str(key), item))
    return None


def _read_jsonl(path: Path, text: str) -> RawTable:
    records: list[tuple[int, dict[str, Any]]] = []
    broken: list[tuple[int, str]] = []
    columns: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, object_pairs_hook=_Object)
        except json.JSONDecodeError as exc:
            broken.append((number, f"line {number} is not valid JSON ({exc.msg})"))
            continue
        if not isinstance(value, dict):
            broken.append((number, f"line {number} is not a JSON object"))
            continue
        clash = _clashing_keys(value)
        if clash:
            broken.append((number, clash))
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


def _read_xlsx(path: Path, settings: Settings, sheet: str | None) -> RawTable:
    rows = read_sheet(path, settings, sheet=sheet, data_only=True)
    where = f" (sheet {rows.title!r})"
    notes = list(rows.notes)
    if rows.rows:
        header_line, header = rows.rows[0]
        columns = _normalise_columns(path, header, where)
        notes += apply_merges(path, rows, header_line, columns, REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    table = _records(path, rows.rows, where=where)
    table.notes = notes
    blanks = _blank_cells(table)
    if blanks:  # a formula without a saved result reads as None: look at the formulas
        table.cell_problems = _formula_cells(path, settings, rows.title, blanks)
    return table


def _blank_cells(table: RawTable) -> dict[tuple[int, int], str]:
    """{(line, column index): column name} of the empty cells coach reads."""
    wanted = {i: c for i, c in enumerate(table.columns) if c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
    return {
        (line, i): column
        for line, record in table.records
        for i, column in wanted.items()
        if record.get(column) is None
    }


def _formula_cells(
    path: Path, settings: Settings, sheet: str, blanks: dict[tuple[int, int], str]
) -> dict[int, dict[str, str]]:
    """Which of ``blanks`` hold a formula whose result the file does not store (a file
    written by a script, not saved by Excel), and what to do about it."""
    from openpyxl.utils import get_column_letter

    rows = read_sheet(path, settings, sheet=sheet, data_only=False).rows
    problems: dict[int, dict[str, str]] = defaultdict(dict)
    for line, values in rows:
        for i, value in enumerate(values):
            column = blanks.get((line, i))
            formula = str(getattr(value, "text", value) or "")
            if column is None or not formula.startswith("="):
                continue
            problems[line][column] = (
                f"the {column} cell {get_column_letter(i + 1)}{line} holds a formula "
                f"({formula[:_FORMULA_SHOWN_CHARS]}) and the file has no saved result for it; "
                "open the workbook in Excel or LibreOffice and save it, or paste the cells "
                "as values"
            )
    return dict(problems)


def cell_text(value: Any) -> str:
    """A cell as text: 12.0 from Excel is the id "12", not "12.0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()


def _to_row(
    index: int,
    line: int,
    record: dict[str, Any],
    settings: Settings,
    cell_problems: dict[str, str],
) -> BatchRow:
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
        audio=(cell_text(record.get(SPOKEN_ANSWER)) or None) if not answer else None,
    )
    problems = [why for column, why in cell_problems.items() if column not in REQUIRED_COLUMNS]
    if not question:
        problems.append(cell_problems.get("question", "empty question"))
    if not answer and not row.audio:
        problems.append(cell_problems.get("answer", "empty answer"))
    if len(question) > settings.batch.max_question_chars:
        problems.append(
            f"question is {len(question)} characters, over the limit of "
            f"{settings.batch.max_question_chars} (COACH_BATCH_MAX_QUESTION_CHARS)"
        )
    if len(answer) > settings.batch.max_answer_chars:
        problems.append(
            f"answer is {len(answer)} characters, over the limit of "
            f"{settings.batch.max_answer_chars} (COACH_BATCH_MAX_ANSWER_CHARS)"
        )
    problems += _reference_problems(row.reference or "", settings)
    if problems:
        row.error = "; ".join(problems)
    return row


def _reference_problems(reference: str, settings: Settings) -> list[str]:
    """A reference cell's size is its row's grading time (every reference is encoded and
    matched token by token), so a cell past the bounds is that row's error."""
    if not reference:
        return []
    from coach.grading.reference import split_references

    limits = settings.batch
    problems = []
    if len(reference) > limits.max_reference_chars:
        problems.append(
            f"reference is {len(reference)} characters, over the limit of "
            f"{limits.max_reference_chars} (COACH_BATCH_MAX_REFERENCE_CHARS); keep the "
            "reference answers that matter"
        )
    count = len(split_references(reference[: limits.max_reference_chars * 2]))
    if count > limits.max_references:
        problems.append(
            f"reference holds {count} reference answers (parts between --- lines), over the "
            f"limit of {limits.max_references} (COACH_BATCH_MAX_REFERENCES); keep the best "
            "few, or check that the --- lines are meant as separators"
        )
    return problems


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
