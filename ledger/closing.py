"""The period workflow on stored statements: close, review, approve, restate.

Drafts and restatements are new versions, sealed into the site's hash chain; nothing is
rewritten. The statement store is a port, so this runs against the database or a fake.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from ledger.close import SiteBook, compute_statement
from ledger.periods import Month
from ledger.ports import CounterSource, InputSource
from ledger.statements import LineChange, Sealed, Status, findings_of, seal, stored_diff
from ledger.workflow import advance
from meterledger.errors import WorkflowError


@dataclass(frozen=True, slots=True)
class StoredStatement:
    site: str
    period: str
    version: int
    status: Status
    hash: str
    previous_hash: str
    content: bytes
    reason: str | None
    created_at: datetime


class StatementStore(Protocol):
    async def latest(self, site: str, period: str) -> StoredStatement | None:
        """The newest version of a site's period, or None while it is open."""
        ...

    async def append(self, site: str, sealed: Sealed, status: Status) -> StoredStatement:
        """Store a sealed statement, refusing it unless it extends the site's chain."""
        ...

    async def set_status(self, site: str, period: str, version: int, status: Status) -> None: ...

    async def chain_head(self, site: str) -> str | None:
        """The hash of the site's newest statement, any period."""
        ...


class PendingRestatements(Protocol):
    async def record_pending(
        self, site: str, period: str, version: int, changes: list[LineChange]
    ) -> None:
        """Keep what an approved month would change (nothing: forget it)."""
        ...


async def close(
    book: SiteBook,
    month: Month,
    source: CounterSource,
    store: StatementStore,
    *,
    reason: str | None = None,
    inputs: InputSource | None = None,
) -> StoredStatement:
    """Close an open month (version 1), redo a draft, or restate an approved one.

    Redoing a draft or restating needs a reason; a reviewed draft must be redone too if
    the figures changed, since review applied to the old ones.
    """
    latest = await store.latest(book.site, str(month))
    if latest is not None and not (reason and reason.strip()):
        raise WorkflowError(
            latest.status.value,
            Status.CLOSED.value,
            f"{book.site} {month} has version {latest.version}: say why "
            "it is computed again (a reason)",
        )
    version = 1 if latest is None else latest.version + 1
    statement = await compute_statement(
        book, month, source, inputs=inputs, version=version, reason=reason
    )
    sealed = seal(statement, await store.chain_head(book.site))
    return await store.append(book.site, sealed, Status.CLOSED)


async def move(store: StatementStore, site: str, month: Month, target: Status) -> StoredStatement:
    """Review or approve the latest version; blocking findings stop it (ledger.workflow)."""
    latest = await store.latest(site, str(month))
    if latest is None:
        raise WorkflowError(Status.OPEN.value, target.value, f"{site} {month} is not closed")
    advance(latest.status, target, findings_of(latest.content))
    await store.set_status(site, str(month), latest.version, target)
    return replace(latest, status=target)


async def pending_restatement(
    book: SiteBook,
    month: Month,
    source: CounterSource,
    store: StatementStore,
    inputs: InputSource | None = None,
) -> list[LineChange]:
    """What an approved month would change if computed now; empty when it still holds.

    Late readings, a corrected meter event or a new factor record move figures after
    approval; they are shown as a diff, and become a new version only when someone
    restates the month with a reason.
    """
    latest = await store.latest(book.site, str(month))
    return await changes_since(book, month, source, latest, inputs)


async def changes_since(
    book: SiteBook,
    month: Month,
    source: CounterSource,
    latest: StoredStatement | None,
    inputs: InputSource | None = None,
) -> list[LineChange]:
    """`pending_restatement` for a caller that has already read the latest version."""
    if latest is None or latest.status is not Status.APPROVED:
        return []
    fresh = await compute_statement(book, month, source, inputs=inputs, version=latest.version + 1)
    return stored_diff(latest.content, fresh)


async def recheck(
    book: SiteBook,
    month: Month,
    source: CounterSource,
    store: StatementStore,
    inputs: InputSource,
    pending: PendingRestatements,
) -> list[LineChange]:
    """Record what an approved month would change now; call it after entering an input.

    An entry, instrument or production figure for an approved month never changes the
    approved statement: like a late reading, it becomes a pending restatement that a
    person restates with a reason. Months that are not approved need nothing here (an
    open month takes the input when it closes; a draft is closed again with a reason).
    """
    latest = await store.latest(book.site, str(month))
    if latest is None or latest.status is not Status.APPROVED:
        return []
    changes = await changes_since(book, month, source, latest, inputs)
    await pending.record_pending(book.site, str(month), latest.version, changes)
    return changes
