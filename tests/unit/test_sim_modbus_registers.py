"""The simulated gateway serves any register map, whatever its types, scales and offsets.

Read through the datastore pymodbus answers requests from, so no socket is opened.
"""

from collections.abc import Mapping

import pytest

from collector.decoding import decode
from collector.register_map import RegisterMap
from simulators.clock import SimClock
from simulators.modbus_gateway import SimulatedDevice, SimulatedModbusGateway

# Gauge pressure as absolute: a positive offset, so an engineering 0.0 is a raw -1013.25.
GAUGE = RegisterMap.model_validate(
    {
        "model": "gauge",
        "maker": "test",
        "document": "none",
        "registers": [
            {
                "name": "pressure",
                "address": 3,
                "function": 3,
                "type": "uint16",
                "scale": 0.0001,
                "offset": 0.101325,
                "unit": "MPa",
            }
        ],
    }
)


class Steady:
    def values_at(self, t: float) -> Mapping[str, float]:
        return {"pressure": 0.6}

    def grid(self, t: float) -> float:
        return t


async def test_unsigned_register_with_an_offset_is_served() -> None:
    device = SimulatedDevice(1, "gauge", GAUGE, Steady())
    gateway = SimulatedModbusGateway("127.0.0.1", 1, [device], SimClock())
    # What pymodbus's request handler reads for "function 3, address 3, one register".
    served = await gateway._server.context.async_getValues(1, 3, 3, 1)
    assert isinstance(served, list)
    assert decode(GAUGE["pressure"], served) == pytest.approx(0.6, abs=0.0001)  # one raw step
