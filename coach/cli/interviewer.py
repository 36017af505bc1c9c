"""`coach interviewer`: prepare each card's interviewer once with the LLM, and show it.

Why a resumable batch like `coach anchors`: on a CPU the 1.5B model writes one question in
2-8 s and a card needs about a dozen, so a bank takes tens of minutes; each card is saved
as soon as it is written, prepared cards are skipped, an interrupted run goes on where it
stopped, and a person's correction is never overwritten unless asked.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Annotated

import typer

from coach.cli.cards import cards_to_write, select_cards
from coach.cli.output import fail, print_json, warn
from coach.config import get_settings
from coach.progress import progress_bar

if TYPE_CHECKING:
    from coach.corpus.models import QuestionCard
    from coach.interview.prepared import PreparedCard

app = typer.Typer(
    help="The prepared interviewer per card: phrasings and probing follow-ups, by the LLM.",
    no_args_is_help=True,
)


@app.command("prepare")
def prepare(
    card: Annotated[
        list[str] | None, typer.Option(help="Only these card ids (repeat the option).")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many cards.")] = None,
    overwrite: Annotated[
        bool, typer.Option(help="Rewrite prepared cards too (a person's edits included).")
    ] = False,
) -> None:
    """Ask the LLM (it must be served: `coach serve-model --detach`) for each card's
    phrasings and follow-ups; saved beside the index after every card."""
    from coach.interview.prepared import PreparedStore
    from coach.interview.preparer import InterviewerWriter
    from coach.llm.client import ModelServerUnavailable, check_server

    settings = get_settings()
    cards = select_cards(settings, card)
    store = PreparedStore(settings)
    todo, already = cards_to_write(cards, store.get, overwrite=overwrite, limit=limit)
    if not todo:
        typer.echo(f"All {len(cards)} cards are prepared; --overwrite prepares them again.")
        return
    try:
        check_server(settings)
    except ModelServerUnavailable as exc:
        fail(f"{exc}\nThe interviewer is prepared by the LLM; start it with `coach serve-model`.")
    writer = InterviewerWriter(settings)
    bar = progress_bar(total=len(todo), desc="interviewer", unit="card", settings=settings)
    failed: list[str] = []
    counts = {"cards": 0, "questions": 0}

    def done(item: QuestionCard, record: PreparedCard | None, error: BaseException | None) -> None:
        bar.update(1)
        if record is None:
            failed.append(f"{item.id} ({type(error).__name__}: {error})")
            return
        store.put(record)
        counts["cards"] += 1
        counts["questions"] += len(record.phrasings) + sum(map(len, record.probes.values()))

    started = time.monotonic()
    try:
        asyncio.run(writer.write_many(todo, done))
    except KeyboardInterrupt:
        bar.close()
        typer.echo(f"\nInterrupted: {counts['cards']} cards saved; run again to go on.")
        raise typer.Exit(130) from None
    bar.close()
    minutes = (time.monotonic() - started) / 60
    typer.echo(
        f"{counts['cards']} cards prepared with {counts['questions']} questions in "
        f"{minutes:.1f} min ({store.path}); {already} were prepared already."
    )
    if failed:
        warn(f"{len(failed)} cards failed; rerun to retry them: {'; '.join(failed)}")
        raise typer.Exit(1)


@app.command("show")
def show(
    card: Annotated[str, typer.Argument(help="A card id (`coach cards`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the record as JSON.")] = False,
) -> None:
    """Print a card's prepared phrasings and follow-ups (or say why there are none)."""
    from coach.interview.prepared import PreparedStore

    settings = get_settings()
    (item,) = select_cards(settings, [card])
    store = PreparedStore(settings)
    record = store.get(item)
    if record is None:
        state = "stale (the card changed since)" if store.is_stale(item) else "none"
        fail(
            f"Card {card} is not prepared ({state}): run `coach interviewer prepare --card {card}`."
        )
    if as_json:
        print_json(record.model_dump(mode="json"), indent=None)
        return
    typer.echo(f"{item.question}  [{record.model}, {record.written_at:%Y-%m-%d}]")
    for text in record.phrasings:
        typer.echo(f"  ~ {text}")
    for label, questions in record.probes.items():
        typer.echo(f"\n{label}:")
        for text in questions:
            typer.echo(f"  ? {text}")


@app.command("status")
def status() -> None:
    """Say how many cards are prepared and how to prepare the rest (`make demo` runs it:
    preparing a bank takes tens of minutes on a CPU, so the demo says so, not waits)."""
    from coach.interview.prepared import PreparedStore

    settings = get_settings()
    cards = select_cards(settings, None)
    store = PreparedStore(settings)
    ready = sum(store.get(c) is not None for c in cards)
    stale = sum(store.is_stale(c) for c in cards)
    typer.echo(f"Prepared interviewer: {ready} of {len(cards)} cards ({stale} stale).")
    if ready < len(cards):
        typer.echo(
            "The others get templated follow-ups. Prepare them with `coach interviewer "
            "prepare` while the model is served (resumable; about 30 s a card with the "
            "1.5B pack on 2 CPU cores, measured 2026-12-07)."
        )
