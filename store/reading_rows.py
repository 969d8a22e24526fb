"""Readings as plain rows, encoded for a binary COPY. Pure.

The collector carries a reading from its source through the spool to the table as a plain
tuple ``(point_id, µs since the Unix epoch, value, quality)``: building a NamedTuple and a
datetime per value, and having psycopg adapt each field, cost more than everything else
on the path (issue 4). Here the rows become one buffer in PostgreSQL's binary COPY format
(https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format") with a single
precompiled struct. The spool keeps them packed so, and the writer sends what it took
from the spool as it is: no Python object per reading between the source and the table.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from store.quality import REJECTED

#: (point_id, microseconds since 1970-01-01 UTC, value, quality)
ReadingRow = tuple[int, int, float, int]

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 UTC, PostgreSQL's zero instant

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)  # flags, no extension
_TRAILER = struct.pack(">h", -1)
# Per row: 4 fields, each a byte length then the value: int4, timestamptz (int8 µs since
# 2000), float8, int4. Big-endian and unpadded, as the format wants.
_ROW = struct.Struct(">hiiiqidii")
ROW_SIZE = _ROW.size  # bytes per packed row


def to_us(ts: datetime) -> int:
    """Microseconds since the Unix epoch, exactly (``ts`` must be aware)."""
    delta = ts - _UNIX_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    """The UTC instant ``us`` microseconds after the Unix epoch, exactly."""
    return _UNIX_EPOCH + timedelta(microseconds=us)


def pack_rows(rows: Iterable[ReadingRow]) -> bytes:
    """The rows as binary COPY tuples, back to back: what the spool stores and COPY sends.

    Raise struct.error for a row that does not fit the table's types.
    """
    pack = _ROW.pack
    return b"".join([pack(4, 4, p, 8, us - _PG_EPOCH_US, 8, v, 4, q) for p, us, v, q in rows])


def unpack_rows(data: bytes) -> list[ReadingRow]:
    """The rows `pack_rows` packed, exactly (NaN included)."""
    return [(p, t + _PG_EPOCH_US, v, q) for _, _, p, _, t, _, v, _, q in _ROW.iter_unpack(data)]


def copy_stream(packed: Iterable[bytes]) -> bytes:
    """A whole binary COPY stream (signature, tuples, trailer) from packed rows."""
    return b"".join((_SIGNATURE, *packed, _TRAILER))


def copy_buffer(rows: Iterable[ReadingRow]) -> bytes:
    """A whole binary COPY stream for ``reading``'s columns from plain rows."""
    return copy_stream([pack_rows(rows)])


_HOUR_US = 3_600_000_000  # PostgreSQL's epoch is on a whole UTC hour, so hours align
_REJECTED = int(REJECTED)
# reading_hourly's columns: int4 point, timestamptz hour, int4 n, float8 sum, min, max,
# timestamptz first, last, then the first reading's float8 value and int4 flags, the last's.
_HOURLY_ROW = struct.Struct(">hiiiqiiididid" + "iqiq" + "idii" + "idii")


def hourly_copy(packed: bytes) -> tuple[int, bytes]:
    """The hourly statistics of packed rows as a binary COPY stream, and how many hours.

    Per point and UTC hour, of the accepted rows only (no REJECTED flag, not NaN, as
    migration 0004 and the ledger define them): count, sum, min, max, and the first and
    last reading (instant, value, flags; migration 0010). Summed here because the
    database's second pass over a batch cost a fifth of the write (issue 4).
    """
    stats: dict[tuple[int, int], list[float]] = {}
    for _, _, point, _, t, _, value, _, quality in _ROW.iter_unpack(packed):
        if quality & _REJECTED or value != value:  # value != value: NaN
            continue
        key = (point, t - t % _HOUR_US)
        s = stats.get(key)
        if s is None:
            stats[key] = [1, value, value, value, t, t, value, quality, value, quality]
            continue
        s[0] += 1
        s[1] += value
        if value < s[2]:
            s[2] = value
        elif value > s[3]:
            s[3] = value
        if t < s[4]:
            s[4], s[6], s[7] = t, value, quality
        elif t > s[5]:
            s[5], s[8], s[9] = t, value, quality
    pack = _HOURLY_ROW.pack
    rows = [
        pack(12, 4, p, 8, hour, 4, int(n), 8, total, 8, low, 8, high, 8, int(first), 8, int(last),
             8, first_value, 4, int(first_q), 8, last_value, 4, int(last_q))
        for (p, hour), (n, total, low, high, first, last, first_value, first_q, last_value, last_q)
        in stats.items()
    ]  # fmt: skip
    return len(rows), copy_stream(rows)
