import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.decoding import BlockDecoder, decode, encode
from collector.register_map import DataType, Order, RegisterSpec

INT_RANGES = {
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
    DataType.INT64: (-(2**63), 2**63 - 1),
    DataType.UINT64: (0, 2**64 - 1),
}


def spec(data_type: DataType, order: Order = Order.ABCD, **extra: object) -> RegisterSpec:
    return RegisterSpec(name="x", address=0, type=data_type, order=order, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize("order", list(Order))
@pytest.mark.parametrize("data_type", list(INT_RANGES))
def test_integers_round_trip_in_every_order(data_type: DataType, order: Order) -> None:
    low, high = INT_RANGES[data_type]

    @given(st.integers(low, high))
    def check(value: int) -> None:
        # Readings are float64 by design: a 64-bit counter past 2**53 comes back rounded.
        registers = encode(spec(data_type, order), value)
        assert decode(spec(data_type, order), registers) == float(value)

    check()


@pytest.mark.parametrize("order", list(Order))
@pytest.mark.parametrize("data_type", [DataType.FLOAT32, DataType.FLOAT64])
def test_floats_round_trip_in_every_order(data_type: DataType, order: Order) -> None:
    width = 32 if data_type is DataType.FLOAT32 else 64

    @given(st.floats(allow_nan=False, width=width))
    def check(value: float) -> None:
        assert decode(spec(data_type, order), encode(spec(data_type, order), value)) == value

    check()


def test_float32_words_follow_each_byte_order() -> None:
    # 12345.678 as float32 is 0x4640E6B6: A=46 B=40 C=E6 D=B6
    assert struct.pack(">f", 12345.678).hex() == "4640e6b6"
    assert encode(spec(DataType.FLOAT32, Order.ABCD), 12345.678) == [0x4640, 0xE6B6]
    assert encode(spec(DataType.FLOAT32, Order.CDAB), 12345.678) == [0xE6B6, 0x4640]
    assert encode(spec(DataType.FLOAT32, Order.BADC), 12345.678) == [0x4046, 0xB6E6]
    assert encode(spec(DataType.FLOAT32, Order.DCBA), 12345.678) == [0xB6E6, 0x4046]


def test_word_swapped_uint32_decodes_low_word_first() -> None:
    assert decode(spec(DataType.UINT32, Order.CDAB), [0x0002, 0x0001]) == 0x00010002


def test_scale_and_offset_apply_to_raw_value() -> None:
    tenth_volts = spec(DataType.UINT16, scale=0.1, offset=-5)
    assert decode(tenth_volts, [2305]) == pytest.approx(225.5)
    assert encode(tenth_volts, 225.5) == [2305]


def test_strings_strip_padding() -> None:
    serial = spec(DataType.STRING, length=4)
    assert encode(serial, "SN12") == [0x534E, 0x3132, 0, 0]
    assert decode(serial, [0x534E, 0x3132, 0, 0]) == "SN12"


def test_value_that_does_not_fit_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match=r"x: 70000 does not fit uint16"):
        encode(spec(DataType.UINT16), 70000)


def test_nan_survives_float_decoding() -> None:
    assert math.isnan(float(decode(spec(DataType.FLOAT32), [0x7FC0, 0])))


NUMERIC = [t for t in DataType if t is not DataType.STRING]


def bits(value: float) -> bytes:
    """A float's exact bits, so that NaN payloads and -0.0 compare too."""
    return struct.pack(">d", value)


@st.composite
def blocks(draw: st.DrawFn) -> tuple[list[tuple[int, RegisterSpec]], list[int]]:
    """Values of any numeric type, order, scale and offset laid out with gaps, and registers."""
    fields, offset = [], 0
    for _ in range(draw(st.integers(0, 8))):
        offset += draw(st.integers(0, 3))  # a gap the block reads across
        data_type = draw(st.sampled_from(NUMERIC))
        field = spec(
            data_type,
            draw(st.sampled_from(list(Order))),
            scale=draw(st.sampled_from([1.0, 0.1, 0.001, 10.0, -2.5])),
            offset=draw(st.sampled_from([0.0, -5.0, 273.15])),
        )
        fields.append((offset, field))
        offset += field.count
    if fields and draw(st.booleans()):  # the same registers read as two points
        fields.append(draw(st.sampled_from(fields)))
    registers = draw(st.lists(st.integers(0, 0xFFFF), min_size=offset, max_size=offset))
    return draw(st.permutations(fields)), registers


@given(blocks())
def test_block_decoding_equals_decoding_each_value_alone(
    block: tuple[list[tuple[int, RegisterSpec]], list[int]],
) -> None:
    fields, registers = block
    alone = [decode(s, registers[o : o + s.count]) for o, s in fields]
    at_once = BlockDecoder(fields).decode(registers)
    assert [bits(v) for v in at_once] == [bits(float(v)) for v in alone]


@pytest.mark.parametrize("order", list(Order))
@pytest.mark.parametrize("data_type", NUMERIC)
def test_block_decoding_reads_each_type_and_order_where_encode_put_it(
    data_type: DataType, order: Order
) -> None:
    value = 1 if data_type is DataType.BOOL else 123
    field = spec(data_type, order)
    registers = [0xDEAD, *encode(field, value), 0xBEEF]
    assert BlockDecoder([(1, field)]).decode(registers) == [float(value)]


def test_block_decoder_refuses_strings() -> None:
    with pytest.raises(ValueError, match="strings"):
        BlockDecoder([(0, spec(DataType.STRING, length=2))])
