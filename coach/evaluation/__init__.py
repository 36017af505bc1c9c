"""Quality measurements over the sets in eval/ (numbers, never pass/fail)."""
