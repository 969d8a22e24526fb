"""``meterledger ledger entry|instrument|production``: what the ledger is given by hand.

Each ``add`` checks its input the way the ledger will state it (units by dimension, the
factor, the production line) before storing anything, and names the field and value it
refuses. Evidence files are stored by SHA-256. Adding or voiding an input for an approved
month never changes it: the month gets a pending restatement (shown by ``ledger show``),
as late readings do; a month with a draft is closed again with ``--reason``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import mimetypes
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger import closing
from ledger.manual import CATEGORIES, state_entry
from ledger.periods import Month
from ledger.ports import EntryRecord
from meterledger import ledger_commands
from meterledger.config import load_config
from meterledger.errors import InputError
from meterledger.settings import Settings
from store.ledger_inputs import Table

if TYPE_CHECKING:
    from meterledger.ledger_commands import Ledger

_AMOUNT = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(\S.*?)\s*")
_TABLES: dict[str, Table] = {
    "entry": "manual_entry",
    "instrument": "contract_instrument",
    "production": "production_entry",
}


def add_commands(
    actions: argparse._SubParsersAction,  # type: ignore[type-arg]
    config_argument: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``entry``, ``instrument`` and ``production`` under ``meterledger ledger``."""
    groups = {
        "entry": ("manual activity entries with evidence (diesel, refrigerant, road freight)",
                  "record a manual activity entry and its evidence files"),
        "instrument": ("contractual instruments for market-based scope 2 (GEC, I-REC, PPA)",
                       "record a contractual instrument: MWh, period, factor, certificates"),
        "production": ("entered production output per line and month (wins over the counter)",
                       "record a line's output for a month"),
    }  # fmt: skip
    for group, (text, adding) in groups.items():
        parser = actions.add_parser(group, help=text, description=text)
        verbs = parser.add_subparsers(dest="verb", required=True, metavar="ACTION")
        for verb, help_text in (
            ("add", adding),
            ("list", f"list a site's {group} records"),
            ("void", f"void a {group} record, with a reason (the one change allowed)"),
        ):
            action = verbs.add_parser(verb, help=help_text, description=help_text)
            _ARGUMENTS[(group, verb)](action)
            config_argument(action)
            if verb != "list":
                action.add_argument("--by", help="who enters it (default: your user name)")
            action.set_defaults(handler=_run, group=group, verb=verb)


def _entry_add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("site")
    parser.add_argument("month", type=Month.parse, help="YYYY-MM")
    parser.add_argument("--category", required=True, choices=sorted(CATEGORIES))
    parser.add_argument(
        "--quantity", required=True, help='amount and unit: "1200 L", "0.4 t", "12 kg", '
        '"36465 t·km"',
    )  # fmt: skip
    parser.add_argument("--density", help='diesel in litres: "0.84 kg/L" from the delivery note')
    parser.add_argument("--gas", help="refrigerant: R-410A, R-404A, R-407C, R-134a, R-32 …")
    parser.add_argument("--factor", help="a factor record of your choice, SET/ID")
    parser.add_argument("--description", default="", help="what it is, for the auditor")
    parser.add_argument(
        "--evidence", action="append", type=Path, default=[], metavar="FILE",
        help="an invoice, delivery note or log (repeat for several)",
    )  # fmt: skip


def _instrument_add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("site")
    parser.add_argument("--kind", required=True, help="GEC, I-REC, green-power PPA …")
    parser.add_argument("--mwh", required=True, help="MWh the instrument covers")
    parser.add_argument("--from", dest="start", required=True, type=date.fromisoformat,
                        help="first day it covers, YYYY-MM-DD")  # fmt: skip
    parser.add_argument("--to", dest="end", required=True, type=date.fromisoformat,
                        help="first day it no longer covers, YYYY-MM-DD")  # fmt: skip
    parser.add_argument("--factor", required=True, help="its own factor, tCO2/MWh (often 0)")
    parser.add_argument("--certificate", action="append", default=[], metavar="ID",
                        help="certificate or contract id (repeat for several)")  # fmt: skip
    parser.add_argument("--evidence", action="append", type=Path, default=[], metavar="FILE")


def _production_add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("site")
    parser.add_argument("month", type=Month.parse, help="YYYY-MM")
    parser.add_argument("line", help="the production line (a declared line or MES counter)")
    parser.add_argument("tonnes", help="output in tonnes")
    parser.add_argument("--source", required=True, help='where the figure comes from: "MES '
                        'month report", "stock count"')  # fmt: skip
    parser.add_argument("--replace", action="store_true", help="void the month's figure first")


def _listing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("site")
    parser.add_argument("month", type=Month.parse, nargs="?", help="YYYY-MM (default: all)")
    parser.add_argument("--voided", action="store_true", help="include voided records")


def _voiding(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("site")
    parser.add_argument("id", type=int)
    parser.add_argument("--reason", required=True, help="why it is voided")


_ARGUMENTS: dict[tuple[str, str], Callable[[argparse.ArgumentParser], None]] = {
    ("entry", "add"): _entry_add,
    ("instrument", "add"): _instrument_add,
    ("production", "add"): _production_add,
    **{(group, "list"): _listing for group in _TABLES},
    **{(group, "void"): _voiding for group in _TABLES},
}


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(_act(args))


async def _act(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.verb != "list":
        args.by = args.by or getpass.getuser()
    async with ledger_commands.open_ledger(config, args.site, Settings()) as ledger:
        if args.verb == "list":
            _print_list(args.group, await _list(ledger, args))
            return 0
        if args.verb == "void":
            first, last = await ledger.inputs.void(
                args.site, _TABLES[args.group], args.id, args.by, args.reason
            )
            print(f"{args.group} {args.id} voided")
            months = _months(Month.parse(first), Month.parse(last).next())
        else:
            months = await _ADD[args.group](ledger, args)
        for month in months:
            await _recheck(ledger, month)
    return 0


async def _add_entry(ledger: Ledger, args: argparse.Namespace) -> list[Month]:
    quantity, unit = read_amount("quantity", args.quantity)
    density, density_unit = read_amount("density", args.density) if args.density else (None, None)
    record = EntryRecord(
        0, args.category, quantity, unit, args.description, args.by, datetime.now(UTC),
        args.factor, args.gas, density, density_unit,
    )  # fmt: skip
    month: Month = args.month
    line, _ = state_entry(
        record, ledger.book.entry_factors(), month.first_day, month.next().first_day
    )
    evidence = [await _store_file(ledger, path, args.by) for path in args.evidence]
    stored = await ledger.inputs.add_entry(
        args.site, month, category=args.category, quantity=quantity, unit=unit,
        entered_by=args.by, description=args.description, factor=args.factor, gas=args.gas,
        density=density, density_unit=density_unit, evidence=evidence,
    )  # fmt: skip
    print(f"entry {stored.id}: {args.category} {quantity} {unit} in {month}: {line.tco2e} tCO2e")
    print(f"  {line.formula}")
    return [month]


async def _add_instrument(ledger: Ledger, args: argparse.Namespace) -> list[Month]:
    mwh = read_number("mwh", args.mwh, positive=True)
    factor = read_number("factor", args.factor)
    if args.end <= args.start:
        raise InputError("--to", str(args.end), f"must be after --from {args.start}")
    evidence = [await _store_file(ledger, path, args.by) for path in args.evidence]
    stored = await ledger.inputs.add_instrument(
        args.site, kind=args.kind, mwh=mwh, period_start=args.start, period_end=args.end,
        factor=factor, entered_by=args.by, certificates=args.certificate, evidence=evidence,
    )  # fmt: skip
    print(f"instrument {stored.id}: {args.kind} {mwh} MWh [{args.start}, {args.end}) at {factor}")
    return _months(Month.of(args.start), Month.of(args.end - timedelta(days=1)).next())


def _months(first: Month, end: Month) -> list[Month]:
    """The months from ``first`` up to, not including, ``end``."""
    months = []
    while first < end:
        months.append(first)
        first = first.next()
    return months


async def _add_production(ledger: Ledger, args: argparse.Namespace) -> list[Month]:
    lines = ledger.book.production_lines()
    if args.line not in lines:
        known = ", ".join(sorted(lines)) or "none declared"
        raise InputError("line", args.line, f"not a production line of {args.site} ({known})")
    tonnes = read_number("tonnes", args.tonnes)
    stored = await ledger.inputs.add_production(
        args.site, args.month, args.line, tonnes, source=args.source, entered_by=args.by,
        replace=args.replace,
    )  # fmt: skip
    print(f"production {stored.id}: {args.line} {tonnes} t in {args.month} ({args.source})")
    return [args.month]


_ADD = {"entry": _add_entry, "instrument": _add_instrument, "production": _add_production}


def read_amount(field: str, text: str) -> tuple[Decimal, str]:
    """Split ``"1200 L"`` into its Decimal and unit; refuse anything else, naming it."""
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise InputError(field, text, 'give a number and a unit, like "1200 L"')
    return Decimal(match[1]), match[2]


def read_number(field: str, text: str, *, positive: bool = False) -> Decimal:
    """Read a non-negative decimal number (positive when asked), naming the field if not."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number < 0 or (positive and number == 0):
        raise InputError(field, text, f"must be a {'positive' if positive else 'non-negative'} "
                         "decimal number")  # fmt: skip
    return number


async def _store_file(ledger: Ledger, path: Path, by: str) -> str:
    try:
        content = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise InputError("evidence", str(path), exc.strerror or "cannot be read") from exc
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    ref = await ledger.inputs.store_evidence(content, path.name, media, by)
    print(f"evidence {path.name}: sha256 {ref.sha256} ({ref.size} bytes)")
    return ref.sha256


async def _recheck(ledger: Ledger, month: Month) -> None:
    """Say what the input does to the month's statement: pending, redo the draft, or none."""
    latest = await ledger.statements.latest(ledger.book.site, str(month))
    if latest is None:
        return
    if latest.status.value != "approved":
        print(
            f"{month} has a {latest.status.value} draft (version {latest.version}): close it "
            "again with --reason to include this"
        )
        return
    changes = await closing.recheck(
        ledger.book, month, ledger.readings, ledger.statements, ledger.inputs, ledger.inputs
    )
    for change in changes:
        print(f"{month} is approved; pending restatement: {change.key}: "
              f"{change.before} -> {change.after}")  # fmt: skip


async def _list(ledger: Ledger, args: argparse.Namespace) -> Sequence[Any]:
    if args.group == "entry":
        return await ledger.inputs.entries(args.site, args.month, voided=args.voided)
    if args.group == "instrument":
        return await ledger.inputs.instruments(args.site, args.month, voided=args.voided)
    return await ledger.inputs.production(args.site, args.month, voided=args.voided)


def _print_list(group: str, listed: Sequence[Any]) -> None:
    for item in listed:
        r = item.record
        if group == "entry":
            files = ", ".join(f"{e.filename} sha256:{e.sha256}" for e in r.evidence)
            gas = f" ({r.gas})" if r.gas else ""
            text = f"{r.category} {r.quantity} {r.unit}{gas} {r.description!r} [{files}]"
        elif group == "instrument":
            text = (f"{r.kind} {r.mwh} MWh [{r.period_start}, {r.period_end}) at {r.factor} "
                    f"tCO2/MWh, certificates {', '.join(r.certificates) or '-'}")  # fmt: skip
        else:
            text = f"{r.line} {r.tonnes} t ({r.source})"
        voided = f"  VOIDED by {item.voided.by}: {item.voided.reason}" if item.voided else ""
        print(f"{r.id:>6} {text} by {r.entered_by} at {r.entered_at:%Y-%m-%d %H:%M}{voided}")
    if not listed:
        print(f"no {group} records")
