"""Embedding, storage and retrieval of the corpus (Chroma + BM25, fused)."""
