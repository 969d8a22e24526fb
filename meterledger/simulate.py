"""``meterledger simulate``: live, or list the meters, print ground truth, or backfill.

``--list`` prints each simulated meter's endpoint and model without starting anything;
``--ground-truth --from --to`` prints what every meter delivered (see
`simulators.ground_truth`); ``--from`` [``--to``] [``--speed``] backfills history through the
real protocols and the collector (see `meterledger.backfill`). Without these it runs the
simulated meters in real time, as before.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import signal
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from meterledger.backfill import (
    MAX_STEP,
    BackfillResult,
    backfill,
    backfill_config,
    default_interval,
    ground_truth_report,
)
from meterledger.config import PlantConfig, load_config
from meterledger.errors import ConfigError
from meterledger.settings import Settings
from simulators import ground_truth
from simulators.config import (
    ElectricitySimulation,
    GasSimulation,
    MeterSimulation,
    MeterSpec,
    PvSimulation,
    SteamSimulation,
)

_RATE_UNITS = {"electricity": "kW", "gas": "Nm3/h", "steam": "t/h", "water": "m3/h"}


def parse_instant(text: str, timezone: str) -> float:
    """Unix time of an ISO date or date-time; without an offset, local time in ``timezone``.

    A bare date is local midnight, where the ledger's months begin.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO date or date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.timestamp()


def describe(config: PlantConfig) -> list[tuple[str, str, str]]:
    """(meter, endpoint, model) for every simulated meter, one row per endpoint."""
    rows = []
    endpoints = _endpoints(config)
    for meter_id, spec in config.simulation.meters.items():
        faults = [f.kind for f in config.simulation.faults if f.meter == meter_id]
        model = summary(spec) + (f"; faults: {', '.join(faults)}" if faults else "")
        for endpoint in endpoints.get(meter_id, ["(not served by a simulated gateway)"]):
            rows.append((meter_id, endpoint, model))
    return rows


def summary(spec: MeterSpec) -> str:
    """One line saying what a meter model is, with units."""
    if isinstance(spec, PvSimulation):
        return (
            f"pv {spec.capacity:g} kWp, performance ratio {spec.performance_ratio:g},"
            f" cloudiness {spec.cloudiness:g}"
        )
    unit = _RATE_UNITS.get(spec.model, "t/h")
    parts = [f"{spec.model} base {spec.base:g} {unit}"]
    if spec.peak is not None:
        parts.append(f"peak {spec.peak:g} {unit} on {len(spec.shifts)} shift(s)")
    parts += [f"+{p.load:g} {unit} process" for p in spec.processes]
    parts += [f"{name} +{value:g} {unit}" for name, value in _seasonal(spec) if value]
    if isinstance(spec, SteamSimulation):
        parts.append(f"{spec.pressure:g} MPa {spec.temperature:g} °C")
    if isinstance(spec, ElectricitySimulation):
        parts += [f"includes {'+'.join(spec.includes)}"] if spec.includes else []
        parts += [f"generation {'+'.join(spec.generation)}"] if spec.generation else []
    if isinstance(spec, GasSimulation) and spec.boilers:
        parts.append("fires " + "+".join(b.steam for b in spec.boilers))
    return ", ".join(parts)


def _seasonal(spec: MeterSimulation) -> list[tuple[str, float]]:
    return [("heating", spec.heating), ("cooling", spec.cooling)]


def _endpoints(config: PlantConfig) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for source in config.sources.modbus:
        where = f"{source.host}:{source.port}" if source.transport != "rtu" else str(source.port)
        for device in source.devices:
            label = f"modbus {source.transport} {where} unit {device.unit_id}"
            tail = "" if source.simulated else ", a real device"
            found.setdefault(device.meter, []).append(f"{label} ({device.register_map}{tail})")
    for mqtt in config.sources.mqtt:
        for meter in mqtt.meters:
            tail = f"every {mqtt.publish_interval:g} s" if mqtt.simulated else "a real publisher"
            found.setdefault(meter, []).append(f"mqtt {mqtt.topic_for(meter)} ({tail})")
    return found


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``simulate`` options beyond ``--config``; with none of them it runs live."""
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--list", action="store_true", help="print each simulated meter's endpoint and model"
    )
    mode.add_argument(
        "--ground-truth",
        action="store_true",
        help="print what each meter delivered over [--from, --to) and exit",
    )
    parser.add_argument(
        "--from",
        dest="start",
        metavar="WHEN",
        help="ISO date or date-time (local to the first site unless it has an offset):"
        " backfill from here, simulators and collector together",
    )
    parser.add_argument("--to", dest="end", metavar="WHEN", help="stop there (exclusive)")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per real second (default 1)"
    )
    parser.add_argument(
        "--interval",
        type=int,
        metavar="SECONDS",
        help="simulated seconds between readings in a backfill (default: from --speed,"
        " 900 at 3600x); ground truth integrates on this backfill's grid (default 60)",
    )
    parser.add_argument("--format", choices=("csv", "json"), default="csv", help="ground truth")


def wants_live(args: argparse.Namespace) -> bool:
    """True when ``simulate`` should just run the simulated meters in real time."""
    return not (args.list or args.ground_truth or args.start or args.end or args.speed != 1.0)


def command(args: argparse.Namespace) -> int:
    """Run ``simulate --list``, ``--ground-truth`` or a backfill; return the exit status."""
    config = load_config(args.config)
    if args.list:
        table = [("METER", "ENDPOINT", "MODEL"), *describe(config)]
        widths = [max(len(row[i]) for row in table) for i in (0, 1)]
        for meter, endpoint, model in table:
            print(f"{meter:<{widths[0]}}  {endpoint:<{widths[1]}}  {model}")
        return 0
    zone = config.sites[0].timezone
    if not args.start or (args.ground_truth and not args.end):
        raise ConfigError("(command line)", "--from", "needed, with --to for ground truth")
    if args.speed <= 0 or (args.interval is not None and args.interval <= 0):
        raise ConfigError("(command line)", "--speed/--interval", "must be positive")
    try:
        start = parse_instant(args.start, zone)
        end = parse_instant(args.end, zone) if args.end else None
    except ValueError as exc:
        raise ConfigError("(command line)", "--from/--to", str(exc)) from None
    if end is not None and end <= start:
        raise ConfigError("(command line)", "--to", "must be after --from")
    if args.ground_truth:
        assert end is not None
        rows = ground_truth_report(config, start, end, args.interval or MAX_STEP)
        text = ground_truth.to_csv(rows) if args.format == "csv" else ground_truth.to_json(rows)
        print(text, end="" if text.endswith("\n") else "\n")
        return 0
    interval = args.interval or default_interval(args.speed)
    plant = backfill_config(args.config, config, start, end or math.inf, interval)
    result = asyncio.run(_backfill_until_signal(plant, (start, end), args.speed, interval))
    print(
        f"simulated {result.simulated / 3600:.1f} h in {result.real:.1f} s"
        f" ({result.hours_per_second:.3f} simulated h per s); readings: {result.received}"
        f" of {result.expected} expected ({result.coverage:.1%}), {result.written} new rows"
    )
    return 0


async def _backfill_until_signal(
    config: PlantConfig, window: tuple[float, float | None], speed: float, interval: int
) -> BackfillResult:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    start, end = window
    print(
        f"backfilling from {datetime.fromtimestamp(start, UTC).isoformat()}"
        f" to {datetime.fromtimestamp(end, UTC).isoformat() if end else '(Ctrl-C)'}"
        f" at {speed:g}x, a reading every {interval} s of simulated time",
        flush=True,
    )
    return await backfill(config, Settings(), window, speed, interval, stop)
