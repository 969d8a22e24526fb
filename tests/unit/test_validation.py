import math
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.validation import PointRules, Validator, corrected_delta
from store.quality import Quality

T0 = datetime(2026, 3, 1, tzinfo=UTC)
POLL = timedelta(seconds=10)

GOOD = Quality.GOOD
OUT = Quality.OUT_OF_RANGE
WRAP = Quality.COUNTER_WRAP
RESET = Quality.COUNTER_RESET
GLITCH = Quality.GLITCH
SPIKE = Quality.SPIKE
STUCK = Quality.STUCK
FUTURE = Quality.FUTURE_TIMESTAMP
STALE = Quality.STALE_TIMESTAMP

COUNTER = PointRules("counter")
# 36 kWh/h (a 36 kW meter): at most 0.1 kWh per 10 s poll; the tests stay clear of that edge.
METER = PointRules("counter", max_rate=36.0)


def feed(validator: Validator, values: Sequence[float]) -> list[int]:
    """Check point 1's values, one per poll from T0, each at its own poll time."""
    stamps = [T0 + i * POLL for i in range(len(values))]
    return [validator.check(1, ts, value, ts) for ts, value in zip(stamps, values, strict=True)]


def flags(rules: PointRules, values: Sequence[float]) -> list[int]:
    return feed(Validator({1: rules}), values)


def test_first_reading_of_a_point_is_good() -> None:
    assert flags(METER, [123_456.7]) == [GOOD]


def test_steady_counter_increase_is_good() -> None:
    assert flags(METER, [1000, 1000.05, 1000.1, 1000.15]) == [GOOD] * 4


def test_unchanged_counter_is_good_because_idle_loads_exist() -> None:
    assert flags(METER, [1000] * 50) == [GOOD] * 50


def test_decrease_near_wrap_value_is_a_wrap() -> None:
    rules = PointRules("counter", wrap_value=1000, max_rate=36.0)
    assert flags(rules, [999.9, 999.95, 0.02, 0.1]) == [GOOD, GOOD, WRAP, GOOD]


def test_wrap_implying_more_than_max_rate_is_a_glitch() -> None:
    rules = PointRules("counter", wrap_value=1000, max_rate=36.0)
    assert flags(rules, [999.95, 500]) == [GOOD, GLITCH]


def test_without_max_rate_a_wrap_must_imply_a_small_share_of_the_range() -> None:
    rules = PointRules("counter", wrap_value=1000)
    assert flags(rules, [950, 0]) == [GOOD, WRAP]
    assert flags(rules, [700, 0]) == [GOOD, GLITCH]


def test_single_zero_reading_is_a_glitch_and_does_not_move_the_baseline() -> None:
    # Against the kept baseline of 1000, not against the 0, 999.9 is a drop.
    assert flags(COUNTER, [1000, 0, 999.9]) == [GOOD, GLITCH, GLITCH]


def test_reading_after_a_glitch_is_good() -> None:
    assert flags(METER, [1000, 0, 1000.05, 1000.1]) == [GOOD, GLITCH, GOOD, GOOD]


def test_garbage_above_the_level_is_a_spike_and_the_next_reading_is_good() -> None:
    assert flags(METER, [1000, 4.29e9, 1000.05]) == [GOOD, SPIKE, GOOD]


def test_increase_beyond_max_rate_is_a_spike() -> None:
    assert flags(METER, [1000, 1000.5]) == [GOOD, SPIKE]


def test_max_rate_allowance_grows_with_the_time_since_the_baseline() -> None:
    validator = Validator({1: METER})
    validator.check(1, T0, 1000, T0)
    later = T0 + 6 * POLL
    assert validator.check(1, later, 1000.5, later) == GOOD


def test_one_resolution_step_within_a_short_poll_is_not_a_spike() -> None:
    # 3.6 kWh/h is 0.001 kWh per second, but the register moves in 0.1 kWh steps.
    coarse = PointRules("counter", max_rate=3.6, resolution=0.1)
    assert flags(coarse, [10.0, 10.1]) == [GOOD, GOOD]
    assert flags(PointRules("counter", max_rate=3.6), [10.0, 10.1]) == [GOOD, SPIKE]


def test_noted_replacement_turns_decrease_into_reset() -> None:
    validator = Validator({1: METER})
    validator.note_reset(1, T0 + 2 * POLL)
    assert feed(validator, [5000, 5000.05, 3, 3.05]) == [GOOD, GOOD, RESET, GOOD]


def test_noted_reset_waits_for_the_first_decrease_at_or_after_its_time() -> None:
    validator = Validator({1: METER})
    validator.note_reset(1, T0 + 2 * POLL)
    assert feed(validator, [5000, 3, 5000.05, 5000.1, 3]) == [GOOD, GLITCH, GOOD, GOOD, RESET]


def test_noted_reset_is_used_once() -> None:
    validator = Validator({1: METER})
    validator.note_reset(1, T0)
    validator.check(1, T0 - POLL, 5000, T0)
    assert feed(validator, [3, 0, 3.05]) == [RESET, GLITCH, GOOD]


def test_noted_reset_beats_a_plausible_wrap() -> None:
    validator = Validator({1: PointRules("counter", wrap_value=100_000)})
    validator.note_reset(1, T0 + POLL)
    assert feed(validator, [99_990, 5]) == [GOOD, RESET]


def test_noted_replacement_with_a_higher_index_is_a_reset_not_a_spike() -> None:
    validator = Validator({1: METER})
    validator.note_reset(1, T0 + POLL)
    assert feed(validator, [1000, 8000, 8000.05]) == [GOOD, RESET, GOOD]


def test_noted_reset_before_the_first_reading_is_history() -> None:
    validator = Validator({1: METER})
    validator.note_reset(1, T0)
    assert feed(validator, [3, 0]) == [GOOD, GLITCH]


def test_reset_noted_while_running_turns_the_next_fall_into_a_reset() -> None:
    validator = Validator({1: METER})
    assert feed(validator, [5000, 5000.05]) == [GOOD, GOOD]
    validator.note_reset(1, T0 + POLL + POLL / 2)  # recorded after two readings
    later = [T0 + 2 * POLL, T0 + 3 * POLL]
    assert [validator.check(1, ts, v, ts) for ts, v in zip(later, [3, 3.05], strict=True)] == [
        RESET,
        GOOD,
    ]


def test_reset_noted_after_the_baseline_moved_past_it_is_history() -> None:
    validator = Validator({1: METER})
    feed(validator, [5000, 5000.05])
    validator.note_reset(1, T0)  # the readings since were accepted: nothing restarts
    ts = T0 + 2 * POLL
    assert validator.check(1, ts, 3, ts) == GLITCH


def test_reset_noted_from_another_thread_applies_at_the_next_check() -> None:
    validator = Validator({1: METER})
    feed(validator, [5000])
    noting = threading.Thread(target=validator.note_reset, args=(1, T0 + POLL / 2))
    noting.start()
    noting.join()
    assert validator.check(1, T0 + POLL, 3, T0 + POLL) == RESET


def test_noting_a_reset_of_an_unknown_point_fails_at_once() -> None:
    validator = Validator({1: METER})
    assert 1 in validator
    assert 2 not in validator
    with pytest.raises(KeyError):
        validator.note_reset(2, T0)


def test_persistent_lower_level_becomes_a_reset() -> None:
    # Unannounced: nobody recorded a meter event, but three readings agree on the new level.
    assert flags(METER, [1000, 0, 0, 0, 0.05]) == [GOOD, GLITCH, GLITCH, RESET, GOOD]


def test_settle_after_sets_how_many_agreeing_readings_make_a_reset() -> None:
    patient = PointRules("counter", settle_after=5)
    assert flags(patient, [1000, 0, 0, 0, 0, 0]) == [GOOD, *[GLITCH] * 4, RESET]


def test_glitches_that_do_not_agree_never_become_a_reset() -> None:
    values = [1000, 0, 700, 0, 300, 0, 20]
    assert flags(METER, values) == [GOOD, *[GLITCH] * 6]


def test_good_reading_between_glitches_breaks_the_run() -> None:
    assert flags(METER, [1000, 0, 0, 1000.05, 0, 0]) == [GOOD, GLITCH, GLITCH, GOOD, GLITCH, GLITCH]


def test_return_to_the_old_level_after_an_inferred_reset_is_a_reset_not_consumption() -> None:
    # Three zeros looked like a reset; climbing back to 1000 is the glitch ending, and
    # without max_rate it would otherwise be booked as 1000 kWh of consumption.
    values = [1000, 0, 0, 0, 1000.2, 1000.3]
    assert flags(COUNTER, values) == [GOOD, GLITCH, GLITCH, RESET, RESET, GOOD]


def test_counting_up_after_an_inferred_reset_is_consumption() -> None:
    values = [1000, 0, 0, 0, 0.1, 0.2]
    assert flags(COUNTER, values) == [GOOD, GLITCH, GLITCH, RESET, GOOD, GOOD]


def test_persistent_jump_becomes_a_reset() -> None:
    values = [1000, 5000, 5000.05, 5000.1, 5000.15]
    assert flags(METER, values) == [GOOD, SPIKE, SPIKE, RESET, GOOD]


def test_future_and_stale_timestamps() -> None:
    gauge = PointRules("gauge")
    validator = Validator({1: gauge, 2: gauge, 3: gauge})
    now = T0
    assert validator.check(1, now + timedelta(minutes=6), 230, now) == FUTURE
    assert validator.check(2, now + timedelta(minutes=4), 230, now) == GOOD
    assert validator.check(3, now - timedelta(days=8), 230, now) == STALE


def test_limits_of_the_clock_checks_come_from_the_rules() -> None:
    strict = PointRules("gauge", max_future=timedelta(0), max_age=timedelta(hours=1))
    validator = Validator({1: strict, 2: strict})
    assert validator.check(1, T0 + timedelta(seconds=1), 230, T0) == FUTURE
    assert validator.check(2, T0 - timedelta(hours=2), 230, T0) == STALE


def test_future_reading_does_not_hold_later_readings_hostage() -> None:
    validator = Validator({1: METER})
    validator.check(1, T0, 1000, T0)
    assert validator.check(1, T0 + timedelta(hours=1), 1000.05, T0 + POLL) == FUTURE
    assert validator.check(1, T0 + 2 * POLL, 1000.05, T0 + 2 * POLL) == GOOD


def test_stale_reading_in_order_is_still_judged() -> None:
    validator = Validator({1: METER})
    now = T0 + timedelta(days=30)
    validator.check(1, T0, 1000, now)
    assert validator.check(1, T0 + POLL, 0, now) == STALE | GLITCH


def test_out_of_order_reading_does_not_corrupt_the_baseline() -> None:
    validator = Validator({1: METER})
    feed(validator, [1000, 1000.05, 1000.1])
    # A late reading is not compared with the newer baseline: it is older, not lower.
    assert validator.check(1, T0 + POLL / 2, 1000.05, T0 + 3 * POLL) == GOOD
    assert validator.check(1, T0 + 3 * POLL, 1000.15, T0 + 3 * POLL) == GOOD
    assert validator.check(1, T0 + 4 * POLL, 1000.12, T0 + 4 * POLL) == GLITCH


def test_redelivered_reading_gets_the_same_flags_again() -> None:
    validator = Validator({1: PointRules("counter", wrap_value=1000)})
    feed(validator, [999.9])
    twice = [validator.check(1, T0 + POLL, value, T0 + POLL) for value in (0.1, 0.1)]
    assert twice == [WRAP, WRAP]
    again = [validator.check(1, T0 + 2 * POLL, value, T0 + 2 * POLL) for value in (0.0, 0.0)]
    assert again == [GLITCH, GLITCH]


def test_late_garbage_is_not_judged_but_keeps_its_range_flag() -> None:
    validator = Validator({1: PointRules("counter", min_value=0)})
    feed(validator, [1000, 1000.05])
    assert validator.check(1, T0, -1, T0 + 2 * POLL) == OUT


def test_duplicate_reading_does_not_count_towards_a_stuck_run() -> None:
    validator = Validator({1: PointRules("gauge", stuck_after=2)})
    assert validator.check(1, T0, 230.1, T0) == GOOD
    assert validator.check(1, T0, 230.1, T0) == GOOD  # redelivered
    assert validator.check(1, T0 + POLL, 230.1, T0 + POLL) == STUCK


def test_out_of_range_value_is_flagged_and_not_taken_as_baseline() -> None:
    rules = PointRules("counter", min_value=0, max_value=1e6)
    assert flags(rules, [1000, -5, 1e7, 999]) == [GOOD, OUT, OUT, GLITCH]


def test_out_of_range_first_reading_does_not_start_the_baseline() -> None:
    rules = PointRules("counter", min_value=0, max_value=1e6)
    assert flags(rules, [1e7, 1000, 999]) == [OUT, GOOD, GLITCH]


def test_nan_and_infinity_are_out_of_range() -> None:
    values = [230, math.nan, math.inf, -math.inf, 231]
    assert flags(PointRules("gauge"), values) == [GOOD, OUT, OUT, OUT, GOOD]


def test_future_reading_out_of_range_carries_both_flags() -> None:
    validator = Validator({1: PointRules("gauge", max_value=300)})
    assert validator.check(1, T0 + timedelta(hours=1), 400, T0) == FUTURE | OUT


def test_stuck_gauge_is_flagged_after_n_identical_readings() -> None:
    voltage = PointRules("gauge", stuck_after=4)
    assert flags(voltage, [230.1] * 6) == [GOOD, GOOD, GOOD, STUCK, STUCK, STUCK]


def test_a_changed_value_ends_a_stuck_run() -> None:
    voltage = PointRules("gauge", stuck_after=3)
    values = [230.1, 230.1, 230.1, 230.2, 230.2, 230.2]
    assert flags(voltage, values) == [GOOD, GOOD, STUCK, GOOD, GOOD, STUCK]


def test_stuck_detection_is_off_by_default() -> None:
    idle_power = PointRules("gauge")
    assert flags(idle_power, [0.0] * 100) == [GOOD] * 100


def test_stuck_detection_can_be_asked_for_on_a_counter() -> None:
    always_on = PointRules("counter", stuck_after=3)
    assert flags(always_on, [1000, 1000, 1000]) == [GOOD, GOOD, STUCK]


def test_gauge_may_jump_anywhere_within_its_range() -> None:
    power = PointRules("gauge", min_value=0, max_value=50_000)
    assert flags(power, [0, 50_000, 0, 12.5]) == [GOOD] * 4


def test_seeded_baseline_catches_a_glitch_on_the_first_poll_after_a_restart() -> None:
    validator = Validator({1: METER})
    validator.seed(1, T0 - POLL, 1000)
    assert feed(validator, [0, 1000.05]) == [GLITCH, GOOD]


def test_unknown_point_raises_key_error() -> None:
    with pytest.raises(KeyError):
        Validator({1: METER}).check(2, T0, 1.0, T0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "meter"}, "kind"),
        ({"kind": "gauge", "wrap_value": 100}, "counters only"),
        ({"kind": "gauge", "max_rate": 10}, "counters only"),
        ({"kind": "counter", "wrap_value": 0}, "wrap_value"),
        ({"kind": "counter", "max_rate": math.inf}, "max_rate"),
        ({"kind": "counter", "min_value": math.nan}, "min_value"),
        ({"kind": "gauge", "min_value": 10, "max_value": 5}, "above max_value"),
        ({"kind": "counter", "resolution": -0.1}, "resolution"),
        ({"kind": "gauge", "stuck_after": 1}, "stuck_after"),
        ({"kind": "counter", "settle_after": 0}, "settle_after"),
        ({"kind": "gauge", "max_age": timedelta(0)}, "max_age"),
    ],
)
def test_point_rules_reject_inconsistent_configuration(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        PointRules(**fields)


@pytest.mark.parametrize(
    ("last", "value", "wrap_value", "delta"),
    [
        (10.0, 12.5, None, 2.5),
        (10.0, 10.0, 100.0, 0.0),
        (99.0, 1.0, 100.0, 2.0),
        (99.0, 1.0, None, None),
    ],
)
def test_corrected_delta_counts_increases_and_wraps_but_not_resets(
    last: float, value: float, wrap_value: float | None, delta: float | None
) -> None:
    assert corrected_delta(last, value, wrap_value) == delta


WRAP_AT = 10_000
MAX_STEP = WRAP_AT // 10  # what both max_rate and, without it, the wrap rule allow per poll


@given(
    start=st.integers(0, WRAP_AT - 1),
    steps=st.lists(st.integers(0, MAX_STEP), min_size=1, max_size=100),
    with_max_rate=st.booleans(),
)
def test_wrapping_counter_is_never_rejected_and_its_deltas_sum_to_the_consumption(
    start: int, steps: list[int], with_max_rate: bool
) -> None:
    max_rate = MAX_STEP * 3600 / POLL.total_seconds() if with_max_rate else None
    rules = PointRules("counter", wrap_value=WRAP_AT, max_rate=max_rate)
    totals = [start + sum(steps[:i]) for i in range(len(steps) + 1)]
    values = [float(total % WRAP_AT) for total in totals]
    assert set(flags(rules, values)) <= {GOOD, WRAP}
    deltas = [corrected_delta(a, b, WRAP_AT) for a, b in pairwise(values)]
    assert sum(d for d in deltas if d is not None) == sum(steps)
    assert None not in deltas


@given(
    steps=st.lists(st.integers(0, 100), min_size=2, max_size=50),
    where=st.integers(1, 49),
    high=st.booleans(),
    depth=st.floats(0, 1, exclude_max=True),
)
def test_one_bad_reading_is_rejected_alone(
    steps: list[int], where: int, high: bool, depth: float
) -> None:
    # At most 100 per poll is allowed; a bad reading is far above it or anywhere below.
    rules = PointRules("counter", max_rate=100 * 3600 / POLL.total_seconds())
    values = [1000.0 + sum(steps[:i]) for i in range(len(steps) + 1)]
    where = min(where, len(values) - 1)
    values[where] = values[where - 1] + 1e6 if high else values[where - 1] * depth
    expected = [GOOD] * len(values)
    expected[where] = SPIKE if high else GLITCH
    assert flags(rules, values) == expected
