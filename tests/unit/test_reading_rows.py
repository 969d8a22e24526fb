"""Readings packed as binary COPY tuples come back exactly, and form a valid COPY stream."""

import math
import struct
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from store.reading_rows import ROW_SIZE, copy_buffer, from_us, pack_rows, to_us, unpack_rows

INT4 = st.integers(-(2**31), 2**31 - 1)
# From before PostgreSQL's epoch (2000) to far after, to the microsecond.
INSTANTS = st.integers(
    to_us(datetime(1971, 1, 1, tzinfo=UTC)), to_us(datetime(2200, 1, 1, tzinfo=UTC))
)
ROWS = st.lists(st.tuples(INT4, INSTANTS, st.floats(), INT4), max_size=50)


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@given(ROWS)
def test_packed_rows_unpack_to_the_same_rows(rows: list[tuple[int, int, float, int]]) -> None:
    back = unpack_rows(pack_rows(rows))
    assert len(back) == len(rows)
    for (p, us, v, q), (p2, us2, v2, q2) in zip(rows, back, strict=True):
        assert (p2, us2, q2) == (p, us, q)
        assert same(v2, v)


def test_a_copy_stream_is_signature_rows_and_trailer() -> None:
    row = (7, to_us(datetime(2000, 1, 1, 0, 0, 1, tzinfo=UTC)), 1.5, 4)
    stream = copy_buffer([row])
    assert stream.startswith(b"PGCOPY\n\xff\r\n\x00" + bytes(8))
    assert stream.endswith(struct.pack(">h", -1))
    body = stream[19:-2]
    assert len(body) == ROW_SIZE
    # 4 fields; int4 7; timestamptz one second after 2000-01-01 in µs; float8; int4
    assert struct.unpack(">hiiiqidii", body) == (4, 4, 7, 8, 1_000_000, 8, 1.5, 4, 4)


@given(INSTANTS)
def test_instants_convert_exactly_both_ways(us: int) -> None:
    assert to_us(from_us(us)) == us
