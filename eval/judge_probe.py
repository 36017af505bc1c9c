"""How each LLM pack scores answers of known quality with a bare judge prompt.

A probe, not the grader (coach/grading builds the real judge with key points and a
rubric): it shows what the model alone makes of a good, a partial, an off-topic and an
injection answer from eval/grading.jsonl, so the choice of pack rests on figures.
Starts a private vLLM server per pack (one at a time), asks for {"score": 0-10} under
JSON-schema guided decoding, prints the mean score per kind beside the expected band.

    .venv/bin/python eval/judge_probe.py smollm2-135m qwen2.5-coder-0.5b --per-kind 3
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel, Field

from coach.config import get_settings
from coach.llm.client import make_chat_model
from coach.llm.server import VLLMServer, free_port
from coach.prompts import chat_prompt

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("complete", "partial", "off_topic", "injection")


class ProbeScore(BaseModel):
    score: int = Field(ge=0, le=10)


def load_rows(per_kind: int) -> list[dict]:
    rows = [json.loads(line) for line in (ROOT / "eval" / "grading.jsonl").open(encoding="utf-8")]
    picked: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        if row["kind"] in KINDS and len(picked[row["kind"]]) < per_kind:
            picked[row["kind"]].append(row)
    return [row for kind in KINDS for row in picked[kind]]


def probe(pack: str, rows: list[dict]) -> dict[str, list[int | None]]:
    settings = get_settings()
    scores: dict[str, list[int | None]] = defaultdict(list)
    log = settings.paths.vllm_state_dir / f"judge-probe-{pack}.log"
    with VLLMServer(settings, pack, port=free_port(), log_path=log, record=False) as server:
        model = make_chat_model(
            settings, base_url=server.base_url, model=pack, max_tokens=20
        ).with_structured_output(ProbeScore, method="json_schema")
        chain = chat_prompt("judge_probe") | model
        for row in rows:
            try:
                result = chain.invoke({"question": row["question"], "answer": row["answer"]})
                scores[row["kind"]].append(result.score)
            except Exception as exc:  # noqa: BLE001 - a probe reports failures, it does not stop
                print(f"  {pack} {row['id']}: {type(exc).__name__}: {exc}")
                scores[row["kind"]].append(None)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packs", nargs="*", default=["smollm2-135m"])
    parser.add_argument("--per-kind", type=int, default=3)
    args = parser.parse_args()
    rows = load_rows(args.per_kind)
    bands = {row["kind"]: row["band"] for row in rows}
    print(f"{'pack':<20}" + "".join(f"{k + ' ' + str(bands[k]):>22}" for k in KINDS))
    for pack in args.packs:
        scores = probe(pack, rows)
        cells = []
        for kind in KINDS:
            got = [s for s in scores[kind] if s is not None]
            mean = f"{statistics.mean(got):.1f}" if got else "-"
            cells.append(f"{mean} {got}".rjust(22))
        print(f"{pack:<20}" + "".join(cells), flush=True)


if __name__ == "__main__":
    main()
