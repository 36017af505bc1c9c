"""Progress bars that suit where they are written.

On a terminal tqdm redraws one line in place with carriage returns. In a log file or a
CI log every redraw stays: a 585-row batch left about 300 ``\\r`` updates there. So
every bar in the package comes from :func:`progress_bar`, which gives a plain tqdm bar
on a terminal and a :class:`LineProgress` elsewhere: a handful of whole lines (the
start, then one per tenth done, or one per half minute when the total is unknown; see
``COACH_PROGRESS_LINES`` and ``COACH_PROGRESS_LINE_INTERVAL_S``). ``COACH_PROGRESS``
(auto, bar, lines, off) overrides the choice.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from typing import IO, Any, Literal

from tqdm import tqdm

from coach.config import Settings, get_settings

ProgressMode = Literal["auto", "bar", "lines", "off"]


def is_terminal(stream: IO[str] | None) -> bool:
    """Whether ``stream`` is a TTY; streams without ``isatty`` (or closed ones) are not."""
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class LineProgress(tqdm):
    """A tqdm bar that writes whole lines (``\\n``, never ``\\r``) and only a few.

    With a known total it writes its first line, then one each time another ``1/lines``
    of the total is done: ``lines + 1`` lines however long the run (one more if it stops
    short of its total). Without a total it writes at most one line per ``interval_s``
    seconds. Closing writes the final state unless that line is already out. Nothing is
    ever cleared or redrawn, so ``tqdm.write`` between lines just adds its line.
    """

    def __init__(self, *args: Any, lines: int, interval_s: float, **kwargs: Any) -> None:
        # set before tqdm's __init__, which displays the first state
        self._lines = lines
        self._interval_s = interval_s
        self._line_n: float | None = None
        self._line_t = 0.0
        self._line_text = ""
        super().__init__(*args, **kwargs)

    def _step(self, n: float) -> int:
        """Which 1/lines of the total ``n`` is in (the total is known)."""
        return math.floor(n * self._lines / self.total)

    def _due(self) -> bool:
        if self._line_n is None:
            return True
        if self.total:
            return self._step(self.n) > self._step(self._line_n)
        return self._time() - self._line_t >= self._interval_s

    def _final_due(self) -> bool:
        """At close: the final state unless its line is already out (without a total:
        unless the line would read the same); a bar never shown shows up only if it
        outlived its ``delay``."""
        if self._line_n is None:
            return self._time() >= self.start_t + self.delay
        if self.total:
            return self.n != self._line_n
        return self.__str__() != self._line_text

    def _write_line(self) -> None:
        self._line_text = self.__str__()
        self.fp.write(self._line_text + "\n")
        self.fp.flush()
        self._line_n = self.n
        self._line_t = self._time()

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        """tqdm calls this on every refresh; a line goes out only when one is due.
        ``msg`` is tqdm asking to blank the bar (``""``), which a log never needs."""
        if msg is None and self._due():
            self._write_line()
        return True

    def clear(self, nolock: bool = False) -> None:
        """Nothing to clear: earlier lines stay, as they should in a log."""

    def reset(self, total: float | None = None) -> None:
        self._line_n = None
        super().reset(total)

    def close(self) -> None:
        """The final line, then what tqdm's own close does apart from drawing (that would
        end in a ``\\r`` or a blank line), as tqdm's GUI bars do: unregister the bar."""
        if getattr(self, "disable", True):  # also when tqdm's __init__ failed
            return
        with self._lock:
            if self._final_due():
                self._write_line()
        self.disable = True
        self._decr_instances(self)


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    settings: Settings | None = None,
    **kwargs: Any,
) -> tqdm:
    """A tqdm bar for ``iterable`` (or a manual one, with ``total=``), drawn the way
    ``settings.progress.style`` says; ``kwargs`` are tqdm's (desc, unit, total, disable, …).
    ``auto`` decides by the stream the bar writes to (``file=``, default stderr)."""
    settings = settings or get_settings()
    stream = kwargs["file"] = kwargs.get("file") or sys.stderr
    mode: ProgressMode = settings.progress.style
    if mode == "auto":
        mode = "bar" if is_terminal(stream) else "lines"
    if mode == "off":
        kwargs["disable"] = True
    if mode == "lines":
        return LineProgress(
            iterable,
            lines=settings.progress.lines,
            interval_s=settings.progress.line_interval_s,
            **kwargs,
        )
    return tqdm(iterable, **kwargs)
