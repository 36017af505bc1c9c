"""Matplotlib figures for the session report and the history tab."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import timedelta

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot-free Figure use

from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from coach.common.plotting import cjk_font  # noqa: E402
from coach.config import get_settings  # noqa: E402
from coach.corpus.topics import DEFAULT_TOPIC, topic_names  # noqa: E402
from coach.interview.models import Language  # noqa: E402
from coach.interview.phrases import phrase  # noqa: E402
from coach.store.history import ProgressPoint  # noqa: E402

SIGNALS = ("evidence", "depth", "llm")
"""The signals a score is made of (Grade.breakdown), one bar each."""
NO_TOPIC = "-"
"""Legend entry of answers stored without a topic."""
DATE_PAD = timedelta(days=1)
"""Room left of the first and right of the last session. Without it matplotlib widens
the zero-width range of a single session to years (the axis ran 2025-2029)."""
DATE_MIN_TICKS = 2
"""A single session padded a day either side spans two days: two day ticks. With
matplotlib's default minimum of three it would tick every few hours instead."""
DATE_FORMATS = ["%Y", "%Y-%m", "%m-%d", "%H:%M", "%H:%M", "%S.%f"]
DATE_ZERO_FORMATS = ["", "%Y", "%m-%d", "%m-%d", "%H:%M", "%H:%M"]
DATE_OFFSET_FORMATS = ["", "", "%Y", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"]
"""ConciseDateFormatter's formats per tick level (years ... seconds), numeric so that
they read the same in both UI languages and need no CJK font (its default names months
in English, "Jan")."""


def _font_kwargs() -> dict[str, object]:
    font = cjk_font()
    return {"fontfamily": font} if font else {}


def _label(name: str, i: int) -> str:
    """Topic names are Chinese; without a CJK font, matplotlib would draw boxes."""
    return name if cjk_font() or name.isascii() else f"T{i + 1}"


def _words(lang: Language) -> Language:
    """The language of a figure's own words: Chinese needs a CJK font, which a server may
    lack; English then, rather than a row of boxes."""
    return lang if lang == "en" or cjk_font() else "en"


def topic_order(topics: Iterable[str]) -> list[str]:
    """The catalog's topics in its order (coach/corpus/topics.toml), then the default
    topic, then any others sorted (a topic of an older catalog, none). The position is
    each topic's colour and, without a CJK font, its code T1, T2...: both stay the same
    from one refresh of the history tab to the next, whatever topics it shows."""
    known = [*topic_names(), DEFAULT_TOPIC]
    return known + sorted(set(topics) - set(known))


def signal_figure(
    rows: Sequence[tuple[str, dict[str, float | None]]], lang: Language | None = None
) -> Figure:
    """Grouped bars: the signals of each graded main question (Q1, Q2, ...), labelled in
    ``lang`` (default: the UI's language)."""
    words = _words(lang or get_settings().ui.language)
    font = _font_kwargs()
    fig = Figure(figsize=(max(4.0, 1.2 * len(rows) + 2), 3.2))
    ax = fig.subplots()
    width = 0.8 / len(SIGNALS)
    for j, name in enumerate(SIGNALS):
        xs = [i + j * width for i in range(len(rows))]
        values = [scores.get(name) or 0.0 for _, scores in rows]
        ax.bar(xs, values, width, label=phrase(words, f"report_col_{name}"))
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(rows))], [label for label, _ in rows])
    ax.set_ylim(0, 10)
    ax.set_ylabel(phrase(words, "chart_progress_y"), **font)
    legend = ax.legend(fontsize="small", ncols=3, loc="upper center", bbox_to_anchor=(0.5, 1.18))
    for text in legend.get_texts():
        text.set(**font)
    fig.tight_layout()
    return fig


def progress_figure(points: Sequence[ProgressPoint], lang: Language | None = None) -> Figure:
    """Mean main-question score per topic, session after session, labelled in ``lang``
    (default: the UI's language setting)."""
    words = _words(lang or get_settings().ui.language)
    font = _font_kwargs()
    fig = Figure(figsize=(6.5, 3.4))
    ax = fig.subplots()
    by_topic: dict[str, list[ProgressPoint]] = defaultdict(list)
    for point in points:
        by_topic[point.topic or NO_TOPIC].append(point)
    order = topic_order(by_topic)
    for i, topic in enumerate(order):
        if series := by_topic.get(topic):
            ax.plot(
                [p.started_at for p in series],
                [p.mean_score for p in series],
                marker="o",
                color=f"C{i}",
                label=_label(topic, i),
            )
    ax.set_ylim(0, 10)
    ax.set_ylabel(phrase(words, "chart_progress_y"), **font)
    if points:
        dates = [p.started_at for p in points]
        ax.set_xlim(min(dates) - DATE_PAD, max(dates) + DATE_PAD)
        locator = AutoDateLocator(minticks=DATE_MIN_TICKS)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(
            ConciseDateFormatter(
                locator,
                formats=DATE_FORMATS,
                zero_formats=DATE_ZERO_FORMATS,
                offset_formats=DATE_OFFSET_FORMATS,
            )
        )
        ax.set_xlabel(phrase(words, "chart_progress_x"), **font)
        legend_font = {"size": "small", **({"family": cjk_font()} if cjk_font() else {})}
        legend = ax.legend(prop=legend_font, title=phrase(words, "chart_progress_topic"))
        legend.get_title().set(fontsize="small", **font)
    else:
        ax.set_xticks([])
        ax.text(
            0.5,
            0.5,
            phrase(words, "chart_progress_empty"),
            ha="center",
            va="center",
            transform=ax.transAxes,
            **font,
        )
    fig.tight_layout()
    return fig
