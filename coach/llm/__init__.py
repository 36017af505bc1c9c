"""Talking to language models: the OpenAI-compatible client, LLM packs, the vLLM launcher."""
