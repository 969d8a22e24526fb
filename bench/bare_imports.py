"""A process that only imports what the collector imports: the memory ceiling.

    python -m bench.bare_imports

Imports every module that ``collector/`` and ``store/`` name in an import statement,
except meterledger's own, prints ``ready``, and waits for its stdin to close. The list is
read from the source (as tests/unit/test_import_rules.py reads it), so it follows the
code: a library the collector starts to use raises the ceiling with it.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("collector", "store")
OURS = {"meterledger", "collector", "store", "ledger", "api", "simulators", "bench"}


def libraries() -> list[str]:
    """Modules named by the collector's and the store's import statements, not ours."""
    found: set[str] = set()
    for part in PARTS:
        for path in sorted((ROOT / part).rglob("*.py")):
            found |= _imported(path)
    return sorted(name for name in found if name.split(".")[0] not in OURS)


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def main() -> None:
    for name in libraries():
        # An optional extra that is not installed is not loaded by the collector either.
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    print("ready", flush=True)
    sys.stdin.buffer.read()


if __name__ == "__main__":
    main()
