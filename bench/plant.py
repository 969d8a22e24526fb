"""The plant files the benchmarks run: simulated SDM630s behind gateways, and MQTT meters.

A benchmark's plant is generated, written as a plant file into the run's scratch folder
and loaded with `load_config`, exactly as `meterledger` loads one. So the collector under
measurement is configured and wired by the product's own composition root, and the
simulators are run by ``meterledger simulate`` from the same file, never re-assembled
here from internals that may change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from collector.readplan import Block, plan_reads
from collector.register_map import load_register_map
from meterledger.config import PlantConfig, load_config
from meterledger.embedded import free_port

SDM630 = "eastron_sdm630"
SITE = "bench"

# A typical billing-and-monitoring poll: both energy counters, total power, one phase's
# voltage and current, and the frequency. On an SDM630 these are four reads, because the
# map's undocumented gaps are not read across (collector/registermaps/eastron_sdm630.yaml).
POINTS: tuple[str, ...] = (
    "import_energy",
    "export_energy",
    "total_power",
    "phase_1_voltage",
    "phase_1_current",
    "frequency",
)

Plant = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Gateway:
    """A simulated Modbus TCP gateway: a loopback port and the unit ids behind it."""

    name: str
    port: int
    units: range

    def meter(self, unit: int) -> str:
        return f"{self.name}-{unit:03d}"


def free_gateways(prefix: str, count: int, meters_each: int) -> list[Gateway]:
    """``count`` gateways on free ports, each with units 1..meters_each (one RS-485 bus each)."""
    return [
        Gateway(f"{prefix}{n}", free_port(), range(1, meters_each + 1)) for n in range(1, count + 1)
    ]


def sdm630_plant(gateways: Sequence[Gateway], *, interval: float, spool: Path) -> Plant:
    """SDM630s at every unit of every gateway, simulated and polled for the POINTS."""
    meters = [g.meter(u) for g in gateways for u in g.units]
    return {
        "sites": [_site(meters, _sdm630_points())],
        "sources": {"modbus": [_gateway_source(g, interval) for g in gateways]},
        "collector": {"spool": str(spool)},
        "simulation": {
            "meters": {
                meter: {"model": "electricity", "base": 20, "peak": 80, "seed": seed}
                for seed, meter in enumerate(meters)
            }
        },
    }


def mqtt_plant(
    meters: Sequence[str], points: Sequence[str], *, topic: str, spool: Path, client_id: str
) -> Plant:
    """Meters publishing gauges in the meterledger JSON format on ``topic``."""
    gauges = [{"id": p, "quantity": "power", "unit": "kW", "kind": "gauge"} for p in points]
    return {
        "sites": [_site(meters, gauges)],
        "sources": {"mqtt": [{"id": "load", "topic": topic, "meters": list(meters)}]},
        "collector": {"spool": str(spool), "client_id": client_id},
    }


def save(plant: Plant, path: Path) -> PlantConfig:
    """Write the plant file and load it back as `meterledger` would."""
    path.write_text(yaml.safe_dump(plant, sort_keys=False), encoding="utf-8")
    return load_config(path)


def _site(meters: Iterable[str], points: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": SITE,
        "timezone": "UTC",
        "meters": [{"id": m, "carrier": "electricity", "points": points} for m in meters],
    }


def _sdm630_points() -> list[dict[str, Any]]:
    register_map = load_register_map(SDM630)
    return [
        {
            "id": name,
            "quantity": register_map[name].quantity or name,
            "unit": register_map[name].unit,
            "kind": "counter" if register_map[name].kind == "counter" else "gauge",
        }
        for name in POINTS
    ]


def _gateway_source(gateway: Gateway, interval: float) -> dict[str, Any]:
    return {
        "id": gateway.name,
        "port": gateway.port,
        "simulated": True,
        "devices": [
            {
                "meter": gateway.meter(unit),
                "unit_id": unit,
                "register_map": SDM630,
                "interval": interval,
                "points": {name: name for name in POINTS},
            }
            for unit in gateway.units
        ],
    }


def sdm630_blocks() -> list[Block]:
    """The reads one poll of the POINTS takes: what the bare ceiling loops read too."""
    register_map = load_register_map(SDM630)
    wanted = [(name, register_map[name]) for name in POINTS]
    return plan_reads(wanted, max_registers=register_map.max_registers_per_read)
