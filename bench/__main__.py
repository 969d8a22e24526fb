"""``python -m bench [NAME ...]``: run the named benchmarks (all by default), one line each."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bench import (
    api_live,
    api_mtd,
    api_series,
    collector_rss,
    ingest,
    ledger_close,
    poll_cpu,
    polling,
)
from bench.report import Result
from bench.services import Services, open_services, own_database


@dataclass(frozen=True, slots=True)
class Benchmark:
    name: str
    run: Callable[[Services], Awaitable[Result]]
    needs_broker: bool = False


BENCHMARKS = {
    b.name: b
    for b in (
        Benchmark("poll_cpu", poll_cpu.run),
        Benchmark("polling", polling.run),
        Benchmark("ingest", ingest.run, needs_broker=True),
        Benchmark("collector_rss", collector_rss.run),
        Benchmark("ledger_close", ledger_close.run),
        Benchmark("api_live", api_live.run),
        Benchmark("api_series", api_series.run),
        Benchmark("api_mtd", api_mtd.run),
    )
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run meterledger's benchmarks (all by default); each prints one line,"
        " 'name: value unit (ratio r of ceiling)', where 1.00 is as good as the ceiling.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log each side's raw figures to stderr"
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {', '.join(BENCHMARKS)}")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.verbose:
        logging.getLogger("bench").setLevel(logging.INFO)
    # pymodbus logs a closed connection as an error; the figures say whether polling worked.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    selected = [BENCHMARKS[n] for n in args.names or BENCHMARKS]
    try:
        return asyncio.run(run_all(selected))
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C, SIGTERM: cleaned up by now
        print("bench: interrupted", file=sys.stderr)
        return 130


async def run_all(selected: Sequence[Benchmark]) -> int:
    """Print the header, then each benchmark's line; return 1 if any of them failed."""
    # SIGTERM stops the run as Ctrl-C does: through cancellation, so the embedded database
    # is stopped and the run's database dropped (killed outright, pgserver leaks its server).
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    failed = 0
    async with open_services(broker=any(b.needs_broker for b in selected)) as services:
        print(header(services), flush=True)
        for benchmark in selected:
            try:
                async with own_database(services) as own:
                    line = (await benchmark.run(own)).line()
            except Exception as exc:  # one broken benchmark must not hide the others' figures
                line = f"{benchmark.name}: failed ({type(exc).__name__}: {exc})"
                failed = 1
            print(line, flush=True)
    return failed


def header(services: Services) -> str:
    parts = [
        f"database: {services.database}",
        f"Python {platform.python_version()}",
        # Figures from a busy machine are low on both sides; the load says how busy it was.
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}",
    ]
    if services.broker:
        parts.insert(1, f"broker: {services.broker}")
    return "# meterledger bench | " + " | ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
