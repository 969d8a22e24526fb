"""The small plant with its Modbus gateway on a serial RTU line, simulator to HTTP.

`simulated: true` with `transport: rtu` makes the composition root lay a virtual serial
cable (socat) from the configured device path to the simulated gateway.
"""

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml

from meterledger.bootstrap import Runtime, run_system
from meterledger.config import load_config
from meterledger.settings import Settings
from meterledger.virtual_serial import INSTALL_SOCAT

PLANT = Path(__file__).resolve().parents[1] / "plants" / "small.yaml"


@pytest.fixture
async def rtu_system(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Runtime, Path]]:
    if shutil.which("socat") is None:
        pytest.fail(f"a simulated RTU line needs socat: {INSTALL_SOCAT}")
    raw = yaml.safe_load(PLANT.read_text())
    raw["sources"].pop("mqtt")  # this test is about the serial line only
    tty = tmp_path / "dev" / "ttyRS485"
    gateway = raw["sources"]["modbus"][0]
    gateway |= {"transport": "rtu", "port": str(tty), "baudrate": 19200, "stopbits": 2}
    path = tmp_path / "plant.yaml"
    path.write_text(yaml.safe_dump(raw))
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_system(load_config(path), settings, stop, on_ready=ready.set_result, local_admin=True)
    )
    runtime = await asyncio.wait_for(ready, 30)
    yield runtime, tty
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_api_serves_readings_collected_over_a_serial_line(
    rtu_system: tuple[Runtime, Path],
) -> None:
    runtime, tty = rtu_system
    assert runtime.modbus_simulators[0].describe() == f"rtu {tty}.gateway"
    headers = {"Authorization": f"Bearer {runtime.admin_token}"}
    async with httpx.AsyncClient(base_url=runtime.api_url or "", headers=headers) as client:
        for _ in range(150):
            response = await client.get("/api/v1/live")
            response.raise_for_status()
            items = {(i["meter"], i["point"]): i for i in response.json()["items"]}
            if items[("grid-main", "energy_import")]["value"] is not None:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"no reading over the serial line within 15 s: {items}")
    assert items[("dead-meter", "energy_import")]["value"] is None, "unit 7 never answers"
    dead = runtime.pollers[0].states[7]
    for _ in range(50):  # its first request times out 0.3 s after the tick
        if dead.failures:
            break
        await asyncio.sleep(0.1)
    assert dead.failures >= 1, "the silent unit is retried over the same line"
