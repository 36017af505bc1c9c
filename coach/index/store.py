"""The Chroma side: an embedded on-disk store by default, a Chroma server on request.

Embeddings are always computed by coach (with the right query/passage prompts), never
by Chroma's default embedding function, which would try to download a model.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any
from urllib.parse import urlparse

from coach.config import Settings

logger = logging.getLogger(__name__)


class StoreError(RuntimeError):
    """The vector store cannot be used; the message says what to do."""


def _client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma.url:
        url = urlparse(settings.chroma.url)
        if not url.hostname:
            raise StoreError(
                f"COACH_CHROMA_URL={settings.chroma.url!r} is not a URL; "
                "use e.g. http://127.0.0.1:8001"
            )
        try:
            client = chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:  # chromadb raises several kinds here
            raise StoreError(
                f"Cannot reach the Chroma server at {settings.chroma.url} ({exc}). Start it "
                f"with `chroma run --path DIR --host {url.hostname} --port {url.port}`, or "
                "unset COACH_CHROMA_URL to use the embedded on-disk store."
            ) from exc
        return client
    settings.paths.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.paths.chroma_dir), settings=chroma_settings)


def open_collection(settings: Settings, embedding_model: str, create: bool = True) -> Any:
    """The collection, checked to hold vectors from ``embedding_model``.

    Vectors from two models are not comparable, so a mismatch is an error that says
    how to rebuild rather than a silent mix.
    """
    client = _client(settings)
    name = settings.chroma.collection
    if create:
        collection = client.get_or_create_collection(
            name,
            metadata={"hnsw:space": "cosine", "embedding_model": embedding_model},
            embedding_function=None,
        )
    else:
        try:
            collection = client.get_collection(name, embedding_function=None)
        except Exception as exc:
            raise StoreError(
                f"No Chroma collection {name!r} yet: run `coach ingest` first."
            ) from exc
    stored = (collection.metadata or {}).get("embedding_model")
    if stored and stored != embedding_model:
        raise StoreError(
            f"The index was built with embedding model {stored!r} but COACH_EMBEDDING_MODEL "
            f"is {embedding_model!r}. Run `coach ingest --rebuild` to re-embed everything."
        )
    return collection


def drop_collection(settings: Settings) -> None:
    client = _client(settings)
    with contextlib.suppress(Exception):  # absent already: nothing to drop
        client.delete_collection(settings.chroma.collection)


def stored_hashes(collection: Any) -> dict[str, str]:
    """Record id -> content hash of everything in the collection."""
    got = collection.get(include=["metadatas"])
    return {i: (m or {}).get("hash", "") for i, m in zip(got["ids"], got["metadatas"], strict=True)}


def peek_hashes(settings: Settings) -> dict[str, str]:
    """Record id -> content hash of the stored collection, or {} when there is none.

    Unlike ``open_collection`` this neither creates the collection nor checks its
    embedding model: ``coach ingest --rebuild`` reads what it is about to replace, which
    may well come from another model.
    """
    client = _client(settings)
    try:
        collection = client.get_collection(settings.chroma.collection, embedding_function=None)
    except Exception as exc:  # chromadb raises several kinds for a missing collection
        logger.debug("no stored collection to read hashes from (%s)", exc)
        return {}
    return stored_hashes(collection)
