"""Publish the ingest load with paho, QoS 1, from a process of its own.

    python -m bench.mqtt_publisher URL TOPIC --start S --meters M --points P --sets S
                                   --messages N --ahead READINGS

Prints ``ready`` once connected, with every payload built beforehand so that the
publisher spends little CPU while the collector is measured. Each line then read from
standard input is the number of readings the collector has spooled so far; the first one
starts the run. Publishing stays at most ``--ahead`` readings in front of that count,
because a broker holds only so many unacknowledged messages per subscriber (Mosquitto's
``max_queued_messages`` is 1000 by default) and drops the rest. Prints ``done`` when the
broker has acknowledged every message, and exits when its stdin closes.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.mqtt_load import Load, payload


def command(url: str, topic: str, load: Load, ahead: int) -> tuple[str, ...]:
    """The arguments that start this publisher for ``load`` (in the benchmark)."""
    return (
        "-m",
        "bench.mqtt_publisher",
        url,
        topic,
        *("--start", str(load.start), "--meters", str(load.meters), "--points"),
        *(str(load.points), "--sets", str(load.sets), "--messages", str(load.messages)),
        *("--ahead", str(ahead)),
    )


class Progress:
    """The collector's spooled count, fed line by line on stdin by the benchmark."""

    def __init__(self) -> None:
        self.spooled = -1  # the first line starts the run
        self.closed = False
        self._changed = threading.Condition()

    def follow(self) -> None:
        """Read stdin until it closes (in a thread of its own)."""
        for line in sys.stdin:
            with self._changed:
                self.spooled = int(line)
                self._changed.notify_all()
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def wait_until_below(self, published: int, ahead: int) -> bool:
        """Wait until ``published`` is less than ``ahead`` in front; False if stdin closed."""
        with self._changed:
            self._changed.wait_for(
                lambda: self.closed or (self.spooled >= 0 and published - self.spooled < ahead)
            )
            return not self.closed

    def wait_closed(self) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self.closed)


def publish(url: str, topic: str, load: Load, ahead: int) -> None:
    """Publish the load as the benchmark lets it; return once stdin closes."""
    messages = [load.message(i) for i in range(load.messages)]
    payloads = [(topic.replace("{meter}", meter), payload(sets)) for meter, sets in messages]
    parts = urlsplit(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    if parts.username:
        client.username_pw_set(parts.username, parts.password)
    client.max_inflight_messages_set(100)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    progress = Progress()
    threading.Thread(target=progress.follow, daemon=True).start()
    print("ready", flush=True)
    info = None
    for index, (where, body) in enumerate(payloads):
        if not progress.wait_until_below(index * load.readings_per_message, ahead):
            break
        info = client.publish(where, body, qos=1)
    if info is not None:
        info.wait_for_publish(timeout=60)
    print("done", flush=True)
    progress.wait_closed()  # the benchmark still reports progress until it has every row
    client.disconnect()
    client.loop_stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.mqtt_publisher")
    parser.add_argument("url")
    parser.add_argument("topic", help="with {meter} where the meter's key goes")
    for name in ("start", "meters", "points", "sets", "messages", "ahead"):
        parser.add_argument(f"--{name}", type=int, required=True)
    args = parser.parse_args(argv)
    load = Load(args.start, args.meters, args.points, args.sets, args.messages)
    publish(args.url, args.topic, load, args.ahead)


if __name__ == "__main__":
    main()
