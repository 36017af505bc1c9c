"""Topic tags, so an interview can keep to one track (训练优化, 评估, …)."""

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
def load_topics() -> tuple[Topic, ...]:
    text = resources.files("coach.corpus").joinpath("topics.toml").read_text("utf-8")
    return tuple(Topic(**entry) for entry in tomllib.loads(text)["topic"])


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
