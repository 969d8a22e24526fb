"""Services for the tests, from the environment or started here.

``METERLEDGER_TEST_DATABASE_URL`` names a PostgreSQL or TimescaleDB server (each test that
needs one gets a fresh database on it); without it an embedded PostgreSQL is started.
``METERLEDGER_TEST_MQTT_URL`` names a broker; without it a private Mosquitto is started
(the embedded amqtt broker cannot redeliver, so broker tests need a real one). Under
pytest-xdist (tests/run.sh) each worker starts its own, in folders and on ports of its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import psycopg
import pytest
from hypothesis import settings
from paho.mqtt.enums import CallbackAPIVersion
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from xdist.remote import Producer
from xdist.scheduler import LoadScopeScheduling

from meterledger.config import PlantConfig
from meterledger.embedded import embedded_postgres, free_port

ROOT = Path(__file__).resolve().parent.parent

# Two xdist workers share the 2 cores with the database and the broker, so an example's wall
# time measures the machine, not the code: Hypothesis' 200 ms deadline would only flake.
settings.register_profile("meterledger", deadline=None)
settings.load_profile("meterledger")


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server to create test databases on."""
    url = os.environ.get("METERLEDGER_TEST_DATABASE_URL")
    if url:
        yield url
        return
    base = Path("/var/lib/meterledger-test") if os.geteuid() == 0 else Path(tempfile.gettempdir())
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(dir=_mkdir(base)))
        with _one_at_a_time(base / ".embedded-start.lock"):
            embedded = stack.enter_context(embedded_postgres(Path(folder)))
        yield embedded


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _one_at_a_time(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock`` while the block runs.

    Each xdist worker starts its own embedded PostgreSQL. As root, pgserver first creates its
    system user with ``useradd`` outside its own lock: on a fresh machine two workers could
    both find the user missing, and the second ``useradd`` would fail.
    """
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture
def database_url(server_url: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"ml_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    params = conninfo_to_dict(server_url)
    params["dbname"] = name
    yield make_conninfo(**params)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def mqtt_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("METERLEDGER_TEST_MQTT_URL")
    if url:
        yield url
        return
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.path.exists(binary):
        pytest.fail("broker tests need Mosquitto: install it or set METERLEDGER_TEST_MQTT_URL")
    folder = tmp_path_factory.mktemp("mosquitto")
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        f"user {'root' if os.geteuid() == 0 else os.environ.get('USER', 'nobody')}\n"
    )
    process = subprocess.Popen([binary, "-c", str(conf)], stderr=subprocess.DEVNULL)
    _wait_port(port)
    yield f"mqtt://127.0.0.1:{port}"
    process.terminate()
    process.wait(5)


def _wait_port(port: int) -> None:
    import socket

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@pytest.fixture
def expect_timescaledb() -> bool:
    """True when this run must prove the TimescaleDB mode (set by tests/run.sh)."""
    return os.environ.get("METERLEDGER_TEST_EXPECT_TIMESCALEDB") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the services they use, so ``-m "not db"`` runs offline."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "server_url" in fixtures:
            item.add_marker(pytest.mark.db)
        if "mqtt_url" in fixtures:
            item.add_marker(pytest.mark.broker)
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


class _EndToEndOnOneWorker(LoadScopeScheduling):
    """Send tests/e2e/ to one worker as one unit of work; spread every other test singly.

    Two whole systems at once would share the 2 cores and each other's timeouts. xdist's
    own ``xdist_group`` marks cannot say this here: they work by renaming the node id, which
    pytest 9.2 ignores, so the groups silently spread (pytest-xdist issue #1386).
    """

    def _split_scope(self, nodeid: str) -> str:
        return "tests/e2e" if nodeid.startswith("tests/e2e/") else nodeid


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> LoadScopeScheduling | None:
    """Schedule ``--dist loadgroup`` (tests/run.sh) with the end-to-end tests kept together."""
    if config.getvalue("dist") != "loadgroup":
        return None
    return _EndToEndOnOneWorker(config, log)


@pytest.fixture
def isolate(mqtt_url: str) -> Iterator[Callable[[PlantConfig], PlantConfig]]:
    """Give a plant's MQTT topics and collector session names of this test alone.

    The machine's broker is shared by every run (and keeps persistent sessions between
    them): a test must neither receive another's messages nor leave its session behind.
    """
    run = uuid.uuid4().hex[:8]
    client_id = f"meterledger-test-{run}"

    def apply(config: PlantConfig) -> PlantConfig:
        mqtt = tuple(
            s.model_copy(update={"topic": f"{run}/{s.topic}"}) for s in config.sources.mqtt
        )
        return config.model_copy(
            update={
                "sources": config.sources.model_copy(update={"mqtt": mqtt}),
                "collector": config.collector.model_copy(update={"client_id": client_id}),
            }
        )

    yield apply
    parts = urlsplit(mqtt_url)
    cleaner = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    cleaner.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    cleaner.disconnect()
