"""The example plant's ledger section: its lines and shared meters give per-line KPIs."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ledger.close import compute_statement
from ledger.memory import MemorySource, QualityBits
from ledger.periods import Month
from ledger.ports import Reading
from meterledger.books import LedgerConfig, production_lines, site_books
from meterledger.config import load_config
from meterledger.errors import ConfigError
from store.catalog import PointRef

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "plant.yaml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 1, tzinfo=SHANGHAI).astimezone(UTC)
END = datetime(2026, 4, 1, tzinfo=SHANGHAI).astimezone(UTC)


async def test_every_line_of_the_example_gets_kpis_and_every_split_conserves() -> None:
    config = load_config(EXAMPLE)
    site = config.sites[0]
    refs = [PointRef(site.id, m.id, p.id) for m in site.meters for p in m.points]
    ids = {ref: number for number, ref in enumerate(refs, start=1)}
    book = site_books(config, ids)[site.id]
    readings = {
        pid: [Reading(START, 1000.0), Reading(END, 1000.0 + 10 * pid)] for pid in ids.values()
    }
    statement = await compute_statement(
        book, Month(2026, 3), MemorySource(QualityBits(89, 2, 4), readings)
    )
    names = {k.name for k in statement.kpis}
    for line in ("line-cups", "line-bottles", "line-pouches"):
        assert f"{line}: electricity per output" in names
        assert f"{line}: steam per output" in names
        assert f"{line}: carbon per output, market-based" in names
    assert len(statement.allocations) == 5
    for split in statement.allocations:
        assert sum(split.shares) == split.total
    utilities = next(a for a in statement.allocations if a.meter == "ws-utilities")
    assert utilities.basis == "fixed"
    assert utilities.shares[0] == utilities.total / 2  # line-cups has weight 2 of 4
    gas = next(x for x in statement.lines if x.carrier == "natural_gas")
    assert gas.activity_unit == "Nm3"  # the corrector's Nm³ counter, not its m³ one
    pv = next(x for x in statement.lines if x.basis == "memo")
    assert pv.meter == "pv-roof"
    assert statement.total("location") > 0
    assert Decimal(0) not in {o.tonnes for o in statement.production}


def test_a_meter_given_with_the_meter_above_it_is_refused() -> None:
    config = load_config(EXAMPLE)
    raw = config.ledger.model_dump()
    raw["lines"] = {"shenyang-dairy": {"line-cups": {"meters": ["grid-main"]}}}
    ledger = LedgerConfig.model_validate(raw)
    with pytest.raises(ConfigError, match="'ws-filling' is below 'grid-main'"):
        production_lines(config.sites[0], ledger)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lines", {"shenyang-dairy": {"line-cups": {"meters": ["no-such"]}}}, "no meter 'no-such'"),
        ("lines", {"elsewhere": {"line-x": {}}}, "no site 'elsewhere'"),
        ("shared", {"shenyang-dairy": [{"meter": "ws-cold", "key": {"line-z": 1}}]},
         "no line 'line-z'"),
        (
            "shared",
            {"shenyang-dairy": [{"meter": "ws-cold", "key": "output"},
                                {"meter": "ws-cold", "key": "output"}]},
            "already given",
        ),
    ],
)  # fmt: skip
def test_line_declarations_that_cannot_be_used_are_refused_naming_the_field(
    field: str, value: object, message: str
) -> None:
    config = load_config(EXAMPLE)
    raw = config.ledger.model_dump()
    raw[field] = value
    broken = config.model_copy(update={"ledger": LedgerConfig.model_validate(raw)})
    ids = {PointRef(s.id, m.id, p.id): 1 for s in config.sites for m in s.meters for p in m.points}
    with pytest.raises(ConfigError, match=message) as refused:
        site_books(broken, ids)
    assert refused.value.field.startswith(f"ledger.{field}")


def test_an_unknown_gwp_set_is_refused() -> None:
    with pytest.raises(ValueError, match="no GWP set 'SAR'"):
        LedgerConfig(gwp="SAR")
