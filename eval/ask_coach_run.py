"""Ask the coach ten questions through the real engine path (the UI's services: hybrid
searcher, served chat model), five the seed corpus covers and five it does not, and
print each final answer with its timings and the support check's verdicts.

    .venv/bin/python eval/ask_coach_run.py        # needs the index and `coach serve-model`

Times: to the first event (the program's opening line, or the refusal), to the model's
first token, and to the final event. Figures in eval/README.md ("Ask the coach").
"""

from __future__ import annotations

import asyncio
import time

from coach.config import get_settings
from coach.interview.ask import check_answer, coverage, opening, passage_text
from coach.interview.engine import InterviewEngine
from coach.interview.models import InterviewConfig
from coach.interview.phrases import phrase
from coach.ui.services import AppServices

QUESTIONS = [
    ("covered", "数据并行和模型并行有什么区别"),
    ("covered", "怎么把模型变小，比如剪枝量化蒸馏"),
    ("covered", "模型在测试集上效果差怎么办"),
    ("covered", "标注成本太高，没那么多人工标签怎么办"),
    ("covered", "训练过程中要盯哪些指标来监控"),
    ("uncovered", "大模型推理时 KV cache 为什么能加速？显存不够怎么办？"),
    ("uncovered", "FlashAttention 为什么比普通 attention 快？"),
    ("uncovered", "MoE 模型的路由负载不均衡怎么处理？"),
    ("uncovered", "What does the temperature parameter do during sampling?"),
    ("uncovered", "BPE 分词是怎么构建词表的？"),
]


async def one(engine: InterviewEngine, searcher, settings, label: str, question: str) -> None:
    start = time.perf_counter()
    first = first_token = None
    events = []
    async for event in engine.ask_coach(question):
        now = time.perf_counter() - start
        first = first if first is not None else now
        events.append(event)
        if first_token is None and not event.done and "\n" in event.text:
            first_token = now
    total = time.perf_counter() - start
    mark = time.perf_counter()
    hits = searcher.search(question, settings.interview.coach_k)
    searched = time.perf_counter() - mark
    found = coverage(question, hits, settings.interview, engine_encode(searcher))
    checked_at = time.perf_counter() - mark - searched
    final = events[-1]
    drafts = [e for e in events if not e.done]
    refused = not drafts
    print(f"\n### [{label}] {question}")
    print(
        f"first event {first:.2f} s, first model token "
        f"{'-' if first_token is None else f'{first_token:.2f} s'}, final {total:.1f} s, "
        f"{'REFUSED (no model call)' if refused else 'answered'}; "
        f"again: search {searched:.2f} s, coverage {checked_at:.2f} s, e5 {found.similarity:.3f}"
    )
    if drafts:
        hits = searcher.search(question, settings.interview.coach_k)
        head = opening(hits, lambda k, **v: phrase("zh", k, **v))
        raw = drafts[-1].text.removeprefix(head).lstrip("\n")
        checked = check_answer(
            raw, [passage_text(h) for h in hits], settings.interview, engine_encode(searcher)
        )
        print("model's draft:")
        for s in checked.sentences:
            verdict = "claim" if s.claim else "-"
            score = f"{max(s.scores):.2f}" if s.scores else "  - "
            mark = "KEPT" if s.supported else "DROPPED"
            print(f"   {mark:7} {score} {verdict:5} {s.text}")
        print(f"   bad citations: {checked.bad_citations}")
    print("final:")
    print("   " + final.text.replace("\n", "\n   "))


def engine_encode(searcher):
    from coach.interview.ask import query_encoder

    return query_encoder(searcher, get_settings())


async def main() -> None:
    settings = get_settings()
    app = AppServices(settings)
    services = app.interview()
    searcher = services.searcher
    searcher.search("预热", 1)  # load what the UI's warm-up loads
    engine = InterviewEngine(services, InterviewConfig(language="zh"), seed=1)
    for label, question in QUESTIONS:
        await one(engine, searcher, settings, label, question)


if __name__ == "__main__":
    asyncio.run(main())
