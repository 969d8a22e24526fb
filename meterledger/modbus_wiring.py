"""Modbus wiring of the composition root: read plans from the plant file, and the
simulated gateways (with the virtual serial cable an RTU line needs)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from collector.config import ModbusDeviceConfig, ModbusSourceConfig
from collector.modbus import DevicePlan
from collector.readplan import plan_groups
from collector.register_map import load_register_map
from meterledger.virtual_serial import virtual_serial_pair
from simulators.clock import SimClock
from simulators.meters import MeterModel
from simulators.modbus_gateway import SerialLine, SimulatedDevice, SimulatedModbusGateway
from store.catalog import MeterConfig

log = logging.getLogger(__name__)


def modbus_simulator(
    source: ModbusSourceConfig, models: Mapping[str, MeterModel], clock: SimClock
) -> SimulatedModbusGateway:
    devices = []
    for device in source.devices:
        if device.meter not in models:
            log.info(
                "%s unit %d (%s) has no simulation: it will never answer",
                source.id,
                device.unit_id,
                device.meter,
            )
        register_map = load_register_map(device.register_map)
        devices.append(
            SimulatedDevice(device.unit_id, device.meter, register_map, models.get(device.meter))
        )
    if source.transport == "rtu":  # serve on the far end of the virtual cable
        port: int | str = gateway_end(source)
    else:
        port = source.port
    line = SerialLine(source.baudrate, source.parity, source.stopbits, source.bytesize)
    return SimulatedModbusGateway(
        source.host, port, devices, clock, transport=source.transport, line=line
    )


def gateway_end(source: ModbusSourceConfig) -> str:
    """The serial device a simulated RTU gateway serves on; the collector opens ``port``."""
    return f"{source.port}.gateway"


async def serve_gateway(source: ModbusSourceConfig, gateway: SimulatedModbusGateway) -> None:
    """Run a simulated gateway; for a serial line, first lay the virtual cable to it."""
    if source.transport != "rtu":
        await gateway.run()
        return
    async with virtual_serial_pair(Path(str(source.port)), Path(gateway_end(source))):
        await gateway.run()


def device_plan(
    device: ModbusDeviceConfig, by_meter: Mapping[tuple[str, str], int], meter: MeterConfig
) -> DevicePlan:
    """Group a device's points by interval into read plans, with CT/PT ratios applied."""
    register_map = load_register_map(device.register_map)
    bindings = device.bindings()
    wanted = [
        (point, register_map[b.register_name], b.interval or device.interval)
        for point, b in bindings.items()
    ]
    groups = plan_groups(
        wanted,
        max_registers=device.max_registers or register_map.max_registers_per_read,
        max_gap=device.max_gap,
    )
    return DevicePlan(
        meter=device.meter,
        unit_id=device.unit_id,
        groups=groups,
        point_ids={point: by_meter[(device.meter, point)] for point in bindings},
        multipliers={p: b.factor(meter.ct_ratio, meter.pt_ratio) for p, b in bindings.items()},
    )
