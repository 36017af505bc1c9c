"""``coach ingest``, ``coach search`` and ``coach cards``: build the index and read it.

Top-level commands (this Typer is added to the root without a name, so its commands
merge into it); each is a thin shell over coach.index, imported only when it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coach.cli.checks import require_writable_data_dir
from coach.cli.output import fail, print_json, warn
from coach.config import get_settings

app = typer.Typer()


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders (.md/.txt). Default: COACH_CORPUS_PATHS."),
    ] = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            help="Re-read PATHS and every file already indexed, and re-embed everything "
            "(after changing the embedding model). Keeps files not named."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Parse documents into cards and index them (Chroma + BM25). Safe to re-run.

    Indexed files that are gone, or now hold no questions or text, leave the index.
    """
    from coach.index.ingest import ingest as run_ingest
    from coach.index.store import StoreError

    settings = get_settings()
    try:
        report = run_ingest(list(paths or settings.paths.corpus_paths), settings, rebuild=rebuild)
    except StoreError as exc:
        fail(str(exc))
    if as_json:
        print_json(report.model_dump())
    else:
        # Removals first: losing cards must never go unnoticed behind the summary.
        for removal in report.files_removed:
            typer.echo(f"Removed {removal.file} from the index: {removal.reason}")
        embedded = f" (rebuild: all {report.embedded} re-embedded)" if report.rebuilt else ""
        typer.echo(
            f"{report.cards} cards ({report.raw_cards} questions, {report.merged_duplicates} "
            f"duplicates merged), {report.article_chunks} article chunks; records: "
            f"{report.added} added, {report.updated} updated, {report.deleted} deleted, "
            f"{report.unchanged} unchanged{embedded}; files: {len(report.files_parsed)} parsed, "
            f"{len(report.files_unchanged)} unchanged, {len(report.files_removed)} removed; "
            f"{report.seconds:.1f}s"
        )
    for failure in report.files_failed:
        warn(f"Skipped {failure.file}: {failure.error}")
    if report.files_failed:
        raise typer.Exit(2)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="A question or topic, in any language.")],
    k: Annotated[int, typer.Option("-k", help="Number of hits.", min=1, max=100)] = 5,
    topic: Annotated[str | None, typer.Option(help="Only this topic (see `coach cards`).")] = None,
    source: Annotated[str | None, typer.Option(help="Only this source file name.")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, dense or bm25.")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print hits as JSON.")] = False,
) -> None:
    """Find the cards and article passages closest to QUERY."""
    from coach.index.retriever import Filters, HybridSearcher
    from coach.index.store import StoreError

    if mode not in ("hybrid", "dense", "bm25"):
        fail(f"--mode must be hybrid, dense or bm25, not {mode!r}")
    settings = get_settings()
    require_writable_data_dir(settings, "search the index")
    try:
        searcher = HybridSearcher(settings)
        hits = searcher.search(query, k, Filters(topic=topic, source=source), mode)  # type: ignore[arg-type]
    except StoreError as exc:
        fail(str(exc))
    if as_json:
        print_json({"hits": [h.public() for h in hits]})
        return
    if not hits:
        typer.echo("No hits.")
    for rank, hit in enumerate(hits, 1):
        typer.echo(f"{rank}. [{hit.topic}] {hit.title}  ({hit.source}, score {hit.score:.4f})")
        if hit.question and hit.question != hit.title:
            typer.echo(f"   {hit.question}")


@app.command()
def cards(
    topic: Annotated[str | None, typer.Option(help="Only this topic.")] = None,
    only_generated: Annotated[
        bool, typer.Option("--generated", help="Only cards the LLM wrote.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List the question cards: id, topic, title, shape, where it was asked, key points.

    This is how to check what became a card: a card with fewer than two key points is
    marked, and the shape (heading, qa, list, bold, table, details, bank, faq) says which
    pattern of the file it was read from.
    """
    from coach.corpus.catalog import load_corpus

    try:
        corpus = load_corpus(get_settings().paths.corpus_file)
    except FileNotFoundError as exc:
        fail(str(exc))
    rows = [
        {
            "id": c.id,
            "title": c.title,
            "topic": c.topic,
            "sources": len(c.sources),
            "key_points": len(c.key_points),
            "few_key_points": len(c.key_points) < 2,
            "kind": c.kind,
            "accepted": c.accepted,
            "source": c.source.ref(),
        }
        for c in corpus.cards
        if (topic is None or c.topic == topic) and (not only_generated or c.kind == "generated")
    ]
    if as_json:
        print_json({"cards": rows})
        return
    for row in rows:
        # A card with one point (or none) grades on little: say so where it is listed.
        few = ": fewer than two, graded on little" if row["few_key_points"] else ""
        few += "" if row["accepted"] else "; not accepted: never asked"
        typer.echo(
            f"{row['id']}  [{row['topic']}] {row['title']}  "
            f"({row['kind']}, {row['source']}, sources {row['sources']}, "
            f"key points {row['key_points']}{few})"
        )
    few_cards = sum(row["few_key_points"] for row in rows)
    typer.echo(f"{len(rows)} cards ({few_cards} with fewer than two key points)")


@app.command("generate-cards")
def generate_cards(
    limit: Annotated[
        int | None, typer.Option(min=1, help="At most this many requests this run.")
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Requests in flight (vLLM batches them together).")
    ] = 8,
    retry: Annotated[bool, typer.Option(help="Ask again for sections rejected before.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Cards from notes that ask nothing: the served LLM writes a question, a reference
    answer drawn only from the section, and key points for each article section of the
    index with enough text. They are marked generated, cite their section, and are not
    asked in interviews until accepted (`coach accept-cards`). Resumable: sections done
    are skipped. The index is updated at the end (`coach ingest` with no new files)."""
    from coach.corpus import generated
    from coach.corpus.catalog import load_corpus
    from coach.index.ingest import ingest as run_ingest
    from coach.llm.card_writer import generate_cards as run
    from coach.llm.client import ModelServerUnavailable, check_server, make_chat_model

    settings = get_settings()
    try:
        corpus = load_corpus(settings.paths.corpus_file)
        check_server(settings)
    except (FileNotFoundError, ModelServerUnavailable) as exc:
        fail(str(exc))
    sections = generated.sections(corpus.chunks, settings.corpus.generate_min_chars)
    chat = make_chat_model(settings, max_tokens=600)
    report = run(sections, settings, chat, limit=limit, concurrency=concurrency, retry=retry)
    run_ingest([], settings)
    if as_json:
        print_json(report.model_dump())
        return
    typer.echo(
        f"{report.written} cards written, {report.rejected} rejected, {report.skipped} of "
        f"{report.sections} sections done before; {report.seconds:.0f}s, "
        f"{report.cards_per_minute:.1f} cards/minute at concurrency {report.concurrency}. "
        "Review them with `coach cards --generated`, accept with `coach accept-cards`."
    )


@app.command("accept-cards")
def accept_cards(
    ids: Annotated[list[str] | None, typer.Argument(help="Generated card ids.")] = None,
    accept_all: Annotated[bool, typer.Option("--all", help="Every generated card.")] = False,
) -> None:
    """Let generated cards into interviews (COACH_ACCEPT_GENERATED=true accepts all)."""
    from coach.corpus import generated
    from coach.index.ingest import ingest as run_ingest

    settings = get_settings()
    changed, unknown = generated.accept(
        settings.paths.generated_cards_file, None if accept_all else set(ids or [])
    )
    if unknown:
        warn(f"Not generated cards: {', '.join(sorted(unknown))}")
    run_ingest([], settings)
    typer.echo(f"{changed} generated cards accepted")
