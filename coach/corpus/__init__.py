"""Parsing the question banks and articles into cards and chunks."""
