"""``coach eval fit-weight``'s choice (coach/evaluation/weight.py) on findings made up so
that the answer is known: it must find a split by length where the LLM helps on short
answers only, keep one weight where a split adds nothing, and store what it chose in
coach.toml without touching the rest of the file."""

from __future__ import annotations

import random
import tomllib
from pathlib import Path

import pytest

from coach.config import Settings
from coach.evaluation.weight import MIN_SPLIT_GAIN, Finding, LlmWeights, fit, store


def _finding(human: float, base: float, llm: float, chars: int, name: str = "le") -> Finding:
    return Finding(
        set=name,
        human=human,
        base=base,
        content=1.0,  # lets the LLM lift freely (the lift is bounded by content)
        factor=1.0,
        wrong_share=0.0,
        flags=[],
        llm=llm,
        chars=chars,
    )


def _findings(short_llm_good: bool) -> list[Finding]:
    """Short answers (10 characters) whose evidence score is noise and whose LLM score
    follows the human one (or the other way round), and long ones (500 characters)
    where the evidence side follows the human and the LLM is noise."""
    rng = random.Random(7)
    rows = []
    for name in ("interview", "le"):
        for _ in range(60):
            human = rng.uniform(0, 10)
            noise_a, noise_b = rng.uniform(0, 10), rng.uniform(0, 10)
            if short_llm_good:
                rows.append(_finding(human, noise_a, human, 10, name))
            else:
                rows.append(_finding(human, human, noise_a, 10, name))
            rows.append(_finding(human, human, noise_b, 500, name))
    return rows


def test_a_model_that_helps_on_short_answers_only_gets_a_split(settings: Settings) -> None:
    result = fit(settings, _findings(short_llm_good=True))
    best = result.best
    assert best.short > best.long
    assert 10 < best.chars <= 500
    assert result.trials[0].weights == best
    assert result.trials[0].mean is not None and result.single.mean is not None
    assert result.trials[0].mean >= result.single.mean + MIN_SPLIT_GAIN
    assert result.answers == {"interview": 120, "le": 120}


def test_a_model_that_never_helps_gets_one_weight_of_zero(settings: Settings) -> None:
    result = fit(settings, _findings(short_llm_good=False))
    assert result.best == LlmWeights(short=0.0, long=0.0, chars=0)
    assert result.best.label == "0 for every answer"


def test_store_writes_the_three_settings_and_keeps_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "coach.toml"
    path.write_text('# mine\n[grading]\nweight_scorer = 0.9  # old\n\n[ui]\nlanguage = "en"\n')
    store(LlmWeights(short=0.5, long=0.0, chars=40), path)
    text = path.read_text()
    assert "# mine" in text
    data = tomllib.loads(text)
    assert data["grading"] == {
        "weight_scorer": 0.0,
        "weight_scorer_short": 0.5,
        "short_answer_chars": 40,
    }
    assert data["ui"] == {"language": "en"}
    monkeypatch.setenv("COACH_CONFIG", str(path))
    settings = Settings()
    assert (settings.grading.weight_scorer_short, settings.grading.short_answer_chars) == (0.5, 40)
