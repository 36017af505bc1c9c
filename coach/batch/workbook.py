"""Read one worksheet of an .xlsx workbook as numbered rows, within bounds.

Why streamed and capped: openpyxl's read-only mode parses the sheet as it goes, but it
pads every row to the width the sheet declares, so one stray cell at column XFD made
each of 20,000 rows 16,384 cells wide (over 4 GB). Rows are read ``max_columns`` wide
and at most ``max_rows`` deep; what lies beyond is said, not silently graded or dropped.

Which sheet: the one named with ``--sheet``, else the sheet that was active when the
workbook was saved (what a person sees on opening it), and the report says which when
there are several. Merged cells: openpyxl's read-only sheets do not expose merges, so
their ranges are read from the sheet's XML (a second streamed pass); a range over
several rows is read as its top-left value on each row, a range over two columns coach
reads is refused with its range (which column the text belongs to is a guess).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coach.batch.models import BatchInputError
from coach.config import Settings

_MERGE_TAG = "mergeCell"
_CELL_TAG = "c"


@dataclass
class SheetRows:
    """A worksheet's rows as the sheet numbers them, and what the reader should say."""

    title: str
    rows: list[tuple[int, list[Any]]]
    notes: list[str] = field(default_factory=list)
    merged: list[tuple[str, tuple[int, int, int, int]]] = field(default_factory=list)
    """(range as written, (min_col, min_row, max_col, max_row)) of every merged range."""


@contextmanager
def _open(path: Path, *, data_only: bool) -> Iterator[Any]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=data_only)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise BatchInputError(
            f"{path} is not an Excel .xlsx workbook ({type(exc).__name__}: {exc})."
        ) from exc
    try:
        yield workbook
    finally:
        workbook.close()


def _choose(workbook: Any, path: Path, sheet: str | None) -> tuple[Any, list[str]]:
    """The worksheet to read and the notes that say which one it is."""
    names = list(workbook.sheetnames)
    if sheet is not None:
        if sheet not in names:
            raise BatchInputError(
                f"{path} has no sheet named {sheet!r}; its sheets are {names}. Give one of "
                "them with --sheet."
            )
        chosen, how = workbook[sheet], "chosen with --sheet"
    else:
        chosen, how = workbook.active, "the active sheet when it was saved"
    if chosen is None or not hasattr(chosen, "iter_rows"):
        title = getattr(chosen, "title", "?")
        raise BatchInputError(
            f"{path}: the sheet {title!r} is a chart, not a table; choose a worksheet with "
            f"--sheet (sheets: {names})."
        )
    notes = []
    if len(names) > 1:
        notes.append(
            f"{path.name} has {len(names)} sheets ({', '.join(names)}); graded {chosen.title!r}, "
            f"{how}. Another one: --sheet NAME."
        )
    return chosen, notes


def read_sheet(
    path: Path, settings: Settings, *, sheet: str | None = None, data_only: bool = True
) -> SheetRows:
    """The chosen sheet's rows (cached formula results with ``data_only``, else the
    formulas), at most ``max_rows`` deep and ``max_columns`` wide, with merged ranges."""
    from openpyxl.utils import get_column_letter

    max_rows, max_columns = settings.batch.max_rows, settings.batch.max_columns
    with _open(path, data_only=data_only) as workbook:
        worksheet, notes = _choose(workbook, path, sheet)
        where = f" (sheet {worksheet.title!r})"
        rows: list[tuple[int, list[Any]]] = []
        for number, values in enumerate(
            worksheet.iter_rows(max_col=max_columns, values_only=True), start=1
        ):
            blank = all(v is None or str(v).strip() == "" for v in values)
            if number > max_rows and not blank:
                raise BatchInputError(
                    f"{path}{where} has rows past row {max_rows} (COACH_BATCH_MAX_ROWS); "
                    "split it into files of fewer rows, or raise the limit. Nothing was "
                    "graded."
                )
            if not blank:
                rows.append((number, list(values)))
        merged, widest = _scan_xml(worksheet, max_columns)
        if widest:
            notes.append(
                f"{path.name}{where} has cells up to column {widest}; only columns "
                f"A-{get_column_letter(max_columns)} were read (COACH_BATCH_MAX_COLUMNS)."
            )
        return SheetRows(title=worksheet.title, rows=rows, notes=notes, merged=merged)


def _scan_xml(
    worksheet: Any, max_columns: int
) -> tuple[list[tuple[str, tuple[int, int, int, int]]], str | int]:
    """Every ``<mergeCell ref=…>`` of the sheet, and the column letters of its widest
    cell when that lies past ``max_columns`` (else 0): streamed, elements cleared as they
    end, so memory stays flat whatever the sheet's size. Not from the sheet's declared
    dimension, which files written by scripts often leave out."""
    from openpyxl.utils.cell import column_index_from_string, range_boundaries
    from openpyxl.xml.functions import iterparse

    found: list[tuple[str, tuple[int, int, int, int]]] = []
    widest: tuple[int, str] = (0, "")
    # openpyxl's read-only sheets keep the XML source private; this is how they read it.
    with worksheet._get_source() as source:
        for _event, element in iterparse(source):
            name = element.tag.rsplit("}", 1)[-1]
            if name == _CELL_TAG:
                letters = (element.get("r") or "").rstrip("0123456789")
                if len(letters) >= len(widest[1]) and letters:
                    index = column_index_from_string(letters)
                    if index > max(widest[0], max_columns):
                        widest = (index, letters)
            elif name == _MERGE_TAG and element.get("ref"):
                ref = element.get("ref")
                try:
                    bounds = range_boundaries(ref)
                except ValueError:
                    continue
                if None not in bounds:
                    found.append((ref, bounds))  # type: ignore[arg-type]
            element.clear()
    return found, widest[1] or 0


def apply_merges(
    path: Path,
    sheet: SheetRows,
    header_line: int,
    columns: list[str],
    read: tuple[str, ...],
) -> list[str]:
    """Fill each merged range over several rows with its top-left value (in place);
    refuse a range over two columns coach reads. Returns the notes to show."""
    by_line = dict(sheet.rows)
    wanted = {i + 1: c for i, c in enumerate(columns) if c in read}
    filled: list[str] = []
    for ref, (min_col, min_row, max_col, max_row) in sheet.merged:
        if max_row <= header_line:
            continue
        spanned = [wanted[c] for c in range(min_col, max_col + 1) if c in wanted]
        if len(spanned) > 1:
            raise BatchInputError(
                f"{path} (sheet {sheet.title!r}): the cells {ref} are merged across the "
                f"columns {' and '.join(spanned)}, so which column the text belongs to is a "
                "guess. Unmerge them (Excel: Home > Merge & Center > Unmerge Cells) and put "
                "each text in its own column, then rerun; nothing was graded."
            )
        top = by_line.get(min_row)
        if top is None or min_row == max_row:
            continue
        for line in range(min_row + 1, max_row + 1):
            values = by_line.get(line)
            if values is None:
                continue  # blank row under the merge: nothing else in it to grade
            for column in range(min_col, min(max_col, len(values)) + 1):
                if values[column - 1] is None and column - 1 < len(top):
                    values[column - 1] = top[column - 1]
        if spanned:
            filled.append(ref)
    if not filled:
        return []
    shown = ", ".join(filled[:5]) + (f" and {len(filled) - 5} more" if len(filled) > 5 else "")
    return [
        f"{path.name} (sheet {sheet.title!r}): merged cells {shown} were read as their "
        "top-left value on every row they cover."
    ]
