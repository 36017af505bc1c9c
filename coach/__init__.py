"""coach: a self-hosted interview coach that grades answers against a question bank.

Logging: every module logs to ``coach.<module>`` (``logging.getLogger(__name__)``), all
children of the ``coach`` logger, mainly where it falls back (the model server down, a
reply that is no verdict, a retry). The library configures no handler but a
``NullHandler``, so nothing is printed unless the application (the CLI, a test, a user's
script) adds a handler: without it Python's last-resort handler would print those
warnings on stderr, next to output that a script may parse.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
