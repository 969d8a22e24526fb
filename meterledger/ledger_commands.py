"""``meterledger ledger …``: close, review, approve, show and verify periods by hand.

The inputs no meter sees (``ledger entry|instrument|production``) are in
`meterledger.ledger_input_commands`; they open the ledger the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from ledger import closing
from ledger.close import SiteBook
from ledger.findings import display
from ledger.periods import Month
from ledger.statements import Status, findings_of, verify_stored
from meterledger import ledger_input_commands
from meterledger.books import check_ledger_sites, poll_intervals, site_book
from meterledger.chosen_factors import imported_sets
from meterledger.config import PlantConfig, load_config
from meterledger.embedded import embedded_postgres
from meterledger.errors import ConfigError
from meterledger.settings import Settings
from store.catalog import sync_catalog
from store.ledger_inputs import StoreLedgerInputs
from store.migrate import migrate
from store.pool import open_pool
from store.rollup_source import StoreRollupSource
from store.statements import StoreStatements, pending


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ledger = commands.add_parser("ledger", help="period statements", description=__doc__)
    actions = ledger.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    for name, text in (
        ("close", "compute a month's statement (a new version, with --reason, if it exists)"),
        ("review", "mark the latest version reviewed"),
        ("approve", "approve (lock) the reviewed version"),
        ("show", "print a month's statement as a table"),
    ):
        action = actions.add_parser(name, help=text, description=text)
        action.add_argument("site")
        action.add_argument("month", type=Month.parse, help="YYYY-MM")
        _config_argument(action)
        if name == "close":
            action.add_argument("--reason", help="why a closed month is computed again")
        if name == "show":
            action.add_argument("--json", action="store_true", help="print the stored content")
        action.set_defaults(handler=_run, action=name)
    verify = actions.add_parser(
        "verify", help="recompute a site's hash chain", description="recompute the hash chain"
    )
    verify.add_argument("site")
    _config_argument(verify)
    verify.set_defaults(handler=_run, action="verify", month=None)
    ledger_input_commands.add_commands(actions, _config_argument)


def _config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", type=Path, required=True, help="plant file (YAML)")


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(_act(args))


@dataclass
class Ledger:
    """What a ledger command works with: the site's book and the stores."""

    book: SiteBook
    readings: StoreRollupSource
    statements: StoreStatements
    pool: AsyncConnectionPool
    inputs: StoreLedgerInputs


@contextlib.asynccontextmanager
async def open_ledger(config: PlantConfig, site: str, settings: Settings) -> AsyncIterator[Ledger]:
    with contextlib.ExitStack() as stack:
        url = settings.database_url or stack.enter_context(embedded_postgres(settings.data_dir))
        check_ledger_sites(config)
        await asyncio.to_thread(migrate, url)
        ids = await asyncio.to_thread(sync_catalog, url, config.sites)
        sites = {s.id: s for s in config.sites}
        if site not in sites:
            raise ConfigError("(command line)", "site", f"no site {site!r}; have {sorted(sites)}")
        pool = await open_pool(url)
        try:
            imported = await imported_sets(pool, config.ledger)
            intervals = poll_intervals(config, ids)
            book = site_book(sites[site], config.ledger, ids, intervals, imported)
            yield Ledger(
                book,
                StoreRollupSource(pool),
                StoreStatements(pool),
                pool,
                StoreLedgerInputs(pool),
            )
        finally:
            await pool.close()


async def _act(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    async with open_ledger(config, args.site, Settings()) as ledger:
        store = ledger.statements
        if args.action == "close":
            stored = await closing.close(
                ledger.book,
                args.month,
                ledger.readings,
                store,
                reason=args.reason,
                inputs=ledger.inputs,
            )
            print(
                f"{args.site} {args.month}: version {stored.version} closed ({stored.hash[:12]}…)"
            )
            _print(stored.content)
        elif args.action in ("review", "approve"):
            target = Status.REVIEWED if args.action == "review" else Status.APPROVED
            stored = await closing.move(store, args.site, args.month, target)
            print(f"{args.site} {args.month}: version {stored.version} {stored.status.value}")
        elif args.action == "show":
            latest = await store.latest(args.site, str(args.month))
            if latest is None:
                print(f"{args.site} {args.month}: open (no statement yet)")
                return 1
            if args.json:
                print(latest.content.decode())
            else:
                print(
                    f"{args.site} {args.month}: version {latest.version}, "
                    f"{latest.status.value}, hash {latest.hash}"
                )
                _print(latest.content)
                for change in await pending(ledger.pool, args.site, str(args.month)):
                    unit = "" if change["key"].startswith("kpi/") else " tCO2e"
                    print(
                        f"pending restatement: {change['key']}: {change['before']} -> "
                        f"{change['after']}{unit} ({', '.join(change['fields']) or 'line'})"
                    )
        else:
            findings = verify_stored(
                [(s.previous_hash, s.content, s.hash) for s in await store.chain(args.site)]
            )
            for finding in findings:
                print(f"{finding.code}: {finding.subject}: {finding.detail}")
            print("chain intact" if not findings else f"{len(findings)} problem(s)")
            return 1 if findings else 0
    return 0


def _print(content: bytes) -> None:
    doc = json.loads(content)
    print(f"{'line':58} {'activity':>22} {'tCO2e':>14}  basis")
    for line in doc["lines"]:
        activity = f"{display(Decimal(line['activity']), 1)} {line['activity_unit']}"
        print(
            f"{line['key']:58} {activity:>22} {display(Decimal(line['tco2e']), 3):>14}  "
            f"{line['basis']}"
        )
    for basis in ("location", "market"):
        total = sum(
            (Decimal(x["tco2e"]) for x in doc["lines"] if x["basis"] in ("direct", basis)),
            Decimal(0),
        )
        print(f"{'total (' + basis + '-based)':58} {'':>22} {display(total, 3):>14}")
    print("activity data:")
    for a in doc["activities"]:
        print(
            f"  {a['key']:40} {display(Decimal(a['quantity']), 3):>16} {a['unit']:6} "
            f"coverage {display(Decimal(a['coverage']) * 100, 1)} %  "
            f"estimated {display(Decimal(a['estimated_share']) * 100, 1)} %  {a['method']}"
        )
    for entry in doc.get("entries", []):
        files = ", ".join(f"{name} sha256:{sha[:12]}…" for sha, name, _, _ in entry["evidence"])
        print(
            f"entry {entry['key']:14} {entry['category']:12} {entry['quantity']} {entry['unit']} "
            f"by {entry['entered_by']}: {entry['description']} [{files or 'no evidence'}]"
        )
    for use in doc.get("instruments", []):
        print(
            f"instrument {use['key']:14} {use['kind']} {use['mwh']} MWh "
            f"[{use['period_start']}, {use['period_end']}) at {use['factor']} tCO2/MWh: "
            f"{display(Decimal(use['month_kwh']), 3)} kWh this month"
        )
    for output in doc.get("production", []):
        print(f"output {output['line']:30} {output['tonnes']:>14} t  from {output['source']}")
    for split in doc.get("allocations", []):
        parts = ", ".join(
            f"{line} {display(Decimal(share), 3)}"
            for line, share in zip(split["lines"], split["shares"], strict=True)
        )
        print(
            f"split {split['key']:30} {split['total']} {split['unit']} by {split['basis']}: {parts}"
        )
    for kpi in doc.get("kpis", []):
        print(f"kpi {kpi['name']:40} {display(Decimal(kpi['value']), 4):>16} {kpi['unit']}")
    for finding in findings_of(content):
        print(f"finding {finding.code}: {finding.subject}: {finding.detail}")
