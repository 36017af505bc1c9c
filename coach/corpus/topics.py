"""Topic tags, so an interview can keep to one track (训练优化, 评估, …).

The keyword table tags the seed documents it was written for; every other file keeps
the topic its own structure gives (``coach.corpus.parser.structural_topic``), so a
user's sections ("分布式训练", "强化学习") become interview directions.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources

from pydantic import BaseModel

DEFAULT_TOPIC = "综合"


class Topic(BaseModel):
    name: str
    keywords: list[str]


@lru_cache(maxsize=1)
def _table() -> dict:
    text = resources.files("coach.corpus").joinpath("topics.toml").read_text("utf-8")
    return tomllib.loads(text)


def load_topics() -> tuple[Topic, ...]:
    return tuple(Topic(**entry) for entry in _table()["topic"])


def is_seed(file: str) -> bool:
    """Whether ``file`` (as cited in a source span) is a seed document the table tags."""
    return file in set(_table().get("seed_files", []))


def tag(title: str, body: str = "") -> str:
    """The best-matching topic; the title counts three times as much as the body."""
    best, best_score = DEFAULT_TOPIC, 0.0
    for topic in load_topics():
        score = sum(3 * (k in title) + (k in body) for k in topic.keywords)
        if score > best_score:
            best, best_score = topic.name, score
    return best


def topic_names() -> list[str]:
    return [t.name for t in load_topics()]
