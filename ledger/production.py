"""A month's production output per line: from the MES counter, or as entered.

Rule: **an entered figure wins over the counter.** The counter (a line's output published
over MQTT) counts what passed the filler; the entered figure is the month's reconciled
output someone signs for (after rejects, rework and the stock count), so it is the one
intensities should divide by. When both exist and differ, a
``PRODUCTION_ENTRY_OVERRIDES_COUNTER`` finding shows both; where only one exists, it is
used. A line has at most one live entry per month (the store enforces it; a correction
voids the old one), so the latest entry is the one to use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ledger.findings import Finding
from ledger.ports import ProductionRecord

COUNTER = "counter"
ENTRY = "entry"


@dataclass(frozen=True, slots=True)
class Output:
    """A line's output in tonnes for the month, with both sources when there are two."""

    line: str
    tonnes: Decimal
    source: str  # "counter" or "entry"
    counter: Decimal | None
    entry: Decimal | None
    entry_id: int | None
    entry_source: str | None  # what the entry says its figure comes from


def outputs(
    counters: Mapping[str, Decimal], entries: Sequence[ProductionRecord]
) -> tuple[tuple[Output, ...], tuple[Finding, ...]]:
    """Each line's output: ``counters`` by line (tonnes), entries for the month."""
    latest: dict[str, ProductionRecord] = {}
    for entry in sorted(entries, key=lambda e: (e.entered_at, e.id)):
        latest[entry.line] = entry
    found: list[Output] = []
    findings: list[Finding] = []
    for line in sorted(counters.keys() | latest.keys()):
        counted, entered = counters.get(line), latest.get(line)
        if entered is None:
            assert counted is not None
            found.append(Output(line, counted, COUNTER, counted, None, None, None))
            continue
        found.append(
            Output(line, entered.tonnes, ENTRY, counted, entered.tonnes, entered.id, entered.source)
        )
        if counted is not None and counted != entered.tonnes:
            detail = (
                f"entered {entered.tonnes} t ({entered.source}, entry {entered.id}) is used; "
                f"the counter reads {counted} t"
            )
            findings.append(
                Finding("PRODUCTION_ENTRY_OVERRIDES_COUNTER", line, detail, "production")
            )
    return tuple(found), tuple(findings)
