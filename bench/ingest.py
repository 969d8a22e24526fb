"""ingest: readings per second from MQTT into the table, against a bare psycopg COPY.

Ours: a publisher process sends 3,000 meterledger JSON batches of 100 readings (20 meters,
10 gauges, 10 seconds a message) with paho at QoS 1; the collector (as ``meterledger
collect`` runs it) decodes, validates, spools and acknowledges each message, and its
BatchWriter commits the rows (store/readings.py: a COPY into the table, the same rows into
a staging table for the hourly statistics, or ON CONFLICT DO NOTHING where some were
stored already). Timed from the publisher's start until the writer has committed every
row; the table is counted afterwards to prove they all arrived. The publisher keeps a bounded lead
over the collector, so the broker never drops messages and the collector, not the
publisher, sets the pace.

Ceiling: the same rows, already in memory, sent by one psycopg COPY (binary) straight into
the same (emptied) table and committed: the floor of what storing them costs. Measured
before and after ours, averaged.

Printed: our readings/s; ratio = ours / COPY (1.00 = as fast as the bare COPY).
Goal: ratio >= 0.5.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from bench import mqtt_publisher, plant
from bench.mqtt_load import Load, payload
from bench.processes import child, expect_line, failure, tell
from bench.report import Result
from bench.services import Services
from bench.system import Collector, collecting
from meterledger.config import PlantConfig
from store.catalog import sync_catalog
from store.readings import Reading

# A broker queues at most 1,000 messages per subscriber by default; stay well inside it.
AHEAD_MESSAGES = 400
TIMEOUT = 120.0
_COPY = "COPY reading (point_id, ts, value, quality) FROM STDIN (FORMAT BINARY)"

log = logging.getLogger(__name__)


async def run(services: Services) -> Result:
    assert services.mqtt_url is not None, "ingest needs a broker"
    tag = uuid.uuid4().hex[:8]
    load = Load.recent()
    topic = f"meterledger-bench-{tag}/{{meter}}/readings"
    client_id = f"meterledger-bench-{tag}"
    config = plant.save(
        plant.mqtt_plant(
            load.meter_keys(),
            load.point_keys(),
            topic=topic,
            spool=services.workdir / "ingest.spool",
            client_id=client_id,
        ),
        services.workdir / "ingest.yaml",
    )
    rows = await asyncio.to_thread(_rows, services.database_url, config, load)
    before = await asyncio.to_thread(copy_rate, services.database_url, rows)
    try:
        ours = await collector_rate(config, services, load, topic)
    finally:
        await asyncio.to_thread(_forget_session, services.mqtt_url, client_id)
    after = await asyncio.to_thread(copy_rate, services.database_url, rows)
    ceiling = (before + after) / 2  # either side of ours: a drift in the machine's load cancels
    log.info("ingest: COPY %.0f readings/s before, %.0f after", before, after)
    return Result("ingest", ours, "readings/s", ours / ceiling)


def _rows(database_url: str, config: PlantConfig, load: Load) -> list[Reading]:
    ids = sync_catalog(database_url, config.sites)
    return load.readings({(ref.meter, ref.point): point_id for ref, point_id in ids.items()})


def copy_rate(database_url: str, rows: list[Reading]) -> float:
    """Readings per second of one bare COPY into the emptied table, then empty it again."""
    _settle(database_url)
    with psycopg.connect(database_url) as conn:
        started = time.perf_counter()
        with conn.cursor().copy(_COPY) as copy:
            copy.set_types(["int4", "timestamptz", "float8", "int4"])
            for row in rows:
                copy.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - started
    _settle(database_url)
    return len(rows) / elapsed


def _settle(database_url: str) -> None:
    """Empty the table and write out dirty pages, so each timed run starts from one state.

    Without the CHECKPOINT, a run that follows 300,000 inserts pays for their checkpoint.
    It needs superuser (or pg_checkpoint); without it the runs are merely noisier.
    """
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("TRUNCATE reading")
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
            conn.execute("CHECKPOINT")


async def collector_rate(config: PlantConfig, services: Services, load: Load, topic: str) -> float:
    """Readings per second from the publisher's start to the last row committed."""
    assert services.mqtt_url is not None
    log_file = services.workdir / "ingest.publisher.log"
    ahead = AHEAD_MESSAGES * load.readings_per_message
    args = mqtt_publisher.command(services.mqtt_url, topic, load, ahead)
    async with child(*args, log=log_file, talk=True) as publisher:
        await expect_line(publisher, "ready", log_file, within=60)
        async with collecting(config, services) as collector:
            probe = await _probe(collector, services.mqtt_url, topic, load)
            elapsed = await _timed(collector, publisher, load.total)
            if elapsed is None:
                raise failure("the publisher stopped early", log_file)
    stored = await asyncio.to_thread(_count, services.database_url)
    if stored != load.total + probe:
        raise RuntimeError(f"{stored} rows stored, {load.total + probe} sent")
    await asyncio.to_thread(_settle, services.database_url)
    return load.total / elapsed


async def _timed(
    collector: Collector, publisher: asyncio.subprocess.Process, total: int
) -> float | None:
    """Seconds from starting the publisher until ``total`` more rows are committed.

    None if the publisher's pipe broke first (it died; its log says why).
    """
    spooled, written = collector.received("load"), collector.written()
    started = time.monotonic()
    feeding = asyncio.create_task(_feed(publisher, collector, spooled))
    try:
        await collector.until(
            lambda: feeding.done() or collector.written() - written >= total,
            TIMEOUT,
            f"committing {total} readings",
        )
    finally:
        feeding.cancel()
    if feeding.done() and not feeding.cancelled() and feeding.exception() is not None:
        return None
    return time.monotonic() - started


async def _feed(
    publisher: asyncio.subprocess.Process, collector: Collector, spooled_before: int
) -> None:
    """Tell the publisher how far the collector is, every 20 ms (the first line starts it).

    The publisher's lead (AHEAD_MESSAGES) lasts far longer than that at any rate seen.
    """
    while True:
        await tell(publisher, str(collector.received("load") - spooled_before))
        await asyncio.sleep(0.02)


async def _probe(collector: Collector, url: str, topic: str, load: Load) -> int:
    """Send one message until it is committed: the subscription and the writer are live.

    Return the number of rows it stored. Re-sent copies are the same rows (same instant),
    which the primary key swallows, so only the first one counts.
    """
    meter, sets = load.message(0)
    _, values = sets[0]
    body = payload([(load.start - 60, values)])
    client = _connect(url, f"{topic.split('/')[0]}-probe")
    try:
        for _ in range(40):
            client.publish(topic.replace("{meter}", meter), body, qos=1)
            await collector.sleep(0.25)
            if collector.written() >= len(values):
                return len(values)
    finally:
        client.disconnect()
        client.loop_stop()
    raise RuntimeError("the collector received nothing: is it subscribed?")


def _connect(url: str, client_id: str, *, clean: bool = True) -> mqtt.Client:
    parts = urlsplit(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
    if parts.username:
        client.username_pw_set(parts.username, parts.password)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    return client


def _forget_session(url: str, client_id: str) -> None:
    """Drop the collector's persistent session, so a shared broker keeps no trace of us."""
    client = _connect(url, client_id, clean=True)
    time.sleep(0.2)
    client.disconnect()
    client.loop_stop()


def _count(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM reading").fetchone()
    return int(row[0]) if row else 0
