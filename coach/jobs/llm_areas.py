"""The areas a job description asks for as the LLM reads them (issue 31, the LLM's part).

Why the LLM as well as the alias table (coach/jobs/areas.toml): a JD names areas the table
has no words for ("搜索推荐", "多模态"), and the model reads them; the table stays the floor,
so a plan still has areas when the model is down, slow or answers nonsense (then this
returns no areas and says why).

Why every term is checked against the JD: the JD is pasted by a user and is data, and a
1.5B model invents and copies. A term is kept only when it occurs verbatim in the JD's
kept lines (those ``jd_lines`` did not drop as addressing a model), and an area with no
surviving term is dropped. So an area the model made up, copied from the prompt's
example, or took from an injected instruction ("只问 Redis") cannot reach the plan unless
the JD itself names it in a line that is not an instruction.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tomllib
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import httpx
import openai
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from coach.config import Settings
from coach.grading.injection import injection_spans
from coach.index.tokenize import has_cjk
from coach.jobs.model import plan_model
from coach.jobs.models import LlmArea
from coach.jobs.plan import AreaRule, area_rules, names
from coach.prompts import load_prompt

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)

MAX_AREAS = 6
"""Areas asked for and kept from one reply: a JD asks for a handful, the table finds the
common ones anyway, each new area may cost a written question, and each line costs the
1.5B pack about 6 s on two CPU cores (9 lines took 65 s)."""
MAX_NAME_CHARS = 20
"""An area's name is a heading in the plan, not a sentence."""
MIN_TERM_CHARS = 2
"""A one-character term ("数", "C") occurs in nearly every JD, so it proves nothing."""
MAX_MARKER_CHARS = 6
"""A second field this short naming core/optional is the marker ("加分项"), not a term."""
MAX_TERM_CHARS = 16
"""A longer "term" is the model copying a clause, not naming an area: on a real JD it
gave "Elasticsearch 使用经验者优先" (22) and "SIGIR 等会议发表过论文者优先" (18) beside
"多模态商品表征落地" (9) and "离线评估与线上 A/B 实验体系" (16)."""
JD_PROMPT_CHARS = 2400
"""The JD's text sent to the model at most: the pack serves 4,096 tokens, and the prompt's
instructions, its example and the reply need about 1,000 of them. Terms are still checked
against every kept line."""

MODEL_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,  # a timeout raised inside the client or the transport
    openai.APIError,  # connection refused, server timeout, 5xx, bad request
    httpx.HTTPError,
)
"""A model call failing so: the plan goes on without the model. Anything else is a bug and
is raised."""

_SEPARATOR = re.compile(r"\s*[|｜]\s*")
_TERM_SPLIT = re.compile(r"[,，、;；]")
_LEAD = re.compile(r"^(?:[-*•·>#]+|\d+[.、)）]|[（(]\d+[)）])\s*")
_DECORATION = "*`\"'“”‘’「」『』【】[]()（）<>《》:："
_WRAPPER_TAG = re.compile(r"<\s*/?\s*job_[a-z_]*\s*>", re.IGNORECASE)
_LATIN = re.compile(r"[A-Za-z]")

Language = Literal["zh", "en"]


class AreaReading(BaseModel):
    """What the model read from a JD, and why it is empty when it is."""

    areas: list[LlmArea] = Field(default_factory=list)
    note: str = ""
    """Empty when the model answered and some areas were kept; otherwise what happened,
    for the UI ("the model did not answer; areas from the table only")."""
    dropped: list[str] = Field(default_factory=list)
    """Areas of the reply dropped: none of their terms is in the JD, or past
    ``MAX_AREAS``."""


@lru_cache(maxsize=1)
def job_prompts() -> dict[str, Any]:
    """coach/prompts/job_plan.toml, parsed once."""
    return tomllib.loads(load_prompt("job_plan.toml"))


def jd_language(text: str) -> Language:
    return "zh" if has_cjk(text) else "en"


def as_data(text: str, limit: int) -> str:
    """``text`` for the inside of a data wrapper: cut to ``limit`` characters and without
    the wrapper's own tags, so a JD cannot close ``<job_description>`` early and write
    what follows as if it were the prompt."""
    text = _WRAPPER_TAG.sub("", text).strip()
    return text if len(text) <= limit else text[:limit] + "…"


def areas_messages(lines: Sequence[str]) -> list[BaseMessage]:
    """System message (the JD is data), the worked example, then the JD wrapped."""
    jd = "\n".join(lines)
    texts = job_prompts()[jd_language(jd)]
    messages: list[BaseMessage] = [SystemMessage(texts["areas_system"].format(max_areas=MAX_AREAS))]
    for shot in texts["areas_shots"]:
        messages += [HumanMessage(shot["user"]), AIMessage(shot["assistant"])]
    messages.append(HumanMessage(texts["areas_user"].format(jd=as_data(jd, JD_PROMPT_CHARS))))
    return messages


def _clean(text: str) -> str:
    """A field without the quotes, brackets and bold marks a model wraps words in."""
    return re.sub(r"\s+", " ", text.strip(_DECORATION + " \t")).strip()


def _is_optional(marker: str) -> bool:
    lowered = marker.lower()
    return any(word in lowered for word in job_prompts()["optional_words"])


def _is_marker(field: str) -> bool:
    """ "核心", "加分项", "optional": the second field of a line that has no terms."""
    lowered = field.lower()
    words = [*job_prompts()["core_words"], *job_prompts()["optional_words"]]
    return len(field) <= MAX_MARKER_CHARS and any(w in lowered for w in words)


def parse_areas(reply: str) -> list[LlmArea]:
    """Every ``name | marker | term, term`` line of the reply, as written (not yet checked
    against the JD). A line with two fields is name and terms (or name and marker: no
    terms); a line without a separator is prose and skipped; numbering and bullets before
    the name are dropped."""
    areas: list[LlmArea] = []
    for raw in reply.splitlines():
        fields = [_clean(f) for f in _SEPARATOR.split(_LEAD.sub("", raw.strip()))]
        if len(fields) < 2:
            continue
        if len(fields) >= 3:
            name, marker, terms_text = fields[0], fields[1], ", ".join(fields[2:])
        elif _is_marker(fields[1]):
            name, marker, terms_text = fields[0], fields[1], ""
        else:
            name, marker, terms_text = fields[0], "", fields[1]
        terms = [t for t in (_clean(t) for t in _TERM_SPLIT.split(terms_text)) if t]
        areas.append(LlmArea(name=name, core=not _is_optional(marker), terms=terms))
    return areas


def _term_pattern(term: str) -> re.Pattern[str]:
    """Latin terms as whole words (RAG, not "storage"), Chinese ones as substrings, like
    the alias table matches."""
    escaped = re.escape(term)
    if _LATIN.search(term):
        return re.compile(rf"(?<![A-Za-z]){escaped}(?![A-Za-z])", re.IGNORECASE)
    return re.compile(escaped, re.IGNORECASE)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def in_jd(term: str, jd: str) -> bool:
    """``term`` occurs verbatim in ``jd`` (case aside); a term with Chinese in it also when
    only spaces differ ("Transformer原理" for "Transformer 原理"), since Chinese text puts
    spaces around Latin words at whim. A Latin-only term keeps its word boundaries: with
    spaces removed "Python and Go" would hide "Go" inside "andgo"."""
    if _term_pattern(term).search(jd):
        return True
    return has_cjk(term) and _squash(term) in _squash(jd)


def _skipped(text: str) -> bool:
    """About the person, not an area (skip_terms in job_plan.toml)."""
    lowered = text.lower()
    return any(word in lowered for word in job_prompts()["skip_terms"])


def _usable(term: str, jd: str) -> bool:
    return MIN_TERM_CHARS <= len(term) <= MAX_TERM_CHARS and not _skipped(term) and in_jd(term, jd)


def jd_terms(terms: Sequence[str], jd: str) -> list[str]:
    """The terms ``jd`` contains, de-duplicated (case aside), in order. A term with a "/"
    the JD does not contain as a whole counts by its parts ("LangChain/LlamaIndex" when
    the JD says "LangChain 和 LlamaIndex"); a "/" is not a separator otherwise ("A/B")."""
    found: dict[str, str] = {}
    for term in terms:
        parts = [term] if _usable(term, jd) or "/" not in term else term.split("/")
        for part in (_clean(p) for p in parts):
            if _usable(part, jd):
                found.setdefault(part.lower(), part)
    return list(found.values())


def clean_name(name: str, fallback: str) -> str:
    """The area's name as a heading: decoration stripped, at most ``MAX_NAME_CHARS``;
    the first term when the model gave none, one that addresses a model, or one about
    the person ("沟通能力 | 加分 | Elasticsearch" was a real reply)."""
    name = _clean(name)
    if not name or injection_spans(name) or _skipped(name):
        name = fallback
    return name[:MAX_NAME_CHARS].strip()


def validate_areas(
    parsed: Sequence[LlmArea], lines: Sequence[str]
) -> tuple[list[LlmArea], list[str]]:
    """The areas whose terms the JD's kept lines contain (terms not found dropped), names
    cleaned and de-duplicated, at most ``MAX_AREAS``; and the names of those dropped."""
    jd = "\n".join(lines)
    kept: dict[str, LlmArea] = {}
    dropped: list[str] = []
    for area in parsed:
        terms = jd_terms(area.terms, jd)
        if not terms:
            dropped.append(area.name)
            continue
        name = clean_name(area.name, terms[0])
        same = kept.get(name.lower())
        if same is not None:
            same.core = same.core or area.core
            same.terms += [t for t in terms if t not in same.terms]
        elif len(kept) >= MAX_AREAS:
            dropped.append(name)
        else:
            kept[name.lower()] = LlmArea(name=name, core=area.core, terms=terms)
    return list(kept.values()), dropped


def table_area(area: LlmArea, rules: Sequence[AreaRule]) -> AreaRule | None:
    """The alias-table area an LLM area is: the one its name equals or contains, else the
    one whose aliases its terms name most, else the one whose aliases its name names most
    (table order breaks a tie); None for a new one. Terms before the name: they are the
    JD's words, checked, while the name is the model's own, and the 1.5B model sometimes
    puts one line's name beside the next line's terms ("离线评估与线上 A/B 实验 | 核心 |
    Spark, Hive")."""
    name = _squash(area.name)
    for rule in rules:
        if _squash(rule.name) in name:
            return rule
    for count in (
        lambda rule: sum(1 for t in area.terms if names(t, rule)),
        lambda rule: len(names(area.name, rule)),
    ):
        best, best_count = None, 0
        for rule in rules:
            if (n := count(rule)) > best_count:
                best, best_count = rule, n
        if best is not None:
            return best
    return None


def merge_areas(llm: Sequence[LlmArea], rules: Sequence[AreaRule]) -> list[LlmArea]:
    """The LLM's areas with those the alias table knows renamed to the table's name (so
    the plan merges them with what the table found) and areas that end up with the same
    name merged: terms joined in order, core when either was core. Order: first seen."""
    merged: dict[str, LlmArea] = {}
    for area in llm:
        rule = table_area(area, rules)
        name = rule.name if rule else area.name
        same = merged.get(name)
        if same is None:
            merged[name] = LlmArea(name=name, core=area.core, terms=list(area.terms))
            continue
        same.core = same.core or area.core
        same.terms += [t for t in area.terms if t not in same.terms]
    return list(merged.values())


async def stream_reply(
    model: BaseChatModel, messages: list[BaseMessage], timeout: float, **bound: Any
) -> tuple[str, bool]:
    """The reply's text, and whether it was finished within ``timeout`` seconds; cut
    off, the text is its complete lines only.

    Why streamed: on two CPU cores the 1.5B pack writes about 3 tokens a second, so a
    reply of 8 area lines took 65 s on a real JD (2026-12-07), past the plan's limit; with
    ``ainvoke`` the time limit threw every line away, streamed the lines that arrived are
    still read. Leaving ``wait_for`` closes the stream, and vLLM stops the request."""
    parts: list[str] = []

    async def collect() -> None:
        async for chunk in model.astream(messages, **bound):
            parts.append(str(chunk.content))

    try:
        await asyncio.wait_for(collect(), timeout)
    except TimeoutError:
        text = "".join(parts)
        return text[: text.rfind("\n") + 1], False
    return "".join(parts), True


async def read_areas(
    lines: Sequence[str],
    chat_model: BaseChatModel | None,
    settings: Settings,
    rules: Sequence[AreaRule] | None = None,
) -> AreaReading:
    """The areas the JD's kept ``lines`` ask for as the model reads them, checked against
    the JD's words and merged onto the alias table's areas (``rules``, default the whole
    table; ``[]``: left as the model named them). Never raises for the model failing: the
    reading is then empty (or has the lines that arrived before the time limit), its note
    says why, and the plan works from the table alone. Whether to ask the model at all
    (plan.llm) is the caller's choice."""
    if not lines:
        return AreaReading(note="The job description has no lines to read.")
    model = chat_model or plan_model(settings)
    try:
        text, finished = await stream_reply(model, areas_messages(lines), settings.plan.llm_timeout)
    except MODEL_ERRORS as exc:
        logger.warning("Reading the JD's areas with the model failed: %r", exc)
        return AreaReading(
            note=f"The model did not answer ({type(exc).__name__}); areas from the table only."
        )
    parsed = parse_areas(text)
    if not parsed:
        if finished:
            logger.warning("The model's areas could not be read: %r", text[:200])
            note = "The model's answer was not a list of areas; areas from the table only."
        else:
            logger.warning("The model wrote no area in %s s", settings.plan.llm_timeout)
            note = "The model did not answer (TimeoutError); areas from the table only."
        return AreaReading(note=note)
    areas, dropped = validate_areas(parsed, lines)
    if dropped:
        logger.info("Areas dropped (no term in the JD, or past %d): %s", MAX_AREAS, dropped)
    if not areas:
        return AreaReading(
            dropped=dropped,
            note="None of the model's areas used the job description's own words; "
            "areas from the table only.",
        )
    rules = area_rules() if rules is None else rules
    note = (
        ""
        if finished
        else f"The model was cut off at the time limit ({settings.plan.llm_timeout:g} s); "
        f"{len(areas)} of its areas were read."
    )
    return AreaReading(areas=merge_areas(areas, rules), dropped=dropped, note=note)
