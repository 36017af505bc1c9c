"""Batch grading: a file of written answers in, one graded row per answer out.

``run.run_batch`` is the entry point; reading, the resume journal, export and the HTML
report each live in their own module so each can be tested (and replaced) alone.
"""
