"""The readings the ingest benchmark sends: one definition for the publisher and the ceiling.

Messages are meterledger JSON batches (the format's array form), each one meter's
``sets`` consecutive seconds of ``points`` gauges, so a message carries
``sets * points`` readings. Timestamps lie in the recent past, where the collector's
validator passes them (neither in the future nor stale), and are distinct per meter, so
every reading is a new row.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from store.readings import Reading

ReadingSet = tuple[int, dict[str, float]]  # Unix seconds, values by point


@dataclass(frozen=True, slots=True)
class Load:
    """``messages`` messages over ``meters`` meters, starting at Unix second ``start``."""

    start: int
    meters: int = 20
    points: int = 10
    sets: int = 10
    messages: int = 3000

    @classmethod
    def recent(cls) -> Load:
        """The default load, its last readings a minute old: valid, neither future nor stale."""
        span = cls(start=0).seconds
        return cls(start=int(time.time()) - span - 60)

    @property
    def readings_per_message(self) -> int:
        return self.sets * self.points

    @property
    def total(self) -> int:
        return self.messages * self.readings_per_message

    @property
    def seconds(self) -> int:
        """How many seconds of readings each meter's messages span."""
        return math.ceil(self.messages / self.meters) * self.sets

    def meter_keys(self) -> list[str]:
        return [f"load-{n:02d}" for n in range(self.meters)]

    def point_keys(self) -> list[str]:
        return [f"p{n:02d}" for n in range(self.points)]

    def message(self, index: int) -> tuple[str, list[ReadingSet]]:
        """The meter and reading sets of message ``index``."""
        meter = self.meter_keys()[index % self.meters]
        first = self.start + (index // self.meters) * self.sets
        return meter, [(first + k, self._values(index + k)) for k in range(self.sets)]

    def _values(self, seed: int) -> dict[str, float]:
        """Gauges that differ by point and instant, so nothing compresses to a constant."""
        return {p: round(50 + 40 * math.sin(seed + j), 3) for j, p in enumerate(self.point_keys())}

    def readings(self, point_ids: Mapping[tuple[str, str], int]) -> list[Reading]:
        """Every reading of the load as a row, for the COPY ceiling."""
        rows = []
        for index in range(self.messages):
            meter, sets = self.message(index)
            for second, values in sets:
                ts = datetime.fromtimestamp(second, UTC)
                rows += [Reading(point_ids[(meter, p)], ts, v) for p, v in values.items()]
        return rows


def payload(sets: list[ReadingSet]) -> bytes:
    """A meterledger JSON batch, with ISO 8601 timestamps as gateways send them."""
    return orjson.dumps(
        [{"ts": datetime.fromtimestamp(s, UTC).isoformat(), "values": v} for s, v in sets]
    )
