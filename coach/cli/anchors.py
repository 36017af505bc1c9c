"""`coach anchors`: write the cards' anchor answers once with the LLM, and show them.

Why resumable, card by card: on a CPU one card takes a minute or two, so a run over the
bank is long; each card's anchors are saved as soon as they are written, cards that
already have current anchors are skipped, and an interrupted run picks up where it was.
A person's correction (question-bank tab) is never overwritten unless asked.
"""

from __future__ import annotations

from typing import Annotated

import typer

from coach.cli.cards import cards_to_write, select_cards
from coach.cli.output import fail, print_json, warn
from coach.config import get_settings
from coach.progress import progress_bar

app = typer.Typer(
    help="Anchor answers per card (full / partial / wrong), written by the LLM.",
    no_args_is_help=True,
)


@app.command("generate")
def generate(
    card: Annotated[
        list[str] | None, typer.Option(help="Only these card ids (repeat the option).")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many cards.")] = None,
    overwrite: Annotated[
        bool, typer.Option(help="Rewrite current anchors too (a person's edits included).")
    ] = False,
) -> None:
    """Ask the LLM (it must be served: `coach serve-model --detach`) for each card's
    full, partial and wrong answer; saved beside the index after every card."""
    from coach.grading.anchor_writer import AnchorWriter
    from coach.grading.anchors import AnchorError, AnchorStore
    from coach.llm.client import ModelServerUnavailable, check_server

    settings = get_settings()
    cards = select_cards(settings, card)
    store = AnchorStore(settings)
    todo, already = cards_to_write(cards, store.get, overwrite=overwrite, limit=limit)
    if not todo:
        typer.echo(f"All {len(cards)} cards have current anchors; --overwrite rewrites them.")
        return
    try:
        check_server(settings)
    except ModelServerUnavailable as exc:
        fail(f"{exc}\nAnchors are written by the LLM; start it with `coach serve-model --detach`.")
    writer = AnchorWriter(settings)
    written, failed = 0, []
    try:
        for item in progress_bar(todo, desc="anchors", unit="card", settings=settings):
            try:
                store.put(writer.write(item))
                written += 1
            except AnchorError as exc:
                failed.append(f"{item.id} ({exc})")
    except KeyboardInterrupt:
        typer.echo(f"\nInterrupted: {written} cards saved; run the command again to go on.")
        raise typer.Exit(130) from None
    typer.echo(f"{written} cards got anchors ({store.path}); {already} had them.")
    if failed:
        warn(
            f"{len(failed)} cards failed (an answer came back empty twice); "
            f"rerun to retry them: {'; '.join(failed)}"
        )
        raise typer.Exit(1)


@app.command("show")
def show(
    card: Annotated[str, typer.Argument(help="A card id (`coach cards`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the record as JSON.")] = False,
) -> None:
    """Print a card's anchors (and say when they are stale or missing)."""
    from coach.grading.anchors import LEVELS, AnchorStore

    settings = get_settings()
    (item,) = select_cards(settings, [card])
    store = AnchorStore(settings)
    anchors = store.get(item)
    if anchors is None:
        state = "stale (the card changed since)" if store.is_stale(item) else "none"
        fail(
            f"Card {card} has no current anchors ({state}): run `coach anchors generate "
            f"--card {card}`."
        )
    if as_json:
        print_json(anchors.model_dump(mode="json"), indent=None)
        return
    typer.echo(f"{item.title}  [{anchors.model}, {anchors.written_at:%Y-%m-%d}]")
    for level in LEVELS:
        typer.echo(f"\n{level}:\n{anchors.text(level)}")
