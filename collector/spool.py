"""A durable spool between acquisition and the database: SQLite in WAL mode.

Sources append readings here and are done (an MQTT message is acknowledged only after its
append commits); the writer takes the oldest rows, commits them to PostgreSQL and only
then deletes them. A crash between the two re-sends rows the table already has, which the
primary key swallows, so a kill at any instant loses nothing and duplicates nothing.
``synchronous=NORMAL`` in WAL mode survives a killed process; ``FULL`` (slower) would also
survive power loss.

Each append is one SQLite row holding the appended readings packed as binary COPY tuples
(store/reading_rows.py), and the writer sends what it takes as it is. A row per reading
cost more than the rest of the ingest path together (issue 4): inserting it, fetching it
back as Python objects and packing it again for COPY. The writer reads through a
connection of its own, so in WAL mode its reads neither wait for nor hold up appends, and
it also does the checkpoints, which appends would otherwise do and wait for the disk.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from store.dead_letters import DeadLetter
from store.reading_rows import ROW_SIZE, ReadingRow, pack_rows, unpack_rows
from store.reading_rows import from_us as _from_us
from store.reading_rows import to_us as _to_us
from store.readings import Reading

log = logging.getLogger(__name__)

# seq is the rowid without AUTOINCREMENT, whose bookkeeping cost as much as the insert: a
# seq is reused only once every batch before it is gone, and the writer removes only what
# it has peeked. ``count`` readings of ROW_SIZE bytes each are packed in ``data``.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS spooled_batch (
    seq   INTEGER PRIMARY KEY,
    count INTEGER NOT NULL,
    data  BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letter (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    received_us INTEGER NOT NULL,
    source      TEXT NOT NULL,
    topic       TEXT NOT NULL,
    payload     BLOB NOT NULL,
    reason      TEXT NOT NULL
)"""
# Spools written before the batches: one row per reading, NaN stored as NULL.
_LEGACY = "SELECT point_id, ts_us, value, quality FROM spooled ORDER BY seq"
_INSERT = "INSERT INTO spooled_batch (count, data) VALUES (?, ?)"
_PEEK = "SELECT seq, count, data FROM spooled_batch ORDER BY seq"


class Mark(NamedTuple):
    """How far a peek reached: batches before ``seq`` whole, then ``taken`` rows of it."""

    seq: int
    taken: int


NOTHING = Mark(0, 0)


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
        # Appends never checkpoint: a checkpoint flushes to disk, and an append that did
        # would stall its source (an MQTT thread) for that long. The writer checkpoints
        # before each peek instead (`peek_packed`), in its own thread.
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._db.executescript(_SCHEMA)
        self._adopt_legacy_rows()
        counted = self._db.execute("SELECT sum(count) FROM spooled_batch").fetchone()[0]
        self._depth = int(counted or 0)
        self._reading = threading.Lock()
        self._reader = sqlite3.connect(path, check_same_thread=False, isolation_level=None)

    def _adopt_legacy_rows(self) -> None:
        """Move the rows of a spool an older collector left behind into one batch."""
        legacy = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'spooled'"
        if self._db.execute(legacy).fetchone() is None:
            return
        self._db.execute("BEGIN IMMEDIATE")
        rows = [(p, t, math.nan if v is None else v, q) for p, t, v, q in self._db.execute(_LEGACY)]
        if rows:
            self._db.execute(_INSERT, (len(rows), pack_rows(rows)))
            log.info("spool: %d reading(s) of an older collector adopted", len(rows))
        self._db.execute("DROP TABLE spooled")
        self._db.execute("COMMIT")

    def append(self, rows: Iterable[Reading], *, timeout: float | None = None) -> int:
        """Commit readings to disk; return how many. Durable when this returns.

        Waits while the spool is full (at most ``timeout`` seconds, then TimeoutError).
        """
        return self.append_rows([(p, _to_us(ts), v, q) for p, ts, v, q in rows], timeout=timeout)

    def append_rows(self, rows: Sequence[ReadingRow], *, timeout: float | None = None) -> int:
        """Commit plain rows to disk in one transaction; return how many. As `append`."""
        if not rows:
            return 0
        data = pack_rows(rows)
        with self._room:
            if not self._has_room():
                log.warning("spool full (%d rows): holding the sources back", self._depth)
                if not self._room.wait_for(self._has_room, timeout):
                    raise TimeoutError(f"spool still full after {timeout} s")
            self._insert(rows, data)
        return len(rows)

    def append_rows_if_room(self, rows: Sequence[ReadingRow]) -> bool:
        """Append as `append_rows` if the spool has room; never wait. Return whether it did."""
        if not rows:
            return True
        data = pack_rows(rows)
        with self._room:
            if not self._has_room():
                return False
            self._insert(rows, data)
        return True

    def wait_for_room(self, timeout: float) -> bool:
        """Wait at most ``timeout`` s for the writer to make room; touch no database.

        For a caller that waits in a thread it may abandon (a cancelled poller): the
        thread ends within ``timeout`` and has nothing to write, closed spool or not.
        """
        with self._room:
            return self._room.wait_for(self._has_room, timeout)

    def _has_room(self) -> bool:
        return self.max_rows is None or self._depth < self.max_rows

    def _insert(self, rows: Sequence[ReadingRow], data: bytes) -> None:
        self._db.execute(_INSERT, (len(rows), data))  # autocommit: one transaction
        self._depth += len(rows)

    def peek(self, limit: int) -> tuple[Mark, list[Reading]]:
        """The oldest readings (at most ``limit``) and how far they reach."""
        mark, rows = self.peek_rows(limit)
        return mark, [Reading(p, _from_us(us), v, q) for p, us, v, q in rows]

    def peek_rows(self, limit: int) -> tuple[Mark, list[ReadingRow]]:
        """The oldest rows (at most ``limit``) and how far they reach."""
        mark, _, data = self.peek_packed(limit)
        return mark, unpack_rows(data)

    def peek_packed(self, limit: int) -> tuple[Mark, int, bytes]:
        """The oldest rows (at most ``limit``), packed, with their count and how far they reach."""
        chunks: list[bytes] = []
        total, mark = 0, NOTHING
        with self._reading:
            # Copy what earlier appends and removals wrote to the WAL into the database file,
            # so the WAL stays small; PASSIVE waits for no one.
            self._reader.execute("PRAGMA wal_checkpoint(PASSIVE)")
            cursor = self._reader.execute(_PEEK)
            try:
                for seq, count, data in cursor:
                    taken = min(count, limit - total)
                    chunks.append(data if taken == count else data[: taken * ROW_SIZE])
                    total, mark = total + taken, Mark(seq, taken)
                    if total >= limit:
                        break
            finally:
                cursor.close()  # ends the read transaction
        return mark, total, b"".join(chunks)

    def remove_through(self, mark: Mark) -> None:
        """Forget the rows a peek returned, once the database has committed them."""
        if mark.taken == 0:
            return
        with self._room:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                removed = self._remove(mark)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self._depth -= removed
            self._room.notify_all()

    def _remove(self, mark: Mark) -> int:
        before = "SELECT sum(count) FROM spooled_batch WHERE seq < ?"
        removed = int(self._db.execute(before, (mark.seq,)).fetchone()[0] or 0)
        self._db.execute("DELETE FROM spooled_batch WHERE seq < ?", (mark.seq,))
        self._db.execute(
            "UPDATE spooled_batch SET count = count - ?, data = substr(data, ?) WHERE seq = ?",
            (mark.taken, mark.taken * ROW_SIZE + 1, mark.seq),
        )
        self._db.execute("DELETE FROM spooled_batch WHERE seq = ? AND count = 0", (mark.seq,))
        return removed + mark.taken

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

    def depth(self) -> int:
        """Rows waiting for the database."""
        with self._lock:
            return self._depth

    def close(self) -> None:
        with self._reading:
            self._reader.close()
        with self._lock:
            self._db.close()
