"""``meterledger collect --check``: read every configured point once and print it.

The first thing an installer runs on site: it shows, per device, whether the unit id,
the register map, the byte order and the scaling give plausible values in the point's
unit, before anything is stored. MQTT sources are listened to for ``--wait`` seconds and
the first message per topic is decoded the way the collector would.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import CollectorRegistry

from collector.config import ModbusSourceConfig
from collector.metrics import CollectorMetrics
from collector.modbus import ModbusGatewayPoller
from collector.mqtt import MqttSubscriber
from collector.spool import Spool
from collector.validation import Validator
from meterledger.config import PlantConfig
from meterledger.errors import DeviceError, PayloadError
from meterledger.modbus_wiring import device_plan

Ids = dict[tuple[str, str], int]
Units = dict[int, tuple[str, str, str]]


async def check(config: PlantConfig, mqtt_url: str | None, wait: float) -> int:
    """Print one reading of every point; return the number of devices or topics that failed."""
    ids: Ids = {}
    units: Units = {}
    for _, meter in config.meters().values():
        for point in meter.points:
            ids[(meter.id, point.id)] = len(ids) + 1
            units[ids[(meter.id, point.id)]] = (meter.id, point.id, point.unit)
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        spool = Spool(Path(folder) / "check.sqlite3")
        metrics = CollectorMetrics(CollectorRegistry())
        for source in config.sources.modbus:
            failures += await _check_modbus(config, source, ids, units, spool, metrics)
        if config.sources.mqtt:
            if not mqtt_url:
                print("MQTT: no broker configured (METERLEDGER_MQTT_URL); skipped")
                failures += len(config.sources.mqtt)
            else:
                failures += await _check_mqtt(config, mqtt_url, ids, units, spool, metrics, wait)
        spool.close()
    return failures


async def _check_modbus(
    config: PlantConfig,
    source: ModbusSourceConfig,
    ids: Ids,
    units: Units,
    spool: Spool,
    metrics: CollectorMetrics,
) -> int:
    meters = config.meters()
    plans = [device_plan(d, ids, meters[d.meter][1]) for d in source.devices]
    poller = ModbusGatewayPoller(source, plans, spool, metrics, Validator({}))
    failed = 0
    print(f"Modbus {source.id} ({source.transport} {source.host}:{source.port})")
    for plan in plans:
        started = time.perf_counter()
        try:
            rows = await poller.poll(plan, datetime.now(UTC))
        except DeviceError as exc:
            print(f"  unit {plan.unit_id:3} {plan.meter}: FAILED {exc.reason}")
            failed += 1
            continue
        took = (time.perf_counter() - started) * 1000
        print(f"  unit {plan.unit_id:3} {plan.meter}: {len(rows)} value(s) in {took:.0f} ms")
        for row in rows:
            _, point, unit = units[row.point_id]
            print(f"      {point:24} {row.value:>18.6g} {unit}")
    poller.close()
    return failed


async def _check_mqtt(
    config: PlantConfig,
    url: str,
    ids: Ids,
    units: Units,
    spool: Spool,
    metrics: CollectorMetrics,
    wait: float,
) -> int:
    subscriber = MqttSubscriber(
        url,
        config.sources.mqtt,
        ids,
        spool,
        metrics,
        validator=Validator({}),
        client_id="meterledger-check",
    )
    seen: dict[str, bytes] = {}
    loop = asyncio.get_running_loop()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", clean_session=True)

    def heard(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        loop.call_soon_threadsafe(seen.setdefault, msg.topic, bytes(msg.payload))

    client.on_message = heard
    client.on_connect = lambda c, *_: c.subscribe(
        [
            (s.subscription().split("/", 2)[-1] if s.shared_group else s.subscription(), 0)
            for s in config.sources.mqtt
        ]
    )
    parts = urlsplit(url)
    if parts.username:
        client.username_pw_set(parts.username, parts.password)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    print(f"MQTT {parts.hostname}:{parts.port}: listening {wait:.0f} s")
    await asyncio.sleep(wait)
    client.loop_stop()
    client.disconnect()
    failed = 0
    for topic, payload in sorted(seen.items()):
        try:
            rows = subscriber.decode(topic, payload, datetime.now(UTC))
        except PayloadError as exc:
            print(f"  {topic}: REFUSED {exc.reason}")
            failed += 1
            continue
        print(f"  {topic}: {len(rows)} value(s)")
        for row in rows:
            meter, point, unit = units[row.point_id]
            print(f"      {meter}/{point:24} {row.value:>18.6g} {unit}  at {row.ts:%H:%M:%S}")
    expected = {m for s in config.sources.mqtt for m in s.meters}
    matches = (source.match(topic) for topic in seen for source in config.sources.mqtt)
    answered = {named[0] for named in matches if named is not None}
    for meter in sorted(expected - answered):
        print(f"  {meter}: nothing heard in {wait:.0f} s")
        failed += 1
    return failed
