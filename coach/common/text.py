"""Text helpers shared by the Markdown reports (evaluation report, interview report).

Why shared: a Markdown table cell must stay on one line and must not split at a ``|``;
both reports built their tables with their own copy of that rule.
"""

from __future__ import annotations


def markdown_cell(value: object) -> str:
    """``value`` as one Markdown table cell: pipes escaped, line breaks as spaces."""
    return str(value).replace("|", "\\|").replace("\n", " ")
