"""The question-bank and history tabs' data, as plain rows (Gradio renders them)."""

from __future__ import annotations

from typing import Any, NamedTuple

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
                t(lang, "history_job", title=s.job) if s.job else s.topic or t(lang, "all_topics"),
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


def card_interviewer(services: AppServices, card_id: str, lang: Lang) -> tuple[str, str, str]:
    """The card's prepared phrasings and follow-ups for the two editable boxes, and a
    line saying where they came from (or how to get them)."""
    from coach.interview.prepared import probes_text

    card = next((c for c in services.cards if c.id == card_id), None)
    if card is None:
        return "", "", t(lang, "anchors_pick")
    store = services.prepared_store
    try:
        record = store.get(card)
        stale = store.all().get(card.id) if record is None and store.is_stale(card) else None
    except ValueError as exc:  # an unreadable file: say which line
        return "", "", t(lang, "error", text=str(exc))
    if record is None:
        key = "interviewer_stale" if stale else "interviewer_none"
        shown = stale
        line = t(lang, key, card=card.id)
    else:
        shown = record
        line = t(lang, "interviewer_from", model=record.model, date=f"{record.written_at:%Y-%m-%d}")
    phrasings = "\n".join(shown.phrasings) if shown else ""
    return phrasings, probes_text(shown), line


def save_interviewer(
    services: AppServices, card_id: str, phrasings: str, probes: str, lang: Lang
) -> str:
    """A person's phrasings and follow-ups, stored as theirs; the message says what
    happened (a follow-up line that names no point of the card is refused, with why)."""
    card = next((c for c in services.cards if c.id == card_id), None)
    if card is None:
        return t(lang, "anchors_pick")
    try:
        services.prepared_store.edit(card, phrasings, probes)
    except ValueError as exc:
        return t(lang, "error", text=str(exc))
    return t(lang, "interviewer_saved", path=services.prepared_store.path)


# --- generated cards waiting for review (issue 28) -------------------------------------
# The store ``coach generate-cards`` writes is the one place a generated card lives: the
# tab reads it, writes a person's edits, acceptances and rejections back to it, and then
# brings the index in line as ``coach accept-cards`` does, so the CLI and the tab never
# disagree about a card.


def _review_store(services: AppServices) -> tuple[Any, dict[str, Any], list[Any]]:
    from coach.corpus import generated

    path = services.settings.paths.generated_cards_file
    current = generated.sections(
        services.corpus.chunks, services.settings.corpus.generate_min_chars
    )
    return path, generated.load(path), current


def _span(record: Any) -> str:
    return f"{record.file}:{record.start_line}-{record.end_line}"


def pending_rows(services: AppServices) -> list[list[Any]]:
    """One row per generated card waiting for review: #, topic, question, source,
    key points, id (the last column is what a click selects)."""
    from coach.corpus import generated

    try:
        _, records, current = _review_store(services)
    except NotReady as exc:
        return [[0, "", str(exc), "", "", ""]]
    return [
        [i, r.topic, r.question, _span(r), len(r.key_points), r.card_id]
        for i, r in enumerate(generated.pending(records, current), 1)
    ]


def pending_card(services: AppServices, card_id: str, lang: Lang) -> tuple[str, str, str, str, str]:
    """The form for one card: question, reference answer, key points (one a line), where
    it came from, and the section's text the model was given (to check it against)."""
    try:
        _, records, current = _review_store(services)
    except NotReady as exc:
        return "", "", "", str(exc), ""
    record = next((r for r in records.values() if r.card_id == card_id), None)
    if record is None:
        return "", "", "", t(lang, "review_pick"), ""
    section = next((s for s in current if s.key == record.key), None)
    origin = t(lang, "review_origin", source=esc(_span(record)), model=esc(record.model or "?"))
    if record.edited:
        origin += " " + t(lang, "review_edited")
    return (
        record.question,
        record.answer,
        "\n".join(record.key_points),
        origin,
        section.text if section is not None else "",
    )


class Outcome(NamedTuple):
    """What a review action did: ``done`` False means refused and nothing was stored
    (the tab keeps the form as typed so it can be put right)."""

    done: bool
    message: str


def _review_error(exc: Exception, lang: Lang) -> str:
    """The refusal in the user's language (the English message where none is written)."""
    from coach.ui.strings import keys

    key = f"review_{getattr(exc, 'code', '')}"
    if key in keys(lang):
        return t(lang, "error", text=t(lang, key, **getattr(exc, "values", {})))
    return t(lang, "error", text=esc(str(exc)))


def save_pending(
    services: AppServices, card_id: str, question: str, answer: str, points: str, lang: Lang
) -> Outcome:
    """Store a person's edit of one card."""
    from coach.corpus import generated

    if not card_id:
        return Outcome(False, t(lang, "review_pick"))
    try:
        change = generated.CardEdit.parse(question, answer, points)
        generated.edit(services.settings.paths.generated_cards_file, card_id, change)
    except generated.ReviewError as exc:
        return Outcome(False, _review_error(exc, lang))
    return Outcome(True, t(lang, "review_saved"))


def accept_pending(
    services: AppServices, card_id: str, question: str, answer: str, points: str, lang: Lang
) -> Outcome:
    """Accept one card as the form shows it (the edit is saved first, and refused as a
    save would be); then the index is brought in line so the next interview can ask it."""
    from coach.corpus import generated

    if not card_id:
        return Outcome(False, t(lang, "review_pick"))
    path = services.settings.paths.generated_cards_file
    try:
        generated.edit(path, card_id, generated.CardEdit.parse(question, answer, points))
        changed, _ = generated.accept(path, {card_id})
    except generated.ReviewError as exc:
        return Outcome(False, _review_error(exc, lang))
    if changed:
        services.reindex()
    return Outcome(True, t(lang, "review_accepted", count=changed))


def accept_all_pending(services: AppServices, lang: Lang) -> Outcome:
    """Every card written and not turned down, as stored (`coach accept-cards --all`)."""
    from coach.corpus import generated

    changed, _ = generated.accept(services.settings.paths.generated_cards_file, None)
    if changed:
        services.reindex()
    return Outcome(True, t(lang, "review_accepted", count=changed))


def reject_pending(services: AppServices, card_id: str, lang: Lang) -> Outcome:
    """Turn one card down; it leaves the corpus and is not generated again."""
    from coach.corpus import generated

    if not card_id:
        return Outcome(False, t(lang, "review_pick"))
    try:
        generated.reject(services.settings.paths.generated_cards_file, card_id)
    except generated.ReviewError as exc:
        return Outcome(False, _review_error(exc, lang))
    services.reindex()
    return Outcome(True, t(lang, "review_rejected"))
