from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ledger.findings import Finding
from ledger.statements import (
    GENESIS,
    Line,
    Statement,
    Status,
    canonical,
    diff,
    seal,
    verify_chain,
)
from ledger.workflow import advance, restate
from meterledger.errors import WorkflowError

AT = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)


def line(key: str, kwh: str, tco2e: str, factor: str = "cn-mee-2023") -> Line:
    return Line(
        key=key,
        scope="2",
        category="purchased electricity",
        carrier="electricity",
        meter="grid-main",
        activity=Decimal(kwh),
        activity_unit="kWh",
        factor_id=factor,
        factor_version="1",
        tco2e=Decimal(tco2e),
        formula=f"{kwh} kWh × 0.5703 tCO2/MWh",
    )


MARCH = Statement("dairy", "2026-03", 1, (line("grid", "222690", "127.000107"),), computed_at=AT)
APRIL = Statement("dairy", "2026-04", 1, (line("grid", "18500", "10.55055"),), computed_at=AT)


def test_canonical_form_is_exact_and_order_free() -> None:
    assert canonical({"b": Decimal("1.50"), "a": [AT]}) == (
        b'{"a":["2026-04-01T02:00:00+00:00"],"b":"1.5"}'
    )
    with pytest.raises(ValueError, match="naive"):
        canonical({"at": datetime(2026, 4, 1)})


def test_chain_holds_until_a_figure_is_edited() -> None:
    first = seal(MARCH, None)
    second = seal(APRIL, first.hash)
    assert first.previous_hash == GENESIS
    assert verify_chain([first, second]) == []
    edited = replace(first, statement=replace(MARCH, lines=(line("grid", "222690", "127"),)))
    codes = [f.code for f in verify_chain([edited, second])]
    assert codes == ["CONTENT_CHANGED"]


def test_dropping_a_statement_breaks_the_next_link() -> None:
    first = seal(MARCH, None)
    second = seal(APRIL, first.hash)
    assert [f.code for f in verify_chain([second])] == ["CHAIN_BROKEN"]


def test_diff_names_changed_inputs_and_deltas() -> None:
    restated = replace(
        MARCH,
        version=2,
        reason="late readings",
        lines=(
            line("grid", "223000", "127.1769", factor="cn-mee-2023"),
            line("gas", "1000", "2.1622"),
        ),
    )
    changes = {c.key: c for c in diff(MARCH, restated)}
    assert changes["grid"].fields == ("activity", "tco2e", "formula")
    assert changes["grid"].delta == Decimal("0.176793")
    assert changes["gas"].before is None
    assert changes["gas"].delta == Decimal("2.1622")


def test_workflow_moves_one_step_at_a_time() -> None:
    status = advance(Status.OPEN, Status.CLOSED)
    status = advance(status, Status.REVIEWED)
    assert advance(status, Status.APPROVED) is Status.APPROVED
    with pytest.raises(WorkflowError, match="not the next step"):
        advance(Status.OPEN, Status.APPROVED)


def test_blocking_findings_keep_a_statement_in_draft() -> None:
    finding = Finding("PARTS_DO_NOT_SUM", "stages", "0.694405 vs 0.694447", "check")
    with pytest.raises(WorkflowError) as caught:
        advance(Status.CLOSED, Status.REVIEWED, [finding])
    assert caught.value.findings == (finding,)
    assert advance(Status.OPEN, Status.CLOSED, [finding]) is Status.CLOSED


def test_restatement_needs_an_approved_period_and_a_reason() -> None:
    assert restate(Status.APPROVED, 1, "late readings from meter 7") == (Status.CLOSED, 2)
    with pytest.raises(WorkflowError, match="needs a reason"):
        restate(Status.APPROVED, 1, "  ")
    with pytest.raises(WorkflowError, match="only approved"):
        restate(Status.REVIEWED, 1, "typo")
