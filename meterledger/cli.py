"""The ``meterledger`` command: one entry point for every part and for the database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from meterledger import ledger_commands, simulate, token_commands
from meterledger.bootstrap import PARTS, Runtime, run_system
from meterledger.check import check
from meterledger.config import load_config
from meterledger.embedded import embedded_postgres
from meterledger.errors import MeterledgerError
from meterledger.logs import configure
from meterledger.settings import Settings
from store.migrate import migrate, redact, status

log = logging.getLogger("meterledger")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure(logging.DEBUG if args.verbose else logging.INFO, args.log_format)
    try:
        return int(args.handler(args))
    except MeterledgerError as exc:
        print(f"meterledger: error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meterledger",
        description="Meters over Modbus and MQTT into PostgreSQL/TimescaleDB, and a carbon ledger.",
        epilog="Environment: METERLEDGER_DATABASE_URL, METERLEDGER_MQTT_URL and"
        " METERLEDGER_DATA_DIR override the plant file and the embedded defaults.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    parser.add_argument(
        "--log-format", choices=("text", "json"), default="text", help="log lines on stderr"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, parts, text in (
        ("run", PARTS, "run simulators, collector and API together (the quick start)"),
        ("collect", frozenset({"collect"}), "run the collector only"),
        ("serve", frozenset({"serve"}), "run the HTTP API only"),
        ("simulate", frozenset({"simulate"}), "run the simulated meters only"),
        ("schedule", frozenset({"schedule"}), "close every ended month, in each site's zone"),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("--config", "-c", type=Path, required=True, help="plant file (YAML)")
        sub.set_defaults(handler=_run_parts, parts=parts)
        if name == "simulate":  # --list, --ground-truth, backfill with --from/--to/--speed
            simulate.add_arguments(sub)
            sub.set_defaults(handler=_simulate)
        if name == "collect":
            sub.add_argument(
                "--check",
                action="store_true",
                help="read every configured point once, print it with its unit, and exit",
            )
            sub.add_argument(
                "--wait",
                type=float,
                default=15.0,
                help="with --check: seconds to listen to MQTT topics",
            )
            sub.set_defaults(handler=_collect)

    ledger_commands.add_commands(commands)
    token_commands.add_commands(commands)
    db = commands.add_parser("db", help="database schema", description="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_migrate = db_commands.add_parser(
        "migrate", help="apply pending migrations", description="apply pending migrations"
    )
    db_migrate.set_defaults(handler=_db_migrate)
    db_status = db_commands.add_parser(
        "status",
        help="server, TimescaleDB and applied migrations",
        description="print the server version, TimescaleDB version or its absence, and migrations",
    )
    db_status.set_defaults(handler=_db_status)
    return parser


def _collect(args: argparse.Namespace) -> int:
    if not args.check:
        return _run_parts(args)
    failed = asyncio.run(check(load_config(args.config), Settings().mqtt_url, args.wait))
    print("all devices and topics answered" if not failed else f"{failed} failed")
    return 1 if failed else 0


def _simulate(args: argparse.Namespace) -> int:
    return _run_parts(args) if simulate.wants_live(args) else simulate.command(args)


def _run_parts(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    settings = Settings()
    if not settings.database_url:
        print(
            f"no METERLEDGER_DATABASE_URL: starting an embedded PostgreSQL in "
            f"{settings.data_dir / 'pgdata'}",
            file=sys.stderr,
        )
    local_admin = args.command == "run"  # the quick start logs in with no extra step
    asyncio.run(_until_signal(config, settings, args.parts, local_admin))
    return 0


async def _until_signal(
    config: object, settings: Settings, parts: frozenset[str], local_admin: bool = False
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run_system(
        config,  # type: ignore[arg-type]
        settings,
        stop,
        parts=parts,
        on_ready=_announce,
        local_admin=local_admin,
    )
    log.info("stopped")


def _announce(runtime: Runtime) -> None:
    lines = ["meterledger is running. Stop with Ctrl-C."]
    if runtime.dashboard_url:
        lines.append(f"  dashboard:  {runtime.dashboard_url}")
    if runtime.api_url:
        lines += [
            f"  API:        {runtime.api_url}/api/v1/live",
            f"  OpenAPI:    {runtime.api_url}/openapi.json",
            f"  health:     {runtime.api_url}/healthz",
            f"  metrics:    {runtime.api_url}/metrics",
        ]
    if runtime.database_url:
        lines.append(f"  database:   {redact(runtime.database_url)}")
    if runtime.mqtt_url:
        lines.append(f"  MQTT:       {runtime.mqtt_url}")
    for gateway in runtime.modbus_simulators:
        units = sorted(gateway.devices)
        lines.append(f"  simulated Modbus gateway {gateway.host}:{gateway.port} units {units}")
    print("\n".join(lines), flush=True)


def _db_migrate(_args: argparse.Namespace) -> int:
    settings = Settings()
    with _database(settings) as url:
        applied = migrate(url)
    print(f"applied: {', '.join(applied)}" if applied else "up to date")
    return 0


def _db_status(_args: argparse.Namespace) -> int:
    settings = Settings()
    with _database(settings) as url:
        report = status(url)
    print(f"server:      PostgreSQL {report.server_version}")
    if report.timescaledb_version:
        mode = "hypertable" if report.reading_is_hypertable else "plain table (not converted)"
        print(f"timescaledb: {report.timescaledb_version} (reading: {mode})")
    else:
        print("timescaledb: not installed (reading is a plain table)")
    print("migrations:")
    for migration in report.applied:
        applied = f"{migration.applied_at:%Y-%m-%d %H:%M:%S %Z}"
        print(f"  {migration.version} {migration.name}  applied {applied}")
    for version in report.pending:
        print(f"  {version} pending")
    return 0


def _database(settings: Settings) -> contextlib.AbstractContextManager[str]:
    if settings.database_url:
        return contextlib.nullcontext(settings.database_url)
    print(
        f"no METERLEDGER_DATABASE_URL: using the embedded PostgreSQL in "
        f"{settings.data_dir / 'pgdata'}",
        file=sys.stderr,
    )
    return embedded_postgres(settings.data_dir)
