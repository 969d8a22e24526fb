"""The import rules of DESIGN.md, checked on the source so they cannot erode."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("collector", "store", "ledger", "api", "simulators")
DRIVERS = (
    "psycopg",
    "psycopg_pool",
    "fastapi",
    "starlette",
    "paho",
    "pymodbus",
    "apscheduler",
    "uvicorn",
    "sqlite3",
)

# What each part may import from meterledger's own packages.
ALLOWED = {
    "ledger": {"ledger", "meterledger.errors"},
    # store implements the ledger's ports, so it knows their types (and nothing else of it)
    "store": {
        "store",
        "meterledger.errors",
        "ledger.ports",
        "ledger.periods",
        "ledger.closing",
        "ledger.statements",
    },
    "collector": {"collector", "store", "meterledger.errors"},
    "api": {"api", "store", "ledger", "meterledger.errors"},
    "simulators": {"simulators", "collector.register_map", "collector.decoding"},
}
OURS = (*PARTS, "meterledger")


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def allowed(name: str, rules: set[str]) -> bool:
    return any(name == rule or name.startswith(rule + ".") for rule in rules)


@pytest.mark.parametrize("part", PARTS)
def test_part_imports_only_what_the_design_allows(part: str) -> None:
    bad = []
    for path in sorted((ROOT / part).rglob("*.py")):
        for name in imports(path):
            if name.split(".")[0] in OURS and not allowed(name, ALLOWED[part]):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad


def test_ledger_imports_no_driver_or_framework() -> None:
    bad = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "ledger").rglob("*.py"))
        for name in imports(path)
        if name.split(".")[0] in DRIVERS
    ]
    assert not bad


def test_rule_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "x.py"
    module.write_text("from store.readings import Reading\nimport psycopg\n")
    names = imports(module)
    assert not allowed(names[0], ALLOWED["ledger"])
    assert names[1].split(".")[0] in DRIVERS
