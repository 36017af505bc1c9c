"""Matplotlib figures for the session report and the history tab."""

from __future__ import annotations

import base64
import io
from collections import defaultdict
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot-free Figure use

from matplotlib.figure import Figure  # noqa: E402

from coach.batch.report import cjk_font  # noqa: E402
from coach.store.history import ProgressPoint  # noqa: E402

SUB_SCORES = ("coverage", "correctness", "depth", "clarity")


def _font_kwargs() -> dict[str, object]:
    font = cjk_font()
    return {"fontfamily": font} if font else {}


def _label(name: str, i: int) -> str:
    """Topic names are Chinese; without a CJK font, matplotlib would draw boxes."""
    return name if cjk_font() or name.isascii() else f"T{i + 1}"


def subscore_figure(rows: Sequence[tuple[str, dict[str, float]]]) -> Figure:
    """Grouped bars: the four sub-scores of each graded main question (Q1, Q2, ...)."""
    fig = Figure(figsize=(max(4.0, 1.2 * len(rows) + 2), 3.2))
    ax = fig.subplots()
    width = 0.8 / len(SUB_SCORES)
    for j, name in enumerate(SUB_SCORES):
        xs = [i + j * width for i in range(len(rows))]
        ax.bar(xs, [scores.get(name, 0.0) for _, scores in rows], width, label=name)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(rows))], [label for label, _ in rows])
    ax.set_ylim(0, 10)
    ax.set_ylabel("score")
    ax.legend(fontsize="small", ncols=4, loc="upper center", bbox_to_anchor=(0.5, 1.18))
    fig.tight_layout()
    return fig


def progress_figure(points: Sequence[ProgressPoint]) -> Figure:
    """Mean main-question score per topic, session after session."""
    fig = Figure(figsize=(6.5, 3.4))
    ax = fig.subplots()
    by_topic: dict[str, list[ProgressPoint]] = defaultdict(list)
    for point in points:
        by_topic[point.topic or "-"].append(point)
    for i, (topic, series) in enumerate(sorted(by_topic.items())):
        ax.plot(
            [p.started_at for p in series],
            [p.mean_score for p in series],
            marker="o",
            label=_label(topic, i),
        )
    if not points:
        ax.text(0.5, 0.5, "no graded answers yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylim(0, 10)
    ax.set_ylabel("mean score")
    if by_topic:
        ax.legend(fontsize="small", prop={"family": cjk_font()} if cjk_font() else None)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def png_base64(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
