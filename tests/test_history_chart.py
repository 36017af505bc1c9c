"""The history tab's plot: topic names, a date axis for one session, the UI's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from matplotlib import font_manager
from matplotlib.dates import num2date
from matplotlib.figure import Figure

from coach.common import plotting
from coach.config import get_settings
from coach.corpus.topics import topic_names
from coach.interview import charts
from coach.store.history import ProgressPoint

# A font that exists everywhere stands in for a CJK one: the tests read the figure's
# text, not its pixels (its missing glyphs only warn).
STAND_IN_FONT = "DejaVu Sans"
pytestmark = pytest.mark.filterwarnings("ignore:Glyph.*missing from font")

WHEN = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def point(topic: str, score: float, when: datetime = WHEN) -> ProgressPoint:
    return ProgressPoint(
        session_id=f"s-{when:%j%H}", started_at=when, topic=topic, mean_score=score, answers=1
    )


@pytest.fixture
def with_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "cjk_font", lambda: STAND_IN_FONT)


@pytest.fixture
def without_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "cjk_font", lambda: None)


def drawn(fig: Figure) -> Figure:
    fig.draw_without_rendering()  # runs the tick locator and formatter
    return fig


def xtick_labels(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_xticklabels()]


def legend_labels(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


@pytest.mark.usefixtures("with_cjk_font")
def test_a_single_session_spans_a_day_either_side_with_day_ticks() -> None:
    fig = drawn(charts.progress_figure([point("评估", 6.0)], "en"))
    left, right = (num2date(x) for x in fig.axes[0].get_xlim())
    assert (left, right) == (WHEN - timedelta(days=1), WHEN + timedelta(days=1))
    assert xtick_labels(fig) == ["12-03", "12-04"]  # days, not the years 2025-2029
    assert fig.axes[0].xaxis.get_major_formatter().get_offset() == "2026"


@pytest.mark.usefixtures("with_cjk_font")
def test_sessions_weeks_apart_get_dated_ticks_within_their_range() -> None:
    points = [point("评估", 4.0), point("评估", 7.0, WHEN + timedelta(days=20))]
    fig = drawn(charts.progress_figure(points, "en"))
    labels = xtick_labels(fig)
    assert labels and all(len(label) == len("12-03") for label in labels)
    left, right = (num2date(x) for x in fig.axes[0].get_xlim())
    assert right - left == timedelta(days=22)


@pytest.mark.usefixtures("with_cjk_font")
def test_chinese_ui_labels_the_axes_in_chinese_and_names_topics() -> None:
    fig = charts.progress_figure([point("评估", 6.0), point("训练优化", 5.0)], "zh")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("面试日期", "平均分")
    assert ax.get_legend().get_title().get_text() == "方向"
    order = topic_names()
    assert legend_labels(fig) == sorted(["评估", "训练优化"], key=order.index)
    assert ax.xaxis.get_label().get_fontfamily() == [STAND_IN_FONT]


@pytest.mark.usefixtures("with_cjk_font")
def test_english_ui_labels_the_axes_in_english() -> None:
    fig = charts.progress_figure([point("评估", 6.0)], "en")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("session date", "mean score")
    assert ax.get_legend().get_title().get_text() == "topic"
    assert legend_labels(fig) == ["评估"]  # the UI shows topics by their Chinese names


@pytest.mark.usefixtures("with_cjk_font")
def test_the_language_defaults_to_the_ui_language_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COACH_UI_LANGUAGE", "en")
    get_settings.cache_clear()
    assert charts.progress_figure([point("评估", 6.0)]).axes[0].get_ylabel() == "mean score"


@pytest.mark.usefixtures("without_cjk_font")
def test_without_a_cjk_font_words_are_english_and_topics_catalog_codes() -> None:
    fig = charts.progress_figure([point("评估", 6.0), point("", 3.0)], "zh")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("session date", "mean score")
    code = f"T{topic_names().index('评估') + 1}"  # the same code whatever else is shown
    assert legend_labels(fig) == [code, charts.NO_TOPIC]


@pytest.mark.usefixtures("with_cjk_font")
def test_no_sessions_yet_says_so_in_the_ui_language() -> None:
    fig = charts.progress_figure([], "zh")
    assert [t.get_text() for t in fig.axes[0].texts] == ["还没有评过分的回答"]
    assert fig.axes[0].get_xticks().size == 0


def test_cjk_font_finds_a_font_installed_after_matplotlib_cached_its_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """make install adds fonts-noto-cjk after matplotlib may have cached the font list."""
    manager = font_manager.fontManager
    listed = [f for f in manager.ttflist if f.name not in plotting.CJK_FONTS]
    monkeypatch.setattr(manager, "ttflist", listed)
    # a path no real font has: an earlier test may have added the installed Noto files
    new_file = "/nonexistent/fonts/noto/NotoSansCJK-Regular-installed-later.ttc"
    monkeypatch.setattr(
        font_manager, "findSystemFonts", lambda: [f.fname for f in listed] + [new_file]
    )
    added: list[str] = []

    def addfont(path: str) -> None:
        added.append(path)
        manager.ttflist.append(font_manager.FontEntry(fname=path, name="Noto Sans CJK SC"))

    monkeypatch.setattr(manager, "addfont", addfont)
    plotting.cjk_font.cache_clear()
    try:
        assert plotting.cjk_font() == "Noto Sans CJK SC"
        assert added == [new_file]  # the files matplotlib knew are not read again
    finally:
        plotting.cjk_font.cache_clear()
