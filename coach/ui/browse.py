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
            text, services.settings.ui.search_k, Filters(topic=topic, kind="card")
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


def card_anchors(services: AppServices, card_id: str, lang: Lang) -> tuple[str, str, str, str]:
    """The card's anchor answers for the three editable boxes, and a line saying where
    they came from (or how to get them)."""
    card = next((c for c in services.cards if c.id == card_id), None)
    if card is None:
        return "", "", "", t(lang, "anchors_pick")
    store = services.anchor_store
    anchors = store.get(card)
    if anchors is None:
        stale = store.all().get(card.id) if store.is_stale(card) else None
        key = "anchors_stale" if stale else "anchors_none"
        texts = (stale.full, stale.partial, stale.wrong) if stale else ("", "", "")
        return (*texts, t(lang, key, card=card.id))
    line = t(lang, "anchors_from", model=anchors.model, date=f"{anchors.written_at:%Y-%m-%d}")
    return anchors.full, anchors.partial, anchors.wrong, line


def save_anchors(
    services: AppServices, card_id: str, full: str, partial: str, wrong: str, lang: Lang
) -> str:
    """A person's correction, stored as theirs; the message says what happened."""
    from coach.grading.anchors import AnchorError

    card = next((c for c in services.cards if c.id == card_id), None)
    if card is None:
        return t(lang, "anchors_pick")
    try:
        services.anchor_store.edit(card, full, partial, wrong)
    except AnchorError as exc:
        return t(lang, "error", text=str(exc))
    return t(lang, "anchors_saved", path=services.anchor_store.path)
