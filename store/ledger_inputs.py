"""Ledger inputs in PostgreSQL: manual entries, instruments, production, evidence files.

Implements the ledger's `InputSource` port (what a month was given besides its meters) and
its `PendingRestatements` port, and the writes behind ``meterledger ledger entry|instrument|
production`` and the API. Numbers go in and out as exact Decimals (stored as text, as
typed). Evidence files are stored in the database by SHA-256 (migration 0007 says why);
the database checks the hash and keeps files, and inputs of approved months, immutable:
the one change such an input allows is being voided, with a reason.

Writing an input never changes a statement: the caller runs `ledger.closing.recheck`
afterwards, which turns an input for an approved month into a pending restatement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Literal

import psycopg

from ledger.periods import Month
from ledger.ports import (
    EntryRecord,
    EvidenceRef,
    InstrumentRecord,
    PeriodInputs,
    ProductionRecord,
)
from ledger.statements import LineChange
from meterledger.errors import InputError, StoreError
from store.ledger_input_rows import (
    ENTRY_COLUMNS,
    INSTRUMENT_COLUMNS,
    PRODUCTION_COLUMNS,
    Listed,
    entry_listed,
    instrument_listed,
    production_listed,
)
from store.queries import execute, fetch_all
from store.statements import record_pending
from store.transaction import Connections

MAX_EVIDENCE_BYTES = 25 * 1024 * 1024  # the table's CHECK says the same

Table = Literal["manual_entry", "contract_instrument", "production_entry"]


class StoreLedgerInputs:
    """Reads and writes ledger inputs; the ledger's `InputSource` over the database."""

    def __init__(self, pool: Connections) -> None:
        # A pool, or one transaction's connection (store.transaction) for an audited write.
        self._pool = pool

    async def period_inputs(self, site: str, month: Month) -> PeriodInputs:
        """The live inputs of a site's month (`ledger.ports.InputSource`)."""
        entries = await self.entries(site, month)
        instruments = await self.instruments(site, month)
        production = await self.production(site, month)
        return PeriodInputs(
            tuple(e.record for e in entries),
            tuple(i.record for i in instruments),
            tuple(p.record for p in production),
        )

    async def record_pending(
        self, site: str, period: str, version: int, changes: list[LineChange]
    ) -> None:
        """Keep the pending restatement of an approved month (`PendingRestatements`)."""
        await record_pending(self._pool, site, period, version, changes)

    async def store_evidence(
        self, content: bytes, filename: str, media_type: str, stored_by: str
    ) -> EvidenceRef:
        """Store a file once by its SHA-256 and return its reference; the same bytes
        stored again return the first reference (with the first file name)."""
        if len(content) > MAX_EVIDENCE_BYTES:
            raise InputError(
                "evidence", filename, f"{len(content)} bytes; at most {MAX_EVIDENCE_BYTES}"
            )
        digest = hashlib.sha256(content).hexdigest()
        await self._execute(
            """INSERT INTO evidence_file (sha256, filename, media_type, size, content, stored_by)
               VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (sha256) DO NOTHING""",
            (digest, filename, media_type, len(content), content, stored_by),
            f"storing evidence {filename}",
        )
        refs = await self._evidence([digest])
        return refs[digest]

    async def evidence_file(self, sha256: str) -> tuple[EvidenceRef, bytes] | None:
        """A stored file and its bytes, for an auditor's download; None when unknown."""
        rows = await self._rows(
            """SELECT sha256, filename, media_type, size, content FROM evidence_file
               WHERE sha256 = %s""",
            (sha256,),
        )
        if not rows:
            return None
        digest, name, media, size, content = rows[0]
        return EvidenceRef(digest, name, media, size), bytes(content)

    async def add_entry(
        self,
        site: str,
        month: Month,
        *,
        category: str,
        quantity: Decimal,
        unit: str,
        entered_by: str,
        description: str = "",
        factor: str | None = None,
        gas: str | None = None,
        density: Decimal | None = None,
        density_unit: str | None = None,
        evidence: Sequence[str] = (),
    ) -> EntryRecord:
        """Record a manual activity entry; ``evidence`` are SHA-256s of stored files.

        Check the entry with `ledger.manual.state_entry` first: this stores what it is given.
        """
        row = await self._insert(
            site,
            f"""INSERT INTO manual_entry (site_id, period, category, quantity, unit,
                       description, factor, gas, density, density_unit, evidence, entered_by)
                SELECT id, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s FROM site WHERE key = %s
                RETURNING {ENTRY_COLUMNS.replace("e.", "")}""",
            (
                str(month),
                category,
                _text("quantity", quantity),
                unit,
                description,
                factor,
                gas,
                None if density is None else _text("density", density),
                density_unit,
                list(evidence),
                entered_by,
                site,
            ),
        )
        return (await self._entries([row]))[0].record

    async def entries(
        self, site: str, month: Month | None = None, *, voided: bool = False
    ) -> list[Listed[EntryRecord]]:
        """A site's entries (of one month, or all), oldest first; voided ones on request."""
        rows = await self._rows(
            f"""SELECT {ENTRY_COLUMNS} FROM manual_entry e JOIN site s ON s.id = e.site_id
                WHERE s.key = %s AND (%s::text IS NULL OR e.period = %s)
                  AND (%s OR e.voided_at IS NULL)
                ORDER BY e.entered_at, e.id""",
            (site, _month(month), _month(month), voided),
        )
        return await self._entries(rows)

    async def add_instrument(
        self,
        site: str,
        *,
        kind: str,
        mwh: Decimal,
        period_start: date,
        period_end: date,
        factor: Decimal,
        entered_by: str,
        certificates: Sequence[str] = (),
        evidence: Sequence[str] = (),
    ) -> InstrumentRecord:
        """Record a contractual instrument: MWh over [period_start, period_end) at
        ``factor`` tCO2/MWh."""
        if period_end <= period_start:
            raise InputError("period", f"{period_start}..{period_end}", "must end after it starts")
        row = await self._insert(
            site,
            f"""INSERT INTO contract_instrument (site_id, kind, mwh, period_start, period_end,
                       factor, certificates, evidence, entered_by)
                SELECT id, %s, %s, %s, %s, %s, %s, %s, %s FROM site WHERE key = %s
                RETURNING {INSTRUMENT_COLUMNS.replace("i.", "")}""",
            (
                kind,
                _text("mwh", mwh),
                period_start,
                period_end,
                _text("factor", factor),
                list(certificates),
                list(evidence),
                entered_by,
                site,
            ),
        )
        return (await self._instruments([row]))[0].record

    async def instruments(
        self, site: str, month: Month | None = None, *, voided: bool = False
    ) -> list[Listed[InstrumentRecord]]:
        """A site's instruments (those overlapping ``month``, or all), oldest first."""
        start = month.first_day if month else None
        end = month.next().first_day if month else None
        rows = await self._rows(
            f"""SELECT {INSTRUMENT_COLUMNS} FROM contract_instrument i
                JOIN site s ON s.id = i.site_id
                WHERE s.key = %s AND (%s::date IS NULL OR
                      (i.period_start < %s::date AND i.period_end > %s::date))
                  AND (%s OR i.voided_at IS NULL)
                ORDER BY i.entered_at, i.id""",
            (site, start, end, start, voided),
        )
        return await self._instruments(rows)

    async def add_production(
        self,
        site: str,
        month: Month,
        line: str,
        tonnes: Decimal,
        *,
        source: str,
        entered_by: str,
        replace: bool = False,
    ) -> ProductionRecord:
        """Record a line's output for a month; ``replace`` voids the live figure first.

        A line has one live figure per month: without ``replace`` a second is refused.
        """
        sql = f"""INSERT INTO production_entry (site_id, period, line, tonnes, source, entered_by)
                  SELECT id, %s, %s, %s, %s, %s FROM site WHERE key = %s
                  RETURNING {PRODUCTION_COLUMNS.replace("p.", "")}"""
        params = (str(month), line, _text("tonnes", tonnes), source, entered_by, site)
        try:
            async with self._pool.connection() as conn, conn.transaction():
                if replace:
                    await conn.execute(
                        """UPDATE production_entry p SET voided_at = now(), voided_by = %s,
                               void_reason = 'replaced by a new figure'
                           FROM site s WHERE s.id = p.site_id AND s.key = %s AND p.line = %s
                             AND p.period = %s AND p.voided_at IS NULL""",
                        (entered_by, site, line, str(month)),
                    )
                cur = await conn.execute(sql, params)
                row = await cur.fetchone()
        except psycopg.errors.UniqueViolation as exc:
            raise InputError(
                "line", line, f"already has a figure for {month}; replace it or void it first"
            ) from exc
        except psycopg.Error as exc:
            raise _refused("production", exc) from exc
        if row is None:
            raise InputError("site", site, "no such site")
        return production_listed(row).record

    async def production(
        self, site: str, month: Month | None = None, *, voided: bool = False
    ) -> list[Listed[ProductionRecord]]:
        """A site's production figures (of one month, or all), oldest first."""
        rows = await self._rows(
            f"""SELECT {PRODUCTION_COLUMNS} FROM production_entry p JOIN site s ON s.id = p.site_id
                WHERE s.key = %s AND (%s::text IS NULL OR p.period = %s)
                  AND (%s OR p.voided_at IS NULL)
                ORDER BY p.entered_at, p.id""",
            (site, _month(month), _month(month), voided),
        )
        return [production_listed(row) for row in rows]

    async def void(
        self, site: str, table: Table, input_id: int, voided_by: str, reason: str
    ) -> tuple[str, str]:
        """Void a live input of a site with a reason; return the first and last month it
        counts in (``YYYY-MM``), which the caller rechecks."""
        if not reason.strip():
            raise InputError("reason", reason, "say why the input is voided")
        months = (
            "to_char(t.period_start, 'YYYY-MM'), to_char(t.period_end - 1, 'YYYY-MM')"
            if table == "contract_instrument"
            else "t.period, t.period"
        )
        try:
            async with self._pool.connection() as conn:
                cur = await conn.execute(
                    f"""UPDATE {table} t SET voided_at = now(), voided_by = %s, void_reason = %s
                        FROM site s WHERE s.id = t.site_id AND s.key = %s
                          AND t.id = %s AND t.voided_at IS NULL
                        RETURNING {months}""".encode(),
                    (voided_by, reason, site, input_id),
                )
                row = await cur.fetchone()
        except psycopg.Error as exc:
            raise _refused(table, exc) from exc
        if row is None:
            raise InputError("id", str(input_id), f"no live row of {site} in {table}")
        return str(row[0]), str(row[1])

    async def _insert(self, site: str, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...]:
        try:
            async with self._pool.connection() as conn:
                cur = await conn.execute(sql.encode(), params)
                row: tuple[Any, ...] | None = await cur.fetchone()
        except psycopg.Error as exc:
            raise _refused("input", exc) from exc
        if row is None:
            raise InputError("site", site, "no such site")
        return row

    async def _entries(self, rows: Sequence[tuple[Any, ...]]) -> list[Listed[EntryRecord]]:
        refs = await self._evidence([sha for row in rows for sha in row[11]])
        return [entry_listed(row, refs) for row in rows]

    async def _instruments(self, rows: Sequence[tuple[Any, ...]]) -> list[Listed[InstrumentRecord]]:
        refs = await self._evidence([sha for row in rows for sha in row[9]])
        return [instrument_listed(row, refs) for row in rows]

    async def _evidence(self, digests: Sequence[str]) -> dict[str, EvidenceRef]:
        if not digests:
            return {}
        rows = await self._rows(
            """SELECT sha256, filename, media_type, size FROM evidence_file
               WHERE sha256 = ANY(%s)""",
            (list(set(digests)),),
        )
        return {row[0]: EvidenceRef(*row) for row in rows}

    async def _execute(self, sql: str, params: tuple[Any, ...], doing: str) -> None:
        await execute(self._pool, sql, params, doing)

    async def _rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return await fetch_all(self._pool, sql, params, "reading ledger inputs")


def _refused(what: str, exc: psycopg.Error) -> StoreError:
    """The database's refusal of an input, in its own words (a guard or a CHECK)."""
    message = exc.diag.message_primary or str(exc)
    return StoreError(f"{what} refused: {message}")


def _text(field: str, value: Decimal) -> str:
    """An exact decimal as the tables keep it: digits, a point, no sign or exponent."""
    if not value.is_finite() or value < 0:
        raise InputError(field, str(value), "must be a finite number, not negative")
    return format(value, "f")


def _month(month: Month | None) -> str | None:
    return None if month is None else str(month)
