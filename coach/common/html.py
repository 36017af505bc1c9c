"""The skeleton of coach's self-contained HTML pages (batch report, interview report)
and the one escape function for what goes into them.

Why one helper: both pages are opened in a browser and show text a candidate, a model or
a document wrote; an answer may contain ``<script>``. One escape function (None-safe)
and one page skeleton with one stylesheet keep the two pages looking alike and leave no
page that forgot to escape its title.
"""

from __future__ import annotations

import html

PAGE_CSS = (
    'body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;'
    "color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
    "padding:4px 8px;vertical-align:top;text-align:left}th{background:#f3f3f3}"
    ".error{color:#b00}.num{text-align:right}.plots{display:flex;flex-wrap:wrap;gap:2em}"
    ".text{max-width:30em;white-space:pre-wrap}"
)
"""Shared by every page: system fonts with a CJK fallback, ruled tables, ``num`` cells
right-aligned, ``text`` cells wrapped, ``error`` in red, ``plots`` side by side."""


def escape(value: object, *, quote: bool = True) -> str:
    """``value`` as inert text for HTML (None shows as nothing). ``quote=False`` leaves
    quotes alone, for text that never goes into an attribute."""
    return html.escape("" if value is None else str(value), quote=quote)


def page(title: str, body: str, *, lang: str, css: str = "") -> str:
    """A whole HTML document: ``title`` (escaped here) in the head, ``body`` (markup the
    caller built and escaped) as the body, PAGE_CSS plus the page's own ``css``."""
    return (
        f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{PAGE_CSS}{css}</style></head>"
        f"<body>{body}</body></html>"
    )
