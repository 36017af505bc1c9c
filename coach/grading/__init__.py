"""Grading: the rubric (no LLM), the LLM judge, and how their signals combine."""
