"""The meter events of the simulated plant's faults: a replacement is recorded as such.

On a real site the technician who swaps a meter enters the old meter's final reading and
the new one's first; the ledger splices the counter there. A ``replacement`` fault in the
plant file stands for that swap, so a run with a database records the same event, per
point that stores one of the replaced counters, in the point's stored units (register
value x the binding's multiplier and CT/PT ratio).

Replacements up to the end of the run's clock (or up to now, for a run without end) are
recorded before the collector starts, so its validators expect the fall; the old meter's
final reading is then taken from a twin of the models (built from the same plant file
and origin, so it counts exactly as the running meter will). Later ones are recorded as
the simulated clock passes them, from the running meter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from psycopg_pool import AsyncConnectionPool

from meterledger.config import PlantConfig
from meterledger.supervision import Task
from simulators.clock import SimClock
from simulators.faults import FaultyMeter, Replacement
from simulators.meters import MeterModel
from store.events import MeterEvent, record_event

log = logging.getLogger(__name__)

Swap = tuple[str, Replacement]


def counter_points(config: PlantConfig, meter_id: str) -> dict[str, dict[str, float]]:
    """For each register a meter's points are read from: {point id: multiplier}."""
    _, meter = config.meters()[meter_id]
    found: dict[str, dict[str, float]] = {}
    for source in config.sources.modbus:
        for device in source.devices:
            if device.meter == meter_id:
                for point, binding in device.bindings().items():
                    factor = binding.factor(meter.ct_ratio, meter.pt_ratio)
                    found.setdefault(binding.register_name, {})[point] = factor
    for mqtt in config.sources.mqtt:
        if meter_id in mqtt.meters and mqtt.format == "meterledger-json":
            for declared in meter.points:  # values are published under their point ids
                found.setdefault(declared.id, {})[declared.id] = 1.0
    return found


def replacement_events(
    config: PlantConfig, meter_id: str, model: FaultyMeter, swap: Replacement
) -> list[MeterEvent]:
    """One replacement event per stored point of each counter the swap restarts."""
    site = config.meters()[meter_id][0].id
    points = counter_points(config, meter_id)
    ts = datetime.fromtimestamp(swap.at, UTC)
    return [
        MeterEvent(
            site,
            meter_id,
            ts,
            "replacement",
            point=point,
            old_value=old * factor,
            new_value=new * factor,
            detail={"counter": counter, "source": "simulated fault"},
            recorded_by="simulator",
        )
        for counter, (old, new) in model.replaced(swap).items()
        for point, factor in points.get(counter, {}).items()
    ]


def swaps(models: Mapping[str, MeterModel]) -> list[Swap]:
    """Every replacement of the models, in time order."""
    found = [
        (meter, swap)
        for meter, model in models.items()
        if isinstance(model, FaultyMeter)
        for swap in model.replacements
    ]
    return sorted(found, key=lambda item: item[1].at)


async def record_replacements(
    pool: AsyncConnectionPool,
    config: PlantConfig,
    models: Mapping[str, MeterModel],
    twins: Mapping[str, MeterModel],
    clock: SimClock,
) -> dict[str, Task]:
    """Record the replacements due by the clock's end now; return a task for the rest.

    ``twins`` are models built like ``models`` and never served: reading a counter months
    ahead would leave a served one unable to answer for today.
    """
    horizon = clock.until if clock.until is not None else clock.now()
    later: list[Swap] = []
    for meter, swap in swaps(models):
        if swap.at > horizon:
            later.append((meter, swap))
            continue
        twin = twins[meter]
        assert isinstance(twin, FaultyMeter)  # built from the same faults
        await _record(pool, replacement_events(config, meter, twin, swap))
    if not later:
        return {}
    return {"simulated replacements": _record_when_due(pool, config, models, clock, later)}


async def _record_when_due(
    pool: AsyncConnectionPool,
    config: PlantConfig,
    models: Mapping[str, MeterModel],
    clock: SimClock,
    later: list[Swap],
) -> None:
    for meter, swap in later:
        await clock.sleep_until(swap.at)
        model = models[meter]
        assert isinstance(model, FaultyMeter)
        await _record(pool, replacement_events(config, meter, model, swap))
    await asyncio.Event().wait()  # a part that ends would stop the system: wait to be cancelled


async def _record(pool: AsyncConnectionPool, events: list[MeterEvent]) -> None:
    for event in events:
        if await record_event(pool, event):
            log.info(
                "simulated replacement of %s/%s at %s: %s -> %s",
                event.meter,
                event.point,
                event.ts.isoformat(),
                event.old_value,
                event.new_value,
            )
