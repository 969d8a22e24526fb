"""Prometheus metrics of the collector, registered on a registry the root hands in."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary


class CollectorMetrics:
    """Counts per source and device; one instance per collector."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.readings_in = Counter(
            "meterledger_readings_received",
            "Readings decoded from a source",
            ["source"],
            registry=registry,
        )
        self.readings_written = Counter(
            "meterledger_readings_written",
            "Readings committed to the database (new rows only)",
            registry=registry,
        )
        self.payloads_rejected = Counter(
            "meterledger_payloads_rejected",
            "MQTT payloads that could not be decoded",
            ["source"],
            registry=registry,
        )
        self.device_errors = Counter(
            "meterledger_device_errors",
            "Modbus polls that failed",
            ["source", "meter"],
            registry=registry,
        )
        self.poll_seconds = Histogram(
            "meterledger_poll_seconds",
            "Time to poll one Modbus device",
            ["source"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=registry,
        )
        # Per device only sum and count (a Summary without quantiles): two series a device
        # where a histogram would cost twelve, for the dashboard's mean poll latency.
        self.device_poll_seconds = Summary(
            "meterledger_device_poll_seconds",
            "Time to poll one Modbus device, per device",
            ["source", "meter"],
            registry=registry,
        )
        self.last_success = Gauge(
            "meterledger_device_last_success_timestamp_seconds",
            "Unix time of the last successful poll",
            ["source", "meter"],
            registry=registry,
        )
        self.spool_depth = Gauge(
            "meterledger_spool_depth", "Readings waiting in the spool", registry=registry
        )
        self.write_errors = Counter(
            "meterledger_write_errors", "Failed database batch writes", registry=registry
        )
        self.meter_events = Counter(
            "meterledger_meter_events_noted",
            "Counter replacements and resets recorded while running, taken up by validators",
            registry=registry,
        )
