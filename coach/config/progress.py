"""Progress output of long steps."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from coach.config.section import Section


class ProgressSettings(Section):
    """Progress output of long steps (coach/progress.py)."""

    env_prefix: ClassVar[str] = "COACH_PROGRESS_"
    env_names: ClassVar[dict[str, str]] = {
        "style": "COACH_PROGRESS",
    }

    style: Literal["auto", "bar", "lines", "off"] = "auto"
    """Progress of long steps: ``bar`` redraws a tqdm bar in place, ``lines`` writes a
    few whole lines (for log files and CI, where every redraw would stay), ``off`` shows
    nothing; ``auto`` draws a bar on a terminal and writes lines elsewhere."""
    lines: int = Field(default=10, ge=1)
    """Lines a ``lines`` progress report writes per bar with a known total after its
    first one: one each time another 1/N of the total is done (the last at 100%)."""
    line_interval_s: float = Field(default=30.0, gt=0)
    """Seconds between two ``lines`` reports of a bar whose total is unknown."""
