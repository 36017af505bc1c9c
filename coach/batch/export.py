"""Write the graded rows as CSV or JSONL, atomically.

CSV cells are neutralised against formula injection (OWASP "CSV Injection"): answers are
typed by candidates, and a cell such as ``=HYPERLINK(...)`` would run when a teacher
opens the file in a spreadsheet.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path

from coach.batch.models import OUTPUT_COLUMNS, BatchError, BatchResult

OUTPUT_FORMATS = {".csv": "csv", ".jsonl": "jsonl"}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters a spreadsheet may treat as a formula (OWASP's list)."""
LIST_SEPARATOR = "; "
CSV_ENCODING = "utf-8-sig"
"""With a BOM, so Excel opens Chinese text correctly on double-click."""


def output_format(path: Path) -> str:
    kind = OUTPUT_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise BatchError(
            f"--output {path}: the file name must end in {' or '.join(OUTPUT_FORMATS)} "
            "(the extension picks the format)."
        )
    return kind


def neutralise(cell: str) -> str:
    """Prefix a formula-like text cell with ``'`` so spreadsheets show it as text."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def csv_cells(result: BatchResult) -> list[str | float | None]:
    data = result.model_dump(include=set(OUTPUT_COLUMNS))
    cells: list[str | float | None] = []
    for column in OUTPUT_COLUMNS:
        value = data[column]
        if isinstance(value, list):
            value = LIST_SEPARATOR.join(value)
        cells.append(neutralise(value) if isinstance(value, str) else value)
    return cells


def write_results(path: Path, results: Iterable[BatchResult]) -> None:
    """Write to a temporary file beside ``path`` and rename it over ``path``: a reader
    (or a crash) never sees half an output."""
    kind = output_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Beside the target (same file system, so the rename is atomic); opened normally so
    # the file gets the user's usual permissions, unlike mkstemp's 0600.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        encoding = CSV_ENCODING if kind == "csv" else "utf-8"
        with tmp.open("w", encoding=encoding, newline="") as handle:
            if kind == "csv":
                writer = csv.writer(handle)
                writer.writerow(OUTPUT_COLUMNS)
                writer.writerows(csv_cells(r) for r in results)
            else:
                for result in results:
                    handle.write(json.dumps(result.model_dump(), ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
