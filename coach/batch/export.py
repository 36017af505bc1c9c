"""Write the graded rows as CSV, JSONL or XLSX, atomically.

CSV cells are neutralised against formula injection (OWASP "CSV Injection"): answers are
typed by candidates, and a cell such as ``=HYPERLINK(...)`` would run when a teacher
opens the file in a spreadsheet. XLSX cells are typed, so user text is stored as a text
cell (never a formula) and needs no prefix.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from coach.batch.models import OUTPUT_COLUMNS, BatchError, BatchResult
from coach.common.files import replacing

OUTPUT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".xlsx": "xlsx"}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters a spreadsheet may treat as a formula (OWASP's list)."""
LIST_SEPARATOR = "; "
CSV_ENCODING = "utf-8-sig"
"""With a BOM, so Excel opens Chinese text correctly on double-click."""
XLSX_SHEET = "graded"
XLSX_MAX_CELL_CHARS = 32_767
"""Excel's limit for one cell; longer text is cut (Excel would refuse the file)."""


def output_format(path: Path) -> str:
    kind = OUTPUT_FORMATS.get(path.suffix.lower())
    if kind is None:
        names = ", ".join(list(OUTPUT_FORMATS)[:-1]) + f" or {list(OUTPUT_FORMATS)[-1]}"
        raise BatchError(
            f"--output {path}: the file name must end in {names} (the extension picks the format)."
        )
    return kind


def neutralise(cell: str) -> str:
    """Prefix a formula-like text cell with ``'`` so spreadsheets show it as text."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def flat_cells(result: BatchResult) -> list[str | float | None]:
    """The row as OUTPUT_COLUMNS values, lists joined into one text."""
    data = result.model_dump(include=set(OUTPUT_COLUMNS))
    cells: list[str | float | None] = []
    for column in OUTPUT_COLUMNS:
        value = data[column]
        cells.append(LIST_SEPARATOR.join(value) if isinstance(value, list) else value)
    return cells


def csv_cells(result: BatchResult) -> list[str | float | None]:
    return [neutralise(c) if isinstance(c, str) else c for c in flat_cells(result)]


def write_results(path: Path, results: Iterable[BatchResult]) -> None:
    """Write to a temporary file beside ``path`` and rename it over ``path``: a reader
    (or a crash) never sees half an output. OSError (disk full, read-only folder) is
    left to the caller, which knows where the finished rows are kept."""
    kind = output_format(path)
    with replacing(path) as tmp:
        if kind == "xlsx":
            _write_xlsx(tmp, results)
        else:
            encoding = CSV_ENCODING if kind == "csv" else "utf-8"
            with tmp.open("w", encoding=encoding, newline="") as handle:
                _write_text(handle, kind, results)
                handle.flush()
                os.fsync(handle.fileno())


def _write_text(handle: IO[str], kind: str, results: Iterable[BatchResult]) -> None:
    if kind == "csv":
        writer = csv.writer(handle)
        writer.writerow(OUTPUT_COLUMNS)
        writer.writerows(csv_cells(r) for r in results)
        return
    for result in results:
        handle.write(json.dumps(result.model_dump(), ensure_ascii=False) + "\n")


def _write_xlsx(path: Path, results: Iterable[BatchResult]) -> None:
    """One sheet, header row first; write-only mode streams rows (a big batch does not
    hold every cell object in memory)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(XLSX_SHEET)
    sheet.append(list(OUTPUT_COLUMNS))
    for result in results:
        sheet.append([_xlsx_cell(sheet, value) for value in flat_cells(result)])
    workbook.save(path)
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _xlsx_cell(sheet: Any, value: str | float | None) -> Any:
    """Text as a text cell: openpyxl would store ``=...`` as a formula that runs when the
    file is opened, and refuses control characters Excel cannot hold."""
    if not isinstance(value, str):
        return value
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_MAX_CELL_CHARS])
    cell.data_type = "s"
    return cell
