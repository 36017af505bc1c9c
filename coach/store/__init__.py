"""Interview history in SQLite: every question, answer and grade, and review due dates."""
