"""The ``coach`` command line: one module per command group, each a thin shell over the
library.

Why ``add_typer`` without a name for some modules: typer (>= 0.15) merges such a Typer's
commands into the root, so ``coach ingest``, ``coach grade``, ``coach ui`` and
``coach serve-model`` stay top-level while living in their own modules. The order below
is the order of ``coach --help``: top-level commands first, then the groups.
"""

from __future__ import annotations

import typer

from coach.cli import (
    anchors,
    bench,
    evaluate,
    grade,
    index,
    interviewer,
    models,
    plan,
    ui,
    voice,
)

app = typer.Typer(
    help="coach: an interview coach that asks, grades and follows up, from your own corpus.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(index.app)  # ingest, search, cards
app.add_typer(models.app)  # serve-model, chat
app.add_typer(ui.app)  # ui
app.add_typer(grade.app)  # grade
app.add_typer(plan.app)  # plan
app.add_typer(voice.app)  # transcribe
app.add_typer(evaluate.app, name="eval")
app.add_typer(bench.app, name="bench")
app.add_typer(models.model_app, name="model")
app.add_typer(anchors.app, name="anchors")
app.add_typer(interviewer.app, name="interviewer")

__all__ = ["app"]
