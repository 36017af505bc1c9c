"""``coach transcribe``: a recorded answer to text, as the interview would hear it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coach.cli.output import fail, print_json
from coach.config import get_settings

app = typer.Typer()


@app.command()
def transcribe(
    audio: Annotated[Path, typer.Argument(help="A recording (wav, mp3, m4a, webm ...).")],
    question: Annotated[
        str | None,
        typer.Option("--question", "-q", help="The question answered: Whisper's prompt."),
    ] = None,
    terms: Annotated[
        list[str] | None,
        typer.Option("--term", help="A key term to spell as the reference does (repeatable)."),
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="zh, en or auto. Default: COACH_VOICE_LANGUAGE.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the transcript as JSON.")] = False,
) -> None:
    """Transcribe a spoken answer (needs the voice extra and `coach model install whisper-base`).

    Exits 1, saying why, when the recording sounds like nothing, like the prompt read back
    or not like the language asked for: repeat the answer or type it.
    """
    from coach.speech.transcriber import Transcriber, VoiceUnavailable

    if language not in (None, "zh", "en", "auto"):
        fail(f"--language must be zh, en or auto, not {language!r}")
    try:
        result = Transcriber(get_settings()).transcribe(
            audio, question=question, key_terms=terms or (), language=language
        )
    except (VoiceUnavailable, FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    if as_json:
        print_json(result.model_dump())
    else:
        typer.echo(result.text)
        pace = result.pace
        typer.echo(
            f"{result.duration_s:.1f} s of audio in {result.seconds:.1f} s"
            + (f", {pace[0]:.0f} {pace[1]}" if pace else ""),
            err=True,
        )
    if not result.usable:
        fail("not usable as an answer (" + ", ".join(result.problems) + "): repeat or type it")
