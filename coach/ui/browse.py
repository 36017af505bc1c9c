"""The question-bank and history tabs' data, as plain rows (Gradio renders them)."""

from __future__ import annotations

from typing import Any

from coach.ui.render import esc
from coach.ui.services import AppServices, NotReady
from coach.ui.strings import Lang, t


def search_rows(services: AppServices, text: str, topic: str | None) -> list[list[Any]]:
    """Hits for ``text`` (hybrid search), or every card of ``topic`` when it is empty."""
    from coach.index.retriever import Filters

    try:
        if not (text or "").strip():
            cards = [c for c in services.cards if topic is None or c.topic == topic]
            return [[i, c.topic, c.title, c.source.ref(), "", c.id] for i, c in enumerate(cards, 1)]
        hits = services.searcher().search(
            text, services.settings.ui_search_k, Filters(topic=topic, kind="card")
        )
    except NotReady as exc:
        return [[0, "", str(exc), "", "", ""]]
    return [
        [i, h.topic, h.title, h.source, round(h.score, 3), h.unit] for i, h in enumerate(hits, 1)
    ]


def card_markdown(services: AppServices, card_id: str, lang: Lang) -> str:
    card = next((c for c in services.cards if c.id == card_id), None)
    if card is None:
        return ""
    parts = [f"### {esc(card.title)}", esc(card.question)]
    if card.answer:
        parts += [t(lang, "reference"), esc(card.answer)]
    if card.analysis:
        parts.append(esc(card.analysis))
    parts.append(t(lang, "sources", sources=esc(", ".join(s.ref() for s in card.sources))))
    return "\n\n".join(parts)


def history_tables(services: AppServices, lang: Lang) -> tuple[Any, Any]:
    import pandas as pd

    store = services.store
    sessions = pd.DataFrame(
        [
            [
                s.started_at.strftime("%Y-%m-%d %H:%M"),
                s.topic or t(lang, "all_topics"),
                s.answered,
                "-" if s.mean_score is None else round(s.mean_score, 1),
            ]
            for s in store.sessions()
        ],
        columns=[t(lang, k) for k in ("col_started", "col_topic", "col_answered", "col_mean")],
    )
    try:
        titles = {c.id: c.title for c in services.cards}
    except NotReady:
        titles = {}
    due = pd.DataFrame(
        [
            [
                titles.get(r.card_id, r.card_id),
                r.box,
                r.due_at.strftime("%Y-%m-%d"),
                "-" if r.last_score is None else round(r.last_score, 1),
            ]
            for r in store.due_cards()
        ],
        columns=[t(lang, k) for k in ("col_title", "col_box", "col_due", "col_last")],
    )
    return sessions, due
