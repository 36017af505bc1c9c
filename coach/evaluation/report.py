"""Write an evaluation report: one folder with ``report.md`` and its PNG plots.

Why Markdown + PNG: it reads on GitHub, in an editor and in a merge request, and a
reviewer can diff two runs' ``report.md``. Plots are drawn with matplotlib's
object-oriented API (``Figure``, no pyplot), so no GUI backend or global state is
involved and it works headless and in threads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from matplotlib.figure import Figure

from coach.common.text import markdown_cell
from coach.config import Settings

REPORT_FILE = "report.md"


def fmt(value: float | int | None, digits: int = 3) -> str:
    """A number for a table; missing values show as a dash, not as 'None' or 'nan'."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


class Report:
    """Collects Markdown blocks and figures, then writes them under ``directory``."""

    def __init__(self, title: str, directory: Path, *, dpi: int = 110) -> None:
        self.title = title
        self.directory = directory
        self.dpi = dpi
        self.blocks: list[str] = []
        self.images: list[Path] = []

    @classmethod
    def new(cls, settings: Settings, kind: str, title: str, now: datetime | None = None) -> Report:
        """A fresh folder ``<reports_dir>/<kind>-<YYYYmmdd-HHMMSS>`` (never overwrites a run)."""
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        base = settings.paths.eval_reports_dir / f"{kind}-{stamp}"
        directory, n = base, 1
        while directory.exists():
            n += 1
            directory = base.with_name(f"{base.name}-{n}")
        directory.mkdir(parents=True)
        return cls(title, directory, dpi=settings.evaluation.plot_dpi)

    def heading(self, text: str, level: int = 2) -> None:
        self.blocks.append(f"{'#' * level} {text}")

    def text(self, text: str) -> None:
        self.blocks.append(text.strip())

    def bullets(self, items: Sequence[str]) -> None:
        if items:
            self.blocks.append("\n".join(f"- {markdown_cell(i)}" for i in items))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        lines = [
            "| " + " | ".join(markdown_cell(h) for h in headers) + " |",
            "|" + "|".join("---" for _ in headers) + "|",
        ]
        lines += ["| " + " | ".join(markdown_cell(c) for c in row) + " |" for row in rows]
        self.blocks.append("\n".join(lines))

    def figure(self, name: str, figure: Figure, caption: str) -> Path:
        """Save ``figure`` as ``<name>.png`` beside the report and link it."""
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "figure"
        path = self.directory / f"{slug}.png"
        figure.savefig(path, dpi=self.dpi, bbox_inches="tight")
        self.images.append(path)
        self.blocks.append(f"![{markdown_cell(caption)}]({path.name})")
        return path

    def markdown(self) -> str:
        return f"# {self.title}\n\n" + "\n\n".join(self.blocks) + "\n"

    def write(self) -> Path:
        path = self.directory / REPORT_FILE
        path.write_text(self.markdown(), "utf-8")
        return path


def text_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], left: Sequence[int] = (0,)
) -> str:
    """The same table for a terminal: columns padded to their widest cell; the columns in
    ``left`` (text) align left, the rest (figures) right."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in cells
    ]
    return "\n".join(lines)
