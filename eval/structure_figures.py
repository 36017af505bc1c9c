"""Structure figures for a refactoring's before/after: modules over 400 lines and the
longest functions of the package (read with ``ast``; nothing is imported or run).

    python eval/structure_figures.py [coach]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

BIG_MODULE_LINES = 400
SHOWN_FUNCTIONS = 6


def main(root: Path) -> None:
    big: list[tuple[int, str]] = []
    functions: list[tuple[int, str]] = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > BIG_MODULE_LINES:
            big.append((lines, str(path)))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                functions.append((size, f"{path}:{node.name}"))
    print(f"modules over {BIG_MODULE_LINES} lines: {len(big)}")
    for lines, name in sorted(big, reverse=True):
        print(f"  {lines:5d} {name}")
    print("longest functions:")
    for size, name in sorted(functions, reverse=True)[:SHOWN_FUNCTIONS]:
        print(f"  {size:5d} {name}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "coach"))
