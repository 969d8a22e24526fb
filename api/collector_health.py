"""The collector's health per device, read from the Prometheus registry it reports to.

`meterledger run` hands the collector and the API one registry, so the API can show the
same counts `/metrics` exposes without the page scraping and parsing Prometheus text.
The metric names are the collector's (`collector/metrics.py`); a collector running in
another process reports nothing here, and the answer says so (``reporting`` False).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

ERRORS = "meterledger_device_errors_total"
LAST_SUCCESS = "meterledger_device_last_success_timestamp_seconds"
DEVICE_POLL_SUM = "meterledger_device_poll_seconds_sum"
DEVICE_POLL_COUNT = "meterledger_device_poll_seconds_count"


@dataclass
class CollectorHealth:
    """Per meter: its source, failed polls, last success and mean poll seconds."""

    reporting: bool = False
    source: dict[str, str] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    last_success: dict[str, datetime] = field(default_factory=dict)
    poll_mean: dict[str, float] = field(default_factory=dict)


def collector_health(registry: CollectorRegistry) -> CollectorHealth:
    """What the registry holds now; empty (not reporting) when no collector registered."""
    health = CollectorHealth()
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for family in registry.collect():
        for sample in family.samples:
            labels, value = sample.labels, sample.value
            if sample.name == ERRORS:
                health.reporting = True
                health.source[labels["meter"]] = labels["source"]
                health.errors[labels["meter"]] = int(value)
            elif sample.name == LAST_SUCCESS:
                health.reporting = True
                health.source[labels["meter"]] = labels["source"]
                if value > 0:  # the gauge exists from the poller's start, at 0 until a success
                    health.last_success[labels["meter"]] = datetime.fromtimestamp(value, UTC)
            elif sample.name == DEVICE_POLL_SUM:
                health.reporting = True
                sums[labels["meter"]] = value
            elif sample.name == DEVICE_POLL_COUNT:
                counts[labels["meter"]] = value
    health.poll_mean = {m: sums[m] / n for m, n in counts.items() if n and m in sums}
    return health
