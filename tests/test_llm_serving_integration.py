"""The real thing: smollm2-135m served by vLLM (the session fixture ``vllm_server``),
reached through coach's own client and CLI."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, Field
from typer.testing import CliRunner

from coach.cli import app
from coach.config import get_settings
from coach.llm import server as srv
from coach.llm.client import ModelServerUnavailable, check_server, list_models, make_chat_model

pytestmark = [pytest.mark.slow, pytest.mark.integration]
runner = CliRunner()


@pytest.fixture
def served(vllm_server, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COACH_LLM_BASE_URL", vllm_server.base_url)
    monkeypatch.setenv("COACH_LLM_MODEL", vllm_server.model)
    get_settings.cache_clear()
    return vllm_server


def test_server_lists_the_pack(served):
    assert served.base_url.endswith("/v1")
    assert list_models() == ["smollm2-135m"]
    check_server()  # raises if the model is not served


def test_chat_completion_through_make_chat_model(served):
    reply = make_chat_model(max_tokens=24).invoke("What is the capital of France?")
    # Checking the content, not just non-empty text: a broken kernel path once made this
    # model answer fluent gibberish (see COACH_VLLM_COMPILATION_CONFIG).
    assert "paris" in reply.content.lower()
    assert reply.response_metadata["model_name"] == "smollm2-135m"


class Capital(BaseModel):
    city: Literal["Paris", "London", "Berlin", "Madrid"]
    confidence: int = Field(ge=0, le=10)


def test_json_schema_structured_output(served):
    structured = make_chat_model(max_tokens=60).with_structured_output(
        Capital, method="json_schema"
    )
    result = structured.invoke("What is the capital of France? Answer as JSON.")
    assert isinstance(result, Capital)
    assert 0 <= result.confidence <= 10


def test_coach_chat_command(served):
    result = runner.invoke(app, ["chat", "Say hello.", "--max-tokens", "16"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()


def test_check_server_names_the_served_models_on_a_wrong_name(served, monkeypatch):
    monkeypatch.setenv("COACH_LLM_MODEL", "qwen2.5-coder-1.5b")
    get_settings.cache_clear()
    with pytest.raises(ModelServerUnavailable, match="smollm2-135m"):
        check_server()


def test_serve_model_reuses_a_running_server(served, monkeypatch):
    """A second `coach serve-model` for the same model finds the recorded server and
    starts nothing (what lets `make demo` run twice)."""
    settings = get_settings()
    port = int(served.base_url.rsplit(":", 1)[1].split("/")[0])
    state = srv.ServerState(
        pid=served.pid,
        host="127.0.0.1",
        port=port,
        model=served.model,
        model_dir="?",
        log=str(served.log_path),
        started="now",
    )
    path = settings.paths.vllm_state_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(state.model_dump_json())
    result = runner.invoke(app, ["serve-model", "smollm2-135m", "--detach"])
    assert result.exit_code == 0, result.output
    assert f"already serving smollm2-135m at {served.base_url}" in result.output
    status = runner.invoke(app, ["serve-model", "--status"])
    assert status.exit_code == 0 and served.base_url in status.stdout
    path.unlink()  # never --stop here: the session's server belongs to the fixture
