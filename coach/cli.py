"""The ``coach`` command line: each command is a thin shell over the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from coach.config import get_settings

app = typer.Typer(
    help="coach: an interview coach that asks, grades and follows up, from your own corpus.",
    no_args_is_help=True,
    add_completion=False,
)
eval_app = typer.Typer(help="Measure quality on the sets in eval/.", no_args_is_help=True)
bench_app = typer.Typer(help="Measure speed; prints figures, asserts nothing.")
app.add_typer(eval_app, name="eval")
model_app = typer.Typer(help="Model packs: models built from PyPI packages.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
app.add_typer(model_app, name="model")


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


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
        report = run_ingest(list(paths or settings.corpus_paths), settings, rebuild=rebuild)
    except StoreError as exc:
        _fail(str(exc))
    if as_json:
        _print_json(report.model_dump())
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
        typer.secho(f"Skipped {failure.file}: {failure.error}", fg=typer.colors.YELLOW, err=True)
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
        _fail(f"--mode must be hybrid, dense or bm25, not {mode!r}")
    try:
        searcher = HybridSearcher(get_settings())
        hits = searcher.search(query, k, Filters(topic=topic, source=source), mode)  # type: ignore[arg-type]
    except StoreError as exc:
        _fail(str(exc))
    if as_json:
        _print_json({"hits": [h.public() for h in hits]})
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
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List the question cards: id, title, topic, sources, key points."""
    from coach.corpus.catalog import load_corpus
    from coach.index.ingest import corpus_path

    try:
        corpus = load_corpus(corpus_path(get_settings()))
    except FileNotFoundError as exc:
        _fail(str(exc))
    rows = [
        {
            "id": c.id,
            "title": c.title,
            "topic": c.topic,
            "sources": len(c.sources),
            "key_points": len(c.key_points),
            "source": c.source.ref(),
        }
        for c in corpus.cards
        if topic is None or c.topic == topic
    ]
    if as_json:
        _print_json({"cards": rows})
        return
    for row in rows:
        typer.echo(
            f"{row['id']}  [{row['topic']}] {row['title']}  "
            f"(sources {row['sources']}, key points {row['key_points']})"
        )
    typer.echo(f"{len(rows)} cards")


@model_app.command("install")
def model_install(
    name: Annotated[
        str | None,
        typer.Argument(help="A pack from `coach model list`. Default: the configured LLM."),
    ] = None,
) -> None:
    """Install a model pack (pip packages, sha256 check, conversion). Idempotent."""
    from coach.packs import PackError, install

    settings = get_settings()
    try:
        path = install(name or settings.llm_model, settings.models_dir)
    except PackError as exc:
        _fail(str(exc))
    typer.echo(str(path))


@model_app.command("list")
def model_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Known packs, and which are installed."""
    from coach.packs import PACKS, installed_packs

    installed = installed_packs(get_settings().models_dir)
    rows = [
        {
            "name": p.name,
            "kind": p.kind,
            "installed": p.name in installed,
            "disk_mb": p.disk_mb,
            "memory_mb": p.memory_mb,
            "description": p.description,
        }
        for p in PACKS.values()
    ]
    if as_json:
        _print_json({"packs": rows})
        return
    for row in rows:
        mark = "installed" if row["installed"] else "-"
        typer.echo(
            f"{row['name']:<24}{row['kind']:<10}{mark:<10}"
            f"disk ~{row['disk_mb']} MB, memory ~{row['memory_mb']} MB  {row['description']}"
        )


EVAL_DIR = Path("eval")


@bench_app.command("ingest")
def bench_ingest_cmd(
    paths: Annotated[list[Path] | None, typer.Argument(help="Default: COACH_CORPUS_PATHS.")] = None,
) -> None:
    """Ingest wall time, and embedding throughput against a bare encode (ratio)."""
    from coach.evaluation.bench import bench_ingest

    settings = get_settings()
    result = bench_ingest(settings, list(paths or settings.corpus_paths))
    _print_json(result.model_dump())


@bench_app.command("search")
def bench_search_cmd(
    cases: Annotated[Path, typer.Option(help="Queries to time.")] = EVAL_DIR / "retrieval.jsonl",
    rounds: Annotated[int, typer.Option(min=1)] = 3,
) -> None:
    """p50/p95 latency of search inside one process, per retriever."""
    from coach.evaluation.bench import bench_search
    from coach.evaluation.retrieval import load_cases
    from coach.index.retriever import HybridSearcher

    searcher = HybridSearcher(get_settings())
    queries = [c.query for c in load_cases(cases)]
    for mode in ("bm25", "dense", "hybrid"):
        r = bench_search(searcher, queries, mode, rounds)  # type: ignore[arg-type]
        typer.echo(
            f"{mode:<8} p50 {r.p50_ms:7.1f} ms  p95 {r.p95_ms:7.1f} ms  ({r.queries} searches)"
        )


from coach.commands.bench_grade import bench_grade  # noqa: E402

bench_app.command("grade")(bench_grade)

from coach.commands import serving  # noqa: E402

app.command("serve-model")(serving.serve_model)
app.command("chat")(serving.chat)
model_app.command("install-server")(serving.install_server)
bench_app.command("serve")(serving.bench_serve)

from coach.commands import bench_all, evaluate  # noqa: E402

eval_app.command("retrieval")(evaluate.eval_retrieval)
eval_app.command("mohler")(evaluate.eval_mohler)
eval_app.command("le")(evaluate.eval_le)
eval_app.command("all")(evaluate.eval_all)
eval_app.command("convert-mohler")(evaluate.convert_mohler)
bench_app.callback(invoke_without_command=True)(bench_all.bench_default)
bench_app.command("all")(bench_all.bench_all)

from coach.commands.ui import ui  # noqa: E402

app.command("ui")(ui)
from coach.commands.bench_interview import bench_interview  # noqa: E402

bench_app.command("interview")(bench_interview)

from coach.commands.grade import grade  # noqa: E402

app.command("grade")(grade)
from coach.commands.eval_grading import eval_grading  # noqa: E402

eval_app.command("grading")(eval_grading)
from coach.commands.anchors import anchors_app  # noqa: E402

app.add_typer(anchors_app, name="anchors")


if __name__ == "__main__":
    app()
