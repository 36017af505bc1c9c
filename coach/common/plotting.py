"""What every matplotlib figure of coach needs: a font that draws Chinese, and the
figure as a base64 PNG for a self-contained HTML page.

Why shared: the batch report and the interview's charts (session report, history tab)
label topics in Chinese; without a CJK font they fall back to codes T1, T2... and
English words, and both must decide that the same way.
"""

from __future__ import annotations

import base64
import contextlib
import io
from functools import lru_cache

from matplotlib import font_manager
from matplotlib.figure import Figure

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)
"""Fonts that draw Chinese topic names in plots; without one, plots label topics T1, T2...
and the table beside the plot names them (the browser renders the HTML text)."""
PNG_DPI = 100


def _listed_cjk_font() -> str | None:
    available = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in available), None)


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first of CJK_FONTS that matplotlib can use, or None.

    Matplotlib scans the system's fonts once and caches the list on disk
    (``~/.cache/matplotlib``), so a font installed later (``make install`` adds Debian's
    fonts-noto-cjk) is not in it. When no CJK font is listed, the font files the list
    lacks are added for this process before giving up; once per process (cached)."""
    found = _listed_cjk_font()
    if found is None:
        known = {f.fname for f in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known:
                with contextlib.suppress(Exception):  # an unreadable file: skip it
                    font_manager.fontManager.addfont(path)
        found = _listed_cjk_font()
    return found


def png_base64(fig: Figure) -> str:
    """The figure as a PNG in base64, to embed as ``data:image/png;base64,...`` (a report
    that is one file can be mailed or opened offline)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PNG_DPI, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
