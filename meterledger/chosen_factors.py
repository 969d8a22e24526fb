"""Imported factor sets the plant file chooses, read from the store when the system starts.

The plant file names a shipped set by its name (``cn-mee-grid``) and an imported one by
name and version (``ledger.electricity_factors: "acme-grid@2026.1"``): an admin imports
the CSV through ``POST /api/v1/factor-sets`` (stored as checked, never replaced), and the
next start of ``meterledger run``/``serve``/``ledger`` computes with it. Its text is
parsed by the same reader as the shipped files, so the set in use is the set that was
checked, and its records cite ``name@version`` like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.factors import FactorSet
from ledger.factorsets import parse_factor_set
from meterledger.errors import ConfigError
from store.factor_sets import stored_sets
from store.transaction import Connections

if TYPE_CHECKING:
    from meterledger.books import LedgerConfig

#: The ledger section's fields that name a factor set.
FACTOR_FIELDS = ("electricity_factors", "fuel_factors", "heat_factors", "freight_factors")


def is_imported(choice: str) -> bool:
    """Whether a plant file's factor-set choice names an imported set (``name@version``)."""
    return "@" in choice


async def imported_sets(pool: Connections, ledger: LedgerConfig) -> dict[str, FactorSet]:
    """The imported sets ``ledger`` (the plant file's ledger section) chooses, by choice.

    Raise ConfigError naming the field and the value for a set that was never imported.
    """
    found: dict[str, FactorSet] = {}
    for field in FACTOR_FIELDS:
        choice: str = getattr(ledger, field)
        if not is_imported(choice) or choice in found:
            continue
        name, _, version = choice.partition("@")
        stored = await stored_sets(pool, name=name, version=version)
        if not stored:
            known = sorted(f"{s.name}@{s.version}" for s in await stored_sets(pool))
            raise ConfigError(
                "plant file",
                f"ledger.{field}",
                f"no imported factor set {choice!r} in the database; imported: {known}",
            )
        found[choice] = parse_factor_set(stored[0].csv, choice)
    return found
