"""Every shipped register map, read by an independent Modbus client at the datasheet addresses.

The simulated gateway serves each map with the collector's own codec, so a map and the
collector can agree with each other and both be wrong. Here Debian's ``mbpoll`` reads the
addresses, tables and types copied from each maker's document (hard-coded below, not taken
from the YAML), and the raw value it prints, times the datasheet's scale, must equal what
the simulated meter exposed for that very request. A wrong address, function code, word
order, type or scale in a map fails here.
"""

from __future__ import annotations

import asyncio
import math
import re
import shutil
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from collector.register_map import load_register_map
from meterledger.embedded import free_port
from simulators.clock import SimClock
from simulators.config import MeterSimulation, SteamSimulation
from simulators.meters import ElectricityMeter, GasMeter, MeterModel, SteamMeter
from simulators.modbus_gateway import Exposure, SimulatedDevice, SimulatedModbusGateway
from simulators.profiles import DailyProfile
from simulators.steam import SteamConditions

INSTALL = "apt-get install -y mbpoll"
INPUT, HOLDING = 3, 4  # mbpoll -t: input registers (function 04), holding registers (03)
# mbpoll prints floats with %g: six significant digits, so within 5e-6 relative of the
# float32 it read (half a unit in the 6th digit of the smallest mantissa); allow twice that.
PRINT_REL_TOL = 1e-5


@dataclass(frozen=True)
class Run:
    """Consecutive values of one type as the maker's table prints them, from one address.

    ``values`` pairs the quantity's name in the simulator with the datasheet's scale
    (engineering value = raw value on the wire x scale + offset).
    """

    table: int
    # mbpoll type suffix: "float" (IEEE-754), "int" (32-bit integer), "" (16-bit register)
    kind: str
    address: int  # protocol address of the first value, as the datasheet gives it
    values: tuple[tuple[str, float], ...]
    big_endian_words: bool = True  # ABCD: mbpoll -B; False reads the low word first
    unsigned: bool = False  # the datasheet's sign, whichever way mbpoll prints the bits
    offset: float = 0.0

    @property
    def words(self) -> int:
        return 1 if self.kind == "" else 2


def floats(table: int, address: int, *values: tuple[str, float]) -> Run:
    return Run(table, "float", address, values)


def uints(table: int, address: int, *values: tuple[str, float]) -> Run:
    return Run(table, "int", address, values, unsigned=True)


def low_word_first_uints(table: int, address: int, *values: tuple[str, float]) -> Run:
    return Run(table, "int", address, values, big_endian_words=False, unsigned=True)


def uint16s(table: int, address: int, *values: tuple[str, float]) -> Run:
    return Run(table, "", address, values, unsigned=True)


def int16s(table: int, address: int, *values: tuple[str, float], offset: float = 0.0) -> Run:
    return Run(table, "", address, values, offset=offset)


def electricity() -> MeterModel:
    spec = MeterSimulation(model="electricity", base=50, peak=200, initial=123456.78, seed=4)
    return ElectricityMeter(DailyProfile(spec, "Europe/Berlin"), 123456.78, time.time() // 1, 1)


def gas() -> MeterModel:
    spec = MeterSimulation(model="gas", base=12, peak=45, initial=98765.4, seed=5)
    return GasMeter(DailyProfile(spec, "Europe/Berlin"), 98765.4, time.time() // 1, 1)


def steam() -> MeterModel:
    spec = SteamSimulation(
        model="steam", base=0.5, peak=2.5, initial=41000, seed=6, pressure=0.9, temperature=185
    )
    conditions = SteamConditions(
        spec.seed, spec.pressure, spec.temperature, spec.pressure_swing, spec.temperature_swing
    )
    profile = DailyProfile(spec, "Asia/Shanghai")
    origin = time.time() // 1
    return SteamMeter(profile, 41000, origin, 1, conditions=conditions, initial_energy=112000)


@dataclass(frozen=True)
class Datasheet:
    """A meter model's published registers, transcribed independently of its YAML map."""

    register_map: str
    unit_id: int
    model: Callable[[], MeterModel]
    runs: tuple[Run, ...]


ONE = 1.0

# Eastron, "SDM630 Modbus Protocol": input registers 30001..., IEEE-754 float, high word first.
SDM630 = Datasheet(
    "eastron_sdm630",
    1,
    electricity,
    (
        floats(
            INPUT,
            0x0000,
            *((f"phase_{n}_voltage", ONE) for n in (1, 2, 3)),
            *((f"phase_{n}_current", ONE) for n in (1, 2, 3)),
            *((f"phase_{n}_power", ONE) for n in (1, 2, 3)),
            *((f"phase_{n}_apparent_power", ONE) for n in (1, 2, 3)),
            *((f"phase_{n}_reactive_power", ONE) for n in (1, 2, 3)),
            *((f"phase_{n}_power_factor", ONE) for n in (1, 2, 3)),
        ),
        floats(INPUT, 0x002A, ("average_voltage", ONE)),
        floats(INPUT, 0x002E, ("average_current", ONE), ("sum_current", ONE)),
        floats(INPUT, 0x0034, ("total_power", ONE)),
        floats(INPUT, 0x0038, ("total_apparent_power", ONE)),
        floats(INPUT, 0x003C, ("total_reactive_power", ONE), ("total_power_factor", ONE)),
        floats(
            INPUT,
            0x0046,
            ("frequency", ONE),
            ("import_energy", ONE),
            ("export_energy", ONE),
            ("import_reactive_energy", ONE),
            ("export_reactive_energy", ONE),
        ),
        floats(INPUT, 0x0054, ("total_demand_power", ONE), ("max_total_demand_power", ONE)),
        floats(
            INPUT,
            0x00C8,
            ("line_1_2_voltage", ONE),
            ("line_2_3_voltage", ONE),
            ("line_3_1_voltage", ONE),
        ),
        floats(INPUT, 0x00E0, ("neutral_current", ONE)),
        floats(INPUT, 0x0156, ("total_energy", ONE), ("total_reactive_energy", ONE)),
    ),
)

# Chint DTSU666 user manual ZTY0.464.1448, table 11: read command 03H, float ABCD; plain
# firmware publishes V x0.1, A x0.001, W/var x0.1, PF x0.001, Hz x0.01, kWh/kvarh as is.
V, A, W, PF, HZ = 0.1, 0.001, 0.1, 0.001, 0.01
DTSU666 = Datasheet(
    "chint_dtsu666",
    2,
    electricity,
    (
        floats(
            HOLDING,
            0x2000,
            ("line_1_2_voltage", V),  # Uab
            ("line_2_3_voltage", V),  # Ubc
            ("line_3_1_voltage", V),  # Uca
            ("phase_1_voltage", V),  # Ua 2006H
            ("phase_2_voltage", V),
            ("phase_3_voltage", V),
            ("phase_1_current", A),  # Ia 200CH
            ("phase_2_current", A),
            ("phase_3_current", A),
            ("total_power", W),  # Pt 2012H
            ("phase_1_power", W),
            ("phase_2_power", W),
            ("phase_3_power", W),
            ("total_reactive_power", W),  # Qt 201AH
            ("phase_1_reactive_power", W),
            ("phase_2_reactive_power", W),
            ("phase_3_reactive_power", W),
        ),
        floats(
            HOLDING,
            0x202A,
            ("total_power_factor", PF),  # PFt
            ("phase_1_power_factor", PF),
            ("phase_2_power_factor", PF),
            ("phase_3_power_factor", PF),
        ),
        floats(HOLDING, 0x2044, ("frequency", HZ)),
        floats(HOLDING, 0x401E, ("import_energy", ONE)),  # ImpEp
        floats(HOLDING, 0x4028, ("export_energy", ONE)),  # ExpEp
        floats(HOLDING, 0x4032, ("quadrant_1_reactive_energy", ONE)),
        floats(HOLDING, 0x403C, ("quadrant_2_reactive_energy", ONE)),
        floats(HOLDING, 0x4046, ("quadrant_3_reactive_energy", ONE)),
        floats(HOLDING, 0x4050, ("quadrant_4_reactive_energy", ONE)),
    ),
)

# Rockwell 1758-UM002D-EN-P, calculation results block 1, meter run 0: register numbers
# 30103... (protocol address = number - 30001); float and u_int, two registers each.
DATASITE = Datasheet(
    "rockwell_datasite_1758flo",
    3,
    gas,
    (
        floats(INPUT, 30103 - 30001, ("pressure", ONE), ("temperature", ONE)),  # P, T
        floats(
            INPUT,
            30121 - 30001,
            ("mass_flow", ONE),  # qmh
            ("flow", ONE),  # qvbh, base conditions
            ("actual_flow", ONE),  # qvfh, flowing conditions
        ),
        uints(
            INPUT,
            30145 - 30001,
            ("mass", ONE),  # qm_all
            ("volume", ONE),  # qvn_all, base conditions
            ("actual_volume", ONE),  # qvf_all, flowing conditions
        ),
    ),
)

# Spirax Sarco IM-P192-02 MI Issue 2, p. 45: holding registers 40001... at address 0...,
# 16-bit values divided by the "received data scale", totals = high x 65536 + low with the
# low register first. Scales below turn kg, kg/h, barg x100, degC x10, kW and kWh into the
# simulator's t, t/h, MPa absolute, degC, GJ/h and GJ.
KG, KWH = 0.001, 0.0036  # kg -> t; kWh -> GJ (and kW -> GJ/h)
CENTIBAR, P_ATM_MPA = 0.001, 0.101325  # 0.01 bar in MPa; gauge -> absolute
TVA = Datasheet(
    "spirax_sarco_tva",
    4,
    steam,
    (
        low_word_first_uints(HOLDING, 40001 - 40001, ("mass", KG)),  # Total, kg
        uint16s(HOLDING, 40003 - 40001, ("mass_flow", KG)),  # Flow, kg/h
        int16s(HOLDING, 40004 - 40001, ("pressure", CENTIBAR), offset=P_ATM_MPA),  # barg x100
        int16s(HOLDING, 40005 - 40001, ("temperature", 0.1)),  # degC x10
        uint16s(HOLDING, 40007 - 40001, ("heat_flow", KWH)),  # Power, kW
        low_word_first_uints(HOLDING, 40008 - 40001, ("energy", KWH)),  # Energy, kWh
    ),
)

DATASHEETS = (SDM630, DTSU666, DATASITE, TVA)


@pytest.fixture
def mbpoll() -> str:
    path = shutil.which("mbpoll")
    if path is None:
        pytest.fail(f"these tests read the maps with Debian's mbpoll; install it: {INSTALL}")
    return path


@pytest.fixture
async def gateway() -> AsyncIterator[SimulatedModbusGateway]:
    devices = [
        SimulatedDevice(
            sheet.unit_id, sheet.register_map, load_register_map(sheet.register_map), sheet.model()
        )
        for sheet in DATASHEETS
    ]
    port = free_port()
    sim = SimulatedModbusGateway("127.0.0.1", port, devices, SimClock())
    task = asyncio.create_task(sim.run())
    await _listening(port)
    yield sim
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _listening(port: int) -> None:
    deadline = time.monotonic() + 5
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)
        else:
            writer.close()
            await writer.wait_closed()
            return


def command(mbpoll: str, port: int | str, unit_id: int, run: Run) -> list[str]:
    """One read of the run: mbpoll numbers registers from 1, so the reference is address + 1."""
    return [
        mbpoll,
        "-m",
        "tcp",
        "-p",
        str(port),
        "-a",
        str(unit_id),
        "-t",
        f"{run.table}:{run.kind}" if run.kind else str(run.table),
        *(["-B"] if run.big_endian_words and run.words == 2 else []),
        "-r",
        str(run.address + 1),
        "-c",
        str(len(run.values)),
        "-o",
        "2",
        "-1",
        "127.0.0.1",
    ]


VALUE_LINE = re.compile(r"^\[(\d+)\]:\s+(\S+)\s*$", re.MULTILINE)


async def read(argv: list[str], names: str) -> dict[int, float]:
    """Run mbpoll once; return its printed values by 1-based reference."""
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=10)
    if process.returncode != 0:
        pytest.fail(
            f"reading {names}: {' '.join(argv)} failed ({process.returncode}): "
            f"{err.decode().strip()}"
        )
    return {int(ref): float(value) for ref, value in VALUE_LINE.findall(out.decode())}


def engineering(run: Run, printed: float, scale: float) -> float:
    """The datasheet's value for what mbpoll printed: raw x scale + offset.

    mbpoll prints 32-bit integers signed; integers are taken back to their bits and read
    with the sign the datasheet gives, whichever sign mbpoll printed.
    """
    if run.kind == "float":
        return printed * scale + run.offset
    bits = 16 * run.words
    raw = printed % (1 << bits)
    if not run.unsigned and raw >= 1 << (bits - 1):
        raw -= 1 << bits
    return raw * scale + run.offset


def matches(value: float, scale: float, kind: str, exposed: float) -> bool:
    """Whether the datasheet's value is the exposed one as the device would publish it."""
    if kind != "float":  # the device rounds to whole raw steps
        return abs(value - exposed) <= scale / 2 + 1e-9 * abs(exposed)
    return math.isclose(value, exposed, rel_tol=PRINT_REL_TOL, abs_tol=1e-9)


@pytest.mark.parametrize("sheet", DATASHEETS, ids=lambda s: s.register_map)
async def test_mbpoll_reads_the_exposed_values_at_the_datasheet_addresses(
    sheet: Datasheet, gateway: SimulatedModbusGateway, mbpoll: str
) -> None:
    mismatches = []
    for run in sheet.runs:
        argv = command(mbpoll, gateway.port, sheet.unit_id, run)
        before = len(gateway.exposed)
        printed = await read(argv, ", ".join(name for name, _ in run.values))
        exposures: list[Exposure] = list(gateway.exposed)[before:]
        assert len(exposures) == 1, f"{' '.join(argv)} made {len(exposures)} requests"
        exposed = exposures[0].values
        for i, (name, scale) in enumerate(run.values):
            reference = run.address + run.words * i + 1
            raw = printed[reference]
            value = engineering(run, raw, scale)
            # The gateway leaves registers the meter model does not provide at 0.
            expected = exposed.get(name, 0.0)
            if not matches(value, scale, run.kind, expected):
                mismatches.append(
                    f"{name} at {reference - 1:#06x} (mbpoll -r {reference}): "
                    f"read {raw} x {scale} + {run.offset} = {value}, meter exposed {expected}"
                )
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("sheet", DATASHEETS, ids=lambda s: s.register_map)
def test_datasheet_transcription_covers_every_register_of_the_map(sheet: Datasheet) -> None:
    transcribed = [name for run in sheet.runs for name, _ in run.values]
    assert sorted(transcribed) == sorted(load_register_map(sheet.register_map).names())
