"""Build the pymodbus client for a source's transport: TCP, RTU over TCP, or RTU serial.

Every kind is built the same way for the poller: no retries and no automatic reconnects
inside pymodbus, because the poller owns both (it reconnects on its next poll, and a
failure backs off only the device that failed). Serial needs pyserial, which pymodbus
imports lazily: its absence is reported here, at start, instead of at the first read.
"""

from __future__ import annotations

import importlib.util

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.client.base import ModbusBaseClient
from pymodbus.framer import FramerType

from collector.config import ModbusSourceConfig
from meterledger.errors import ConfigError


def modbus_client(source: ModbusSourceConfig) -> ModbusBaseClient:
    """A client for the source's transport, not yet connected."""
    if source.transport == "rtu":
        if importlib.util.find_spec("serial") is None:
            raise ConfigError(
                f"sources.modbus(id={source.id})",
                "transport",
                "rtu needs pyserial: pip install 'pymodbus[serial]'",
            )
        line = source.serial_line
        return AsyncModbusSerialClient(
            str(source.port),
            framer=FramerType.RTU,
            baudrate=line.baudrate,
            parity=line.parity,
            stopbits=line.stopbits,
            bytesize=line.bytesize,
            timeout=source.timeout,
            retries=0,
            reconnect_delay=0,
        )
    return AsyncModbusTcpClient(
        source.host,
        port=int(source.port),
        # RTU over TCP: the converter forwards bytes to the RS-485 line unchanged, so the
        # frames carry a unit id and a CRC instead of an MBAP header.
        framer=FramerType.RTU if source.transport == "rtu-over-tcp" else FramerType.SOCKET,
        timeout=source.timeout,
        retries=0,
        reconnect_delay=0,
    )
