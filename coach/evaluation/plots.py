"""The report's plots, one function per figure, each returning a matplotlib ``Figure``.

Labels stay ASCII: the default fonts have no CJK glyphs, and a plot full of empty boxes
is worse than none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from coach.evaluation.agreement import Agreement
from coach.evaluation.metrics import recall_at_k
from coach.evaluation.retrieval import RetrievalScores

JITTER = 0.15
"""Human scores are whole numbers 0-10: a little horizontal jitter shows the density."""


def retrieval_bars(results: Sequence[RetrievalScores]) -> Figure:
    """Recall@1, recall@5 and MRR side by side for each retriever."""
    figure = Figure(figsize=(6.5, 3.6))
    ax = figure.subplots()
    metrics = [("recall@1", "recall_at_1"), ("recall@5", "recall_at_5"), ("MRR", "mrr")]
    x = np.arange(len(results))
    width = 0.8 / len(metrics)
    for i, (label, field) in enumerate(metrics):
        values = [getattr(r, field) for r in results]
        bars = ax.bar(x + (i - 1) * width, values, width, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(x, [r.mode for r in results])
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("share / score")
    ax.set_title(f"Retrieval on {results[0].cases if results else 0} paraphrased queries")
    ax.legend(loc="lower right", fontsize=8)
    return figure


def retrieval_by_style(results: Sequence[RetrievalScores], k: int = 5) -> Figure:
    """Recall@k per phrasing style (colloquial, English, ...) for each retriever."""
    figure = Figure(figsize=(7, 3.6))
    ax = figure.subplots()
    styles = sorted({s for r in results for s in r.styles if s}) or [""]
    x = np.arange(len(styles))
    width = 0.8 / max(1, len(results))
    for i, r in enumerate(results):
        by_style: dict[str, list[int | None]] = defaultdict(list)
        for style, rank in zip(r.styles, r.ranks, strict=False):
            by_style[style].append(rank)
        values = [recall_at_k(by_style.get(s, []), k) for s in styles]
        ax.bar(x + (i - (len(results) - 1) / 2) * width, values, width, label=r.mode)
    counts = {s: sum(1 for t in results[0].styles if t == s) for s in styles} if results else {}
    ax.set_xticks(x, [f"{s or 'all'}\n(n={counts.get(s, 0)})" for s in styles], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(f"recall@{k}")
    ax.set_title(f"Recall@{k} by query style")
    ax.legend(fontsize=8)
    return figure


def agreement_scatter(results: Sequence[Agreement], title: str) -> Figure:
    """Coach's score against the human score, one panel per grader configuration, with a
    box per human score level (what a grader should show: boxes climbing left to right)."""
    shown = [r for r in results if r.pairs]
    figure = Figure(figsize=(5.2 * max(1, len(shown)), 4.4))
    axes = figure.subplots(1, max(1, len(shown)), squeeze=False)[0]
    rng = np.random.default_rng(0)
    for ax, result in zip(axes, shown, strict=False):
        human = np.array([h for h, _ in result.pairs])
        coach = np.array([c for _, c in result.pairs])
        levels = sorted(set(human.tolist()))
        ax.boxplot(
            [coach[human == level] for level in levels],
            positions=levels,
            widths=0.6,
            showfliers=False,
            manage_ticks=False,
        )
        ax.scatter(
            human + rng.uniform(-JITTER, JITTER, len(human)), coach, s=6, alpha=0.35, color="C0"
        )
        ax.plot([0, 10], [0, 10], linestyle="--", linewidth=0.8, color="grey")
        r = f"{result.pearson:.3f}" if result.pearson is not None else "n/a"
        ax.set_title(f"{result.label}\nn={result.answers}, Pearson {r}", fontsize=9)
        ax.set_xlabel("human score (0-10)")
        ax.set_ylabel("coach score (0-10)")
        ax.set_xlim(-0.7, 10.7)
        ax.set_ylim(-0.3, 10.3)
    figure.suptitle(title, fontsize=10, y=1.03)
    return figure


def expected_vs_coach(
    kinds: Sequence[str], expected: Sequence[float], coach: Sequence[float], title: str
) -> Figure:
    """Coach's score against the expected score, coloured by answer kind."""
    figure = Figure(figsize=(6.5, 4.6))
    ax = figure.subplots()
    for i, kind in enumerate(sorted(set(kinds))):
        xs = [e for k, e in zip(kinds, expected, strict=True) if k == kind]
        ys = [c for k, c in zip(kinds, coach, strict=True) if k == kind]
        ax.scatter(xs, ys, s=18, alpha=0.7, label=kind, color=f"C{i % 10}")
    ax.plot([0, 10], [0, 10], linestyle="--", linewidth=0.8, color="grey")
    ax.set_xlabel("expected score (0-10)")
    ax.set_ylabel("coach score (0-10)")
    ax.set_xlim(-0.3, 10.3)
    ax.set_ylim(-0.3, 10.3)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return figure
