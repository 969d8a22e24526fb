"""A durable spool between acquisition and the database: SQLite in WAL mode.

Sources append readings here and are done (an MQTT message is acknowledged only after its
append commits); the writer takes the oldest rows, commits them to PostgreSQL and only
then deletes them. A crash between the two re-sends rows the table already has, which the
primary key swallows, so a kill at any instant loses nothing and duplicates nothing.
``synchronous=NORMAL`` in WAL mode survives a killed process; ``FULL`` (slower) would also
survive power loss.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from store.dead_letters import DeadLetter
from store.readings import Reading

log = logging.getLogger(__name__)

# SQLite stores NaN as NULL, so value is nullable and NULL reads back as NaN: a meter's
# "not available" pattern (0xFFFFFFFF as float32) is kept, flagged, never a crash.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS spooled (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    point_id INTEGER NOT NULL,
    ts_us    INTEGER NOT NULL,
    value    REAL,
    quality  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letter (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    received_us INTEGER NOT NULL,
    source      TEXT NOT NULL,
    topic       TEXT NOT NULL,
    payload     BLOB NOT NULL,
    reason      TEXT NOT NULL
)"""


def _to_us(ts: datetime) -> int:
    """Microseconds since the epoch, exactly.

    Float seconds carry a µs instant within ±0.25 µs for any date before 2100 (an ulp of
    ~1.8e9 s is 2.4e-7 s), so rounding recovers it; this is 3x cheaper than timedelta
    arithmetic on the ingest path. tests/unit/test_spool.py checks exactness.
    """
    return round(ts.timestamp() * 1_000_000)


def _from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


class Spool:
    """Append-only queue on disk, shared by the source threads and the writer.

    ``max_rows`` bounds it: an append that finds the spool full waits until the writer
    has made room. That wait is the back-pressure: a blocked MQTT thread stops reading
    its socket, so the broker holds the stream; a blocked Modbus gateway polls later.
    """

    def __init__(
        self, path: Path, *, synchronous: str = "NORMAL", max_rows: int | None = None
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.executescript(_SCHEMA)
        self._depth = int(self._db.execute("SELECT count(*) FROM spooled").fetchone()[0])

    def append(self, rows: Iterable[Reading], *, timeout: float | None = None) -> int:
        """Commit rows to disk; return how many. Durable when this returns.

        Waits while the spool is full (at most ``timeout`` seconds, then TimeoutError).
        """
        data = [(r.point_id, _to_us(r.ts), r.value, r.quality) for r in rows]
        if not data:
            return 0
        with self._room:
            if self.max_rows is not None and self._depth >= self.max_rows:
                log.warning("spool full (%d rows): holding the sources back", self._depth)
                has_room = self._room.wait_for(lambda: self._depth < (self.max_rows or 0), timeout)
                if not has_room:
                    raise TimeoutError(f"spool still full after {timeout} s")
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO spooled (point_id, ts_us, value, quality) VALUES (?, ?, ?, ?)", data
            )
            self._db.execute("COMMIT")
            self._depth += len(data)
        return len(data)

    def peek(self, limit: int) -> tuple[int, list[Reading]]:
        """The oldest rows (at most ``limit``) and the sequence number of the last one."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, point_id, ts_us, value, quality FROM spooled ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        if not rows:
            return 0, []
        return rows[-1][0], [
            Reading(p, _from_us(t), math.nan if v is None else v, q) for _, p, t, v, q in rows
        ]

    def remove_through(self, seq: int) -> None:
        """Forget rows up to ``seq`` once the database has committed them."""
        with self._room:
            removed = self._db.execute("DELETE FROM spooled WHERE seq <= ?", (seq,)).rowcount
            self._depth -= removed
            self._room.notify_all()

    def append_dead_letter(self, letter: DeadLetter) -> None:
        """Keep a payload that could not be decoded, durably, with why."""
        with self._lock:
            self._db.execute(
                "INSERT INTO dead_letter (received_us, source, topic, payload, reason)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    _to_us(letter.received_at),
                    letter.source,
                    letter.topic,
                    letter.payload,
                    letter.reason,
                ),
            )

    def peek_dead_letters(self, limit: int) -> tuple[int, list[DeadLetter]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, received_us, source, topic, payload, reason FROM dead_letter"
                " ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        if not rows:
            return 0, []
        return rows[-1][0], [
            DeadLetter(_from_us(at), source, topic, bytes(payload), reason)
            for _, at, source, topic, payload, reason in rows
        ]

    def remove_dead_letters_through(self, seq: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM dead_letter WHERE seq <= ?", (seq,))

    def has_room(self) -> bool:
        """True when an append would not have to wait for the writer."""
        with self._lock:
            return self.max_rows is None or self._depth < self.max_rows

    def depth(self) -> int:
        """Rows waiting for the database."""
        with self._lock:
            return self._depth

    def close(self) -> None:
        with self._lock:
            self._db.close()
