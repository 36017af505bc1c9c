"""The batch-grading tab: upload a file of answers, grade it with coach.batch, download
the graded file and its HTML report (the grading itself is ``coach.ui.batch``)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from coach.ui.batch import grade_file
from coach.ui.context import UiContext, lang_of
from coach.ui.files import RECORDING_SUFFIXES, TABLE_SUFFIXES
from coach.ui.strings import t


def build_batch_tab(ctx: UiContext) -> Any:
    lang0, services = ctx.lang0, ctx.services
    with gr.Tab(t(lang0, "tab_batch"), id="batch") as tab:
        help_text = gr.Markdown(t(lang0, "batch_help"))
        upload = gr.File(  # a table, with its recordings selected together, or one .zip
            label=t(lang0, "batch_file"),
            file_types=[*TABLE_SUFFIXES, ".zip", *RECORDING_SUFFIXES],
            file_count="multiple",
            type="filepath",
            elem_id="batch-file",
        )
        use_llm = gr.Checkbox(value=True, label=t(lang0, "batch_use_llm"))
        run = gr.Button(t(lang0, "batch_run"), variant="primary", elem_id="batch-run")
        status = gr.Markdown(elem_id="batch-status")
        results = gr.File(
            label=t(lang0, "batch_results"),
            file_count="multiple",
            interactive=False,
            elem_id="batch-results",
        )
    words = ctx.translate
    words(tab, "tab_batch")
    words(help_text, "batch_help", "value")
    words(upload, "batch_file")
    words(use_llm, "batch_use_llm")
    words(run, "batch_run", "value")
    words(results, "batch_results")

    async def on_batch(path: str | list[str] | None, llm: bool, lang_label: str):
        async for shown, files in grade_file(services, path, llm, lang_of(lang_label)):
            yield shown, files

    run.click(on_batch, [upload, use_llm, ctx.language], [status, results])
    return tab
