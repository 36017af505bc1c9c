"""The chat model coach builds is used from several event loops in one process (one
``asyncio.run`` per CLI grade, Gradio's loop, a batch thread's loop). A pooled HTTP
connection from a closed loop must not break the next call (seen in CI: "Event loop
is closed", and grading fell back to the rubric against a healthy server)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from coach.config import Settings
from coach.llm.client import make_chat_model

REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 0,
    "model": "m",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "pong"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


class KeepAliveHandler(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that keeps connections open, as vLLM's does."""

    protocol_version = "HTTP/1.1"
    requests: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers["Content-Length"]))
        KeepAliveHandler.requests.append(self.path)
        body = json.dumps(REPLY).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    KeepAliveHandler.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAliveHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_one_chat_model_serves_successive_event_loops(server_url: str) -> None:
    model = make_chat_model(Settings(llm_base_url=server_url, llm_model="m"), max_retries=0)
    replies = [asyncio.run(model.ainvoke("ping")).content for _ in range(3)]
    assert replies == ["pong", "pong", "pong"]
    assert KeepAliveHandler.requests == ["/v1/chat/completions"] * 3


def test_two_chat_models_for_one_server_in_different_loops(server_url: str) -> None:
    """langchain-openai caches one default async client per base URL for the process; two
    coach models (judge and interviewer) must not share a connection across loops."""
    settings = Settings(llm_base_url=server_url, llm_model="m")
    judge, interviewer = make_chat_model(settings), make_chat_model(settings)
    assert asyncio.run(judge.ainvoke("a")).content == "pong"
    assert asyncio.run(interviewer.ainvoke("b")).content == "pong"
    assert asyncio.run(judge.ainvoke("c")).content == "pong"
    assert judge.invoke("d").content == "pong", "the sync client is untouched"
