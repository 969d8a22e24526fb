"""Quality flags stored with every reading, as a bit set (0 is a good reading).

A reading is never dropped for its quality: the flag travels with it so that roll-ups,
series and auditors can see what the collector saw.
"""

from __future__ import annotations

from enum import IntFlag


class Quality(IntFlag):
    GOOD = 0
    OUT_OF_RANGE = 1
    COUNTER_WRAP = 2
    COUNTER_RESET = 4
    GLITCH = 8
    SPIKE = 16
    STUCK = 32
    FUTURE_TIMESTAMP = 64
    STALE_TIMESTAMP = 128
    ESTIMATED = 256


#: Flags of a reading that never became its point's baseline (collector/validation.py): the
#: ledger and the hourly statistics leave such readings out. Migration 0004 spells it 89.
REJECTED = Quality.OUT_OF_RANGE | Quality.GLITCH | Quality.SPIKE | Quality.FUTURE_TIMESTAMP
BREAKS = Quality.COUNTER_WRAP | Quality.COUNTER_RESET


def quality_names(flags: int) -> list[str]:
    """Names of the flags set in ``flags``; ``["good"]`` for none."""
    if flags == 0:
        return ["good"]
    return [flag.name.lower() for flag in Quality if flag and flags & flag and flag.name]
