"""Is a model-phrased question usable? The program checks; the card's own text (or a
template) replaces anything that fails, so a weak model never derails an interview.

Measured with SmolLM2-135M: asked to rephrase "如何处理大模型的过拟合问题？" it wrote
"1. 训练优化\\n2. 训练优化…" until the token limit. Such text shares almost nothing with
the card's question, which is what the overlap check catches. Asked in a Chinese
interview, it also answered "The answer to this question is:" and stopped at the line
break: English, and a preamble rather than a question, so the candidate never saw the
question. Hence the language and trailing-colon checks.
"""

from __future__ import annotations

from coach.common.text import overlap
from coach.index.tokenize import has_cjk

_PREAMBLE_END = (":", "：")


def usable_question(
    phrased: str,
    *,
    source: str,
    max_chars: int,
    min_overlap: float,
    language: str,
    must_mention: str | None = None,
) -> bool:
    """Short, in the interview's language (Chinese must contain Chinese), not a preamble
    that ends in a colon, a question about the same thing (checked when both texts are
    Chinese: a translation shares no characters), and naming ``must_mention`` when given."""
    if not phrased or len(phrased) > max_chars or phrased.endswith(_PREAMBLE_END):
        return False
    if language == "zh" and not has_cjk(phrased):
        return False
    same_script = has_cjk(source) and has_cjk(phrased)
    if same_script and overlap(source, phrased) < min_overlap:
        return False
    return not (must_mention and has_cjk(phrased) and must_mention not in phrased)
