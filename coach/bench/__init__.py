"""Speed benchmarks (figures, never pass/fail), each beside a baseline from the same run.

Why one package: every benchmark lives here, whatever it times, so ``coach bench`` has
one library to call and a new benchmark has one obvious place to go.

- ``index``: ingest against a bare encode, search latency per retriever;
- ``grade``: batch grading against a bare loop and against direct server load;
- ``interview``: what a candidate waits for in a mock interview;
- ``serve``: per LLM pack, disk, memory, start-up and tokens/s of a private vLLM server;
- ``suite``: all of them in turn, as one table (``coach bench``).
"""
