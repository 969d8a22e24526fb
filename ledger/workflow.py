"""The period workflow: who may move a period where, and what a restatement must carry.

open → closed (a draft statement exists) → reviewed → approved (locked). An approved
period changes only through a restatement: a new version, with a reason, that goes through
closed and reviewed again. Blocking findings stop a statement from leaving draft.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.close import BLOCKING as CLOSE_BLOCKING
from ledger.findings import Finding
from ledger.statements import Status
from meterledger.errors import WorkflowError

_NEXT = {
    Status.OPEN: Status.CLOSED,
    Status.CLOSED: Status.REVIEWED,
    Status.REVIEWED: Status.APPROVED,
}

#: Finding codes that stop a statement from being reviewed or approved.
BLOCKING = CLOSE_BLOCKING | {"PARTS_DO_NOT_SUM", "CHAIN_BROKEN", "CONTENT_CHANGED"}


def advance(status: Status, target: Status, findings: Sequence[Finding] = ()) -> Status:
    """Return ``target`` if the workflow allows the move; raise WorkflowError otherwise."""
    if _NEXT.get(status) != target:
        raise WorkflowError(status.value, target.value, "not the next step")
    blocking = [f for f in findings if f.code in BLOCKING]
    if target in (Status.REVIEWED, Status.APPROVED) and blocking:
        codes = ", ".join(sorted({f.code for f in blocking}))
        raise WorkflowError(
            status.value, target.value, f"blocking findings: {codes}", findings=tuple(blocking)
        )
    return target


def restate(status: Status, version: int, reason: str) -> tuple[Status, int]:
    """Open a new version of an approved period; the reason is mandatory."""
    if status is not Status.APPROVED:
        raise WorkflowError(status.value, Status.CLOSED.value, "only approved periods are restated")
    if not reason.strip():
        raise WorkflowError(status.value, Status.CLOSED.value, "a restatement needs a reason")
    return Status.CLOSED, version + 1
