"""Progress bars: a redrawn bar on a terminal, a few whole lines in a log (coach/progress)."""

from __future__ import annotations

import io

import pytest
from tqdm import std as tqdm_std
from tqdm import tqdm

from coach.config import get_settings
from coach.progress import LineProgress, progress_bar

BATCH_ROWS = 585
"""The batch of the issue: about 300 carriage-return updates in its log."""
ROWS_PER_SECOND = 3.0
"""The speed of a --no-llm batch on two cores (README)."""


class Clock:
    """tqdm's clock, moved by the test: a minute-long run takes no time."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(tqdm_std, "time", fake)  # tqdm reads it when a bar is made
    return fake


def run_batch(bar: tqdm, clock: Clock) -> None:
    with bar:
        for _ in range(BATCH_ROWS):
            clock.now += 1 / ROWS_PER_SECOND
            bar.update(1)


def test_a_585_row_bar_in_a_log_writes_a_few_whole_lines(clock: Clock) -> None:
    log = io.StringIO()
    bar = progress_bar(total=BATCH_ROWS, desc="grading", unit="answer", file=log)
    assert isinstance(bar, LineProgress)
    run_batch(bar, clock)
    text = log.getvalue()
    lines = text.splitlines()
    assert "\r" not in text
    assert len(lines) <= get_settings().progress.lines + 2
    assert lines[0].startswith("grading:   0%")
    assert f"{BATCH_ROWS}/{BATCH_ROWS}" in lines[-1] and text.endswith("\n")


def test_an_iterated_bar_in_a_log_writes_its_last_line_once(clock: Clock) -> None:
    log = io.StringIO()
    for _ in progress_bar(range(BATCH_ROWS), desc="parse", file=log):
        clock.now += 1 / ROWS_PER_SECOND
    lines = log.getvalue().splitlines()
    assert len(lines) == get_settings().progress.lines + 1  # 0%, 10%, ..., 100%
    assert sum(f"{BATCH_ROWS}/{BATCH_ROWS}" in line for line in lines) == 1


def test_a_terminal_still_gets_a_bar_redrawn_in_place(clock: Clock) -> None:
    terminal = FakeTerminal()
    bar = progress_bar(total=BATCH_ROWS, desc="grading", file=terminal)
    assert not isinstance(bar, LineProgress)
    run_batch(bar, clock)
    assert terminal.getvalue().count("\r") > get_settings().progress.lines


def test_a_bar_without_total_writes_one_line_per_interval(clock: Clock) -> None:
    log = io.StringIO()
    interval = get_settings().progress.line_interval_s
    periods = 4
    with progress_bar(desc="waiting", file=log) as bar:
        for _ in range(periods * 10):
            clock.now += interval / 10
            bar.update(1)
    lines = log.getvalue().splitlines()
    assert len(lines) == periods + 1  # the first, then one per interval
    assert "\r" not in log.getvalue()


def test_tqdm_write_between_lines_clears_nothing(clock: Clock) -> None:
    log = io.StringIO()
    with progress_bar(total=10, desc="grading", file=log) as bar:
        tqdm.write("a note", file=log)
        bar.update(10)
    text = log.getvalue()
    assert "\r" not in text and "a note\n" in text
    assert len(text.splitlines()) == 3


@pytest.mark.parametrize(
    ("mode", "stream", "expect"),
    [
        ("off", FakeTerminal, ""),
        ("bar", io.StringIO, "\r"),
        ("lines", FakeTerminal, "\n"),
    ],
)
def test_coach_progress_overrides_the_choice(
    monkeypatch: pytest.MonkeyPatch, clock: Clock, mode: str, stream: type, expect: str
) -> None:
    monkeypatch.setenv("COACH_PROGRESS", mode)
    get_settings.cache_clear()
    out = stream()
    run_batch(progress_bar(total=BATCH_ROWS, file=out), clock)
    text = out.getvalue()
    assert (expect in text) if expect else text == ""
    assert "\r" not in text or mode == "bar"
