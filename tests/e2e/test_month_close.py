"""A month closed from the simulated plant matches the simulators' ground truth.

March 2026 in Berlin (743 h) on `tests/plants/month.yaml`: two accelerated backfills
through the real protocols and the collector, one across the month's start and one across
its end, with the collector down for the 30 days between them. On the last evening the grid
meter is replaced (the simulator records the meter event), the gas corrector's register
wraps at 100000 Nm3 and the grid meter goes silent for half an hour. The closed month's
activity for every counter must equal what the models delivered over the month to 0.01 %.
"""

import asyncio
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import psycopg

from ledger import closing
from ledger.periods import Month, Period
from ledger.workflow import BLOCKING
from meterledger.backfill import backfill, backfill_config, ground_truth_report
from meterledger.books import poll_intervals, site_book
from meterledger.config import load_config
from meterledger.settings import Settings
from store.catalog import sync_catalog
from store.ledger_inputs import StoreLedgerInputs
from store.pool import open_pool
from store.rollup_source import StoreRollupSource
from store.statements import StoreStatements

PLANT = Path(__file__).resolve().parents[1] / "plants" / "month.yaml"
MARCH = Month(2026, 3)
INTERVAL = 300
SPEED = 1800  # simulated seconds per second: 12 h of plant in about 25 s
WINDOWS = (  # local Berlin time: CET at the start of the month, CEST at its end
    ("2026-02-28T22:00:00+01:00", "2026-03-01T02:00:00+01:00"),
    ("2026-03-31T18:00:00+02:00", "2026-04-01T02:00:00+02:00"),
)
# statement activity -> (meter, ground-truth counter)
COUNTERS = {
    "grid/energy_import": ("grid", "import_energy"),
    "grid/energy_export": ("grid", "export_energy"),
    "workshop/energy_import": ("workshop", "import_energy"),
    "pv/energy_import": ("pv", "import_energy"),
    "gas/volume": ("gas", "volume"),
    "steam/mass": ("steam", "mass"),
    "steam/energy": ("steam", "energy"),
    "water/volume": ("water", "volume"),
    "line/output": ("line", "output"),
}


def _stamp(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


async def _backfill(database_url: str, mqtt_url: str, data_dir: Path, window: int) -> None:
    start, end = (_stamp(t) for t in WINDOWS[window])
    config = backfill_config(PLANT, load_config(PLANT), start, end, INTERVAL)
    settings = Settings(database_url=database_url, mqtt_url=mqtt_url, data_dir=data_dir)
    result = await asyncio.wait_for(
        backfill(config, settings, (start, end), SPEED, INTERVAL, asyncio.Event()), 120
    )
    assert result.received >= 0.8 * result.expected, result  # a busy machine skips ticks


async def test_closed_month_matches_ground_truth_through_wrap_replacement_and_outage(
    database_url: str, mqtt_url: str, tmp_path: Path
) -> None:
    for window in range(len(WINDOWS)):  # the collector is down between the two
        await _backfill(database_url, mqtt_url, tmp_path / f"run{window}", window)

    with psycopg.connect(database_url) as conn:
        events = conn.execute("SELECT kind, new_value FROM meter_event").fetchall()
        wraps = conn.execute(
            "SELECT count(*) FROM reading r JOIN point p ON p.id = r.point_id"
            " WHERE p.key = 'volume' AND r.quality & 2 <> 0"
        ).fetchone()
    assert ("replacement", 0.0) in events, "the simulator recorded the replacement"
    assert wraps == (1,), "the collector flagged the gas register's wrap once"

    config = load_config(PLANT)
    polled = backfill_config(PLANT, config, *(_stamp(t) for t in WINDOWS[1]), INTERVAL)
    ids = sync_catalog(database_url, config.sites)
    book = site_book(config.sites[0], config.ledger, ids, poll_intervals(polled, ids))
    pool = await open_pool(database_url)
    try:
        stored = await closing.close(
            book,
            MARCH,
            StoreRollupSource(pool),
            StoreStatements(pool),
            inputs=StoreLedgerInputs(pool),
        )
    finally:
        await pool.close()

    interval = Period("Europe/Berlin", MARCH).interval
    t0, t1 = interval.start.timestamp(), interval.end.timestamp()
    assert t1 - t0 == 743 * 3600
    truth = {(r.meter, r.quantity): r.value for r in ground_truth_report(config, t0, t1, INTERVAL)}
    activities = {a["key"]: a for a in json.loads(stored.content)["activities"]}
    for key, (meter, counter) in COUNTERS.items():
        activity = activities[key]
        quantity, expected = Decimal(activity["quantity"]), Decimal(repr(truth[(meter, counter)]))
        assert expected > 0, key
        assert abs(quantity - expected) <= expected * Decimal("1e-4"), (key, expected, activity)
        assert Decimal(activity["estimated_share"]) == 0, f"{key}: both boundaries were read"
        assert 0 < Decimal(activity["coverage"]) < Decimal("0.05"), f"{key}: the outage shows"
    codes = {code for code, *_ in json.loads(stored.content)["findings"]}
    assert not codes & BLOCKING, codes
    assert "UNMETERED_SHARE" in codes, "the workshop and PV balance against the grid meter"
    assert any("wrap" in c for c in activities["gas/volume"]["corrections"])
    assert any("replacement" in c for c in activities["grid/energy_import"]["corrections"])
