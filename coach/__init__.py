"""coach: a self-hosted interview coach that grades answers against a question bank."""

__version__ = "0.1.0"
