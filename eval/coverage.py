"""Ask the coach (issue 30): does the program tell questions the material covers from
ones it does not, and sentences the passages support from made-up ones?

    .venv/bin/python eval/coverage.py            # needs the index (coach ingest)

Coverage: covered questions are eval/retrieval.jsonl + eval/covered.jsonl, uncovered ones
eval/uncovered.jsonl. Each file is split by line parity: thresholds are FITTED on the
even lines (0, 2, 4, ...) and REPORTED on the odd lines, never tuned on those. The
decision is coach/interview/ask.py's ``coverage``: a named term missing from every
retrieved passage refuses; otherwise the best e5 cosine (question vs a retrieved card's
question) against a floor per language (Chinese / not).

Support: eval/support.jsonl, sentences labelled supported or not by the passages
retrieved for their question, written in pairs (supported, then not): the bigram-share
floor (same language) and the e5 floor (another language) are fitted on the even pairs
(lines 0-1, 4-5, ...) and reported on the odd pairs.

Prints the fitted values beside the ones in the settings (coach/config/interview.py);
nothing is written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from coach.common.text import CJK
from coach.config import get_settings
from coach.index.retriever import HybridSearcher
from coach.interview.ask import (
    best_similarity,
    check_answer,
    material_text,
    missing_terms,
    passage_text,
    query_encoder,
)

EVAL = Path(__file__).parent


def lines(name: str) -> list[dict]:
    text = (EVAL / name).read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def fit_floor(pairs: list[tuple[float, bool]]) -> float:
    """The floor (value >= floor is positive) with the fewest errors; among equals, the
    middle one (a margin on both sides)."""
    values = sorted({v for v, _ in pairs})
    candidates = [values[0] - 1e-3]
    candidates += [(a + b) / 2 for a, b in zip(values, values[1:], strict=False)]
    candidates += [values[-1] + 1e-3]

    def errors(floor: float) -> int:
        return sum((v >= floor) != positive for v, positive in pairs)

    least = min(errors(c) for c in candidates)
    best = [c for c in candidates if errors(c) == least]
    return round(best[len(best) // 2], 3)


def coverage_rows(searcher: HybridSearcher, settings) -> list[dict]:
    encode = query_encoder(searcher, settings)
    material = material_text(searcher) or ""
    sets = [("retrieval.jsonl", True), ("covered.jsonl", True), ("uncovered.jsonl", False)]
    rows = []
    for name, covered in sets:
        for index, case in enumerate(lines(name)):
            question = case["query"]
            hits = searcher.search(question, settings.interview.coach_k)
            rows.append(
                {
                    "question": question,
                    "covered": covered,
                    "fit": index % 2 == 0,
                    "zh": bool(CJK.search(question)),
                    "missing": list(missing_terms(question, material)),
                    "similarity": best_similarity(question, hits, encode),
                }
            )
    return rows


def refused(row: dict, floors: dict[bool, float]) -> bool:
    return bool(row["missing"]) or row["similarity"] < floors[row["zh"]]


def report_coverage(rows: list[dict], settings) -> None:
    fit = [r for r in rows if r["fit"]]
    floors = {
        zh: fit_floor(
            [(r["similarity"], r["covered"]) for r in fit if r["zh"] == zh and not r["missing"]]
        )
        for zh in (True, False)
    }
    interview = settings.interview
    print("## Coverage (refuse = a named term missing from the passages, or e5 below the floor)")
    print(
        f"fitted on even lines: floor zh {floors[True]}, en {floors[False]}"
        f"  (settings: zh {interview.coach_min_similarity_zh}, "
        f"en {interview.coach_min_similarity_en})"
    )
    used = {True: interview.coach_min_similarity_zh, False: interview.coach_min_similarity_en}
    for label, part in (("fit (even lines)", fit), ("REPORT (odd lines)", rows)):
        part = [r for r in part if r["fit"] == (label.startswith("fit"))]
        cov = [r for r in part if r["covered"]]
        unc = [r for r in part if not r["covered"]]
        by_terms = sum(bool(r["missing"]) for r in unc)
        print(
            f"{label}: covered wrongly refused {sum(refused(r, used) for r in cov)}/{len(cov)}"
            f" (by terms {sum(bool(r['missing']) for r in cov)}); "
            f"uncovered refused {sum(refused(r, used) for r in unc)}/{len(unc)}"
            f" (by terms {by_terms})"
        )
        for r in part:
            if refused(r, used) != (not r["covered"]):
                kind = "covered, refused" if r["covered"] else "uncovered, answered"
                print(f"    {kind}: {r['question']} (e5 {r['similarity']:.3f}, {r['missing']})")
    print("e5 alone, best single floor fitted on even lines (both languages):")
    single = fit_floor([(r["similarity"], r["covered"]) for r in fit])
    odd = [r for r in rows if not r["fit"]]
    wrong_cov = sum(r["similarity"] < single for r in odd if r["covered"])
    right_unc = sum(r["similarity"] < single for r in odd if not r["covered"])
    n_cov = sum(r["covered"] for r in odd)
    print(
        f"  floor {single}: REPORT covered wrongly refused {wrong_cov}/{n_cov}, "
        f"uncovered refused {right_unc}/{len(odd) - n_cov}"
    )


def report_support(searcher: HybridSearcher, settings) -> None:
    encode = query_encoder(searcher, settings)
    interview = settings.interview
    rows = []
    for index, case in enumerate(lines("support.jsonl")):
        hits = searcher.search(case["question"], interview.coach_k)
        passages = [passage_text(h) for h in hits]
        checked = check_answer(case["sentence"], passages, interview, encode)
        sentence = checked.claims[0]
        rows.append(
            {
                "fit": index // 2 % 2 == 0,
                "zh": bool(CJK.search(case["sentence"])),
                "score": max(sentence.scores),
                "supported": case["supported"],
                "kept": sentence.supported,
                "sentence": case["sentence"],
            }
        )
    print("## Sentence support (eval/support.jsonl)")
    for zh, name, setting in (
        (True, "bigram share, same language", interview.coach_support_min_overlap),
        (False, "e5 cosine, other language", interview.coach_support_min_similarity),
    ):
        part = [r for r in rows if r["zh"] == zh]
        floor = fit_floor([(r["score"], r["supported"]) for r in part if r["fit"]])
        print(f"{name}: fitted on even lines {floor} (settings {setting})")
        for label, fit in (("fit", True), ("REPORT", False)):
            sub = [r for r in part if r["fit"] == fit]
            sup = [r for r in sub if r["supported"]]
            uns = [r for r in sub if not r["supported"]]
            print(
                f"  {label}: supported kept {sum(r['kept'] for r in sup)}/{len(sup)}, "
                f"unsupported dropped {sum(not r['kept'] for r in uns)}/{len(uns)}"
            )
            for r in sub:
                if r["kept"] != r["supported"]:
                    print(f"      wrong ({r['score']:.3f}): {r['sentence']}")


def main() -> None:
    settings = get_settings()
    searcher = HybridSearcher(settings)
    rows = coverage_rows(searcher, settings)
    report_coverage(rows, settings)
    report_support(searcher, settings)
    if "--rows" in sys.argv:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    main()
