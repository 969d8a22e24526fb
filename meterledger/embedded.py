"""Private services for a first run: PostgreSQL from the pgserver wheel, and an MQTT broker.

Used only when no ``METERLEDGER_DATABASE_URL`` / ``METERLEDGER_MQTT_URL`` is configured.
The broker is the machine's ``mosquitto`` binary when there is one (it redelivers
unacknowledged messages, which the collector's guarantees rely on); otherwise amqtt runs
in-process, which loses unacknowledged messages and is announced as demo grade.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import pwd
import shutil
import signal
import socket
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from meterledger.errors import EmbeddedServiceError

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """Start (or re-attach to) a private PostgreSQL in ``data_dir/pgdata``; stop it on exit."""
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI) and falls back to
            # /tmp/runtime-<uid>, which is what pgserver then uses for its lock: harmless.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
            import pgserver
    except ImportError as exc:  # no wheel for this Python (3.13+)
        raise EmbeddedServiceError(
            "no embedded PostgreSQL for this Python (pgserver has wheels for 3.11 and 3.12);"
            " set METERLEDGER_DATABASE_URL"
        ) from exc
    pgdata = data_dir / "pgdata"
    data_dir.mkdir(parents=True, exist_ok=True)
    # A process killed earlier leaves its pid here, and pgserver then never stops the server.
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)
    try:
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:  # pgserver raises bare subprocess and assertion errors
        raise EmbeddedServiceError(f"embedded PostgreSQL in {pgdata} did not start: {exc}") from exc
    log.info("embedded PostgreSQL 16 running, data in %s", pgdata)
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


@contextlib.asynccontextmanager
async def embedded_broker(data_dir: Path) -> AsyncIterator[str]:
    """Start a private broker on a free loopback port; yield its mqtt:// URL."""
    binary = _mosquitto_binary()
    if binary:
        folder, user = _broker_folder(data_dir / "mosquitto")
        async with _mosquitto(binary, folder, user) as url:
            yield url
    else:
        async with _amqtt() as url:
            yield url


def _mosquitto_binary() -> str | None:
    """The machine's mosquitto; Debian installs it in sbin, often off a user's PATH."""
    candidates = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")
    return shutil.which("mosquitto") or next((p for p in candidates if os.path.exists(p)), None)


def _broker_folder(folder: Path) -> tuple[Path, str]:
    """Create the broker's folder; return it with the user the broker should run as."""
    folder.mkdir(parents=True, exist_ok=True)
    user = pwd.getpwuid(os.geteuid()).pw_name
    if user == "root":  # mosquitto refuses to keep root; give it its own user where there is one
        with contextlib.suppress(KeyError):
            account = pwd.getpwnam("mosquitto")
            os.chown(folder, account.pw_uid, account.pw_gid)
            user = "mosquitto"
    return folder, user


@contextlib.asynccontextmanager
async def _mosquitto(binary: str, folder: Path, user: str) -> AsyncIterator[str]:
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        "persistence true\n"
        f"persistence_location {folder}/\n"
        f"user {user}\n"
        "log_dest stderr\n"
        "log_type error\n"
        "log_type warning\n"
    )
    process = await asyncio.create_subprocess_exec(
        binary,
        "-c",
        str(conf),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches us, and we stop the broker after its clients
        preexec_fn=_die_with_parent,
    )
    try:
        await _wait_for_port(port, process)
        log.info("embedded Mosquitto (%s) on 127.0.0.1:%d", binary, port)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM it when its parent dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


async def _wait_for_port(port: int, process: asyncio.subprocess.Process) -> None:
    for _ in range(100):
        if process.returncode is not None:
            raise EmbeddedServiceError(f"mosquitto exited with {process.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise EmbeddedServiceError(f"mosquitto did not listen on port {port} within 5 s")


@contextlib.asynccontextmanager
async def _amqtt() -> AsyncIterator[str]:
    from amqtt.broker import Broker

    port = free_port()
    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
            # Name the plugins: left to entry points, amqtt also loads its $SYS plugin,
            # which warns of a dependency change on every start.
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {}},
        },
    )
    await broker.start()
    log.warning(
        "no mosquitto binary: using the in-process amqtt broker on 127.0.0.1:%d. It is demo"
        " grade: it drops unacknowledged messages instead of redelivering them. Install"
        " mosquitto or set METERLEDGER_MQTT_URL for real use.",
        port,
    )
    try:
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        await broker.shutdown()
