"""Quality flags for every reading, set before it is spooled; nothing is dropped.

Counters are where bad readings cost money. A meter that answers 0 (or garbage) for one
poll and then its old index again is, to a naive differencer, a reset followed by the whole
index booked as consumption: the phantom consumption reported against evcc and Home
Assistant's ``TOTAL_INCREASING``. So the validator keeps, per point, the last *accepted*
reading as the baseline. A reading it rejects is stored with its flag but never becomes the
baseline, so one bad reading cannot poison the next.

A counter reading newer than the baseline is judged against it, in this order:

- the same value: good (STUCK from the ``stuck_after``-th in a row, when asked for);
- a reset was noted for the point (a meter event) and the value fell or jumped:
  COUNTER_RESET;
- back at or above the level before an *inferred* reset (below): COUNTER_RESET, because the
  low readings were a glitch after all and the way back up is not consumption;
- an increase the meter can physically make: good; a larger one: SPIKE (rejected);
- a decrease that ``wrap_value`` explains as such an increase: COUNTER_WRAP;
- any other decrease: GLITCH (rejected).

What the meter can physically make is ``max_rate`` x elapsed hours + ``resolution``;
without ``max_rate``, a tenth of ``wrap_value`` (only to tell a wrap from a glitch), or
anything at all.

Rejected readings that agree with each other, ``settle_after`` in a row, each a plausible
increase on the one before, mean the counter really is elsewhere now, recorded as a meter
event or not: the last of them is flagged COUNTER_RESET and becomes the baseline. Refusing
forever would reject every later reading of a meter someone swapped without telling us.

COUNTER_RESET means "do not difference across this reading": the energy across a
replacement comes from the meter event's old and new index, not from here.

Every reading also gets OUT_OF_RANGE (outside ``[min_value, max_value]``, NaN, +-inf),
FUTURE_TIMESTAMP and STALE_TIMESTAMP as they apply. A reading at or before the baseline's
time (a late message) gets only those: it is not compared with a newer baseline and does
not move it; a redelivery of the baseline itself gets the baseline's flags again. Nor does
a reading from the future move the baseline: as the baseline it would make every correctly
stamped reading after it look late.
"""

from __future__ import annotations

import math
import sys
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from store.quality import Quality

#: Without ``max_rate``, a decrease is a wrap only if the increase it implies is below this
#: share of ``wrap_value``. Real counters move far less per poll; the smaller the share, the
#: thinner the top slice of the range in which a drop to 0 would pass for a wrap.
WRAP_SHARE = 0.1


# Plain ints: IntFlag arithmetic costs a microsecond per operation.
_OUT_OF_RANGE = int(Quality.OUT_OF_RANGE)
_WRAP = int(Quality.COUNTER_WRAP)
_RESET = int(Quality.COUNTER_RESET)
_GLITCH = int(Quality.GLITCH)
_SPIKE = int(Quality.SPIKE)
_STUCK = int(Quality.STUCK)
_FUTURE = int(Quality.FUTURE_TIMESTAMP)
_STALE = int(Quality.STALE_TIMESTAMP)
_FINITE_MAX = sys.float_info.max


def corrected_delta(last: float, value: float, wrap_value: float | None) -> float | None:
    """Return how far a counter moved from ``last`` to ``value``, across one wrap if it fell.

    Return None when it fell and has no wrap value: a reset, which has no delta. Whether a
    wrap is plausible is the validator's call; apply this to the readings it accepted.
    """
    if value >= last:
        return value - last
    if wrap_value is None:
        return None
    return wrap_value - last + value


@dataclass(frozen=True, slots=True)
class PointRules:
    """How one point's readings are judged; built once per point from the plant file.

    ``max_rate`` is the largest physical increase per hour of a counter (its meter's
    maximum power in kW gives kWh/h; leave headroom, readings carry their poll tick, not
    the instant of the read), and ``resolution`` its smallest step, so that one step within
    a short poll is not a spike. ``stuck_after`` flags the n-th identical reading in a row;
    it is off by default because idle loads leave counters, and power gauges at 0 W,
    legitimately unchanged: turn it on for quantities that always vary, such as voltage.
    ``settle_after`` rejected readings in a row that agree become a reset.
    """

    kind: Literal["counter", "gauge"]
    wrap_value: float | None = None
    min_value: float | None = None
    max_value: float | None = None
    max_rate: float | None = None
    resolution: float = 0.0
    stuck_after: int | None = None
    settle_after: int = 3
    max_future: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem is not None:
            raise ValueError(problem)

    def _problem(self) -> str | None:
        if self.kind not in ("counter", "gauge"):
            return f"kind must be 'counter' or 'gauge', not {self.kind!r}"
        if self.kind == "gauge" and (self.wrap_value is not None or self.max_rate is not None):
            return "wrap_value and max_rate apply to counters only"
        for name in ("wrap_value", "max_rate"):
            value = getattr(self, name)
            if value is not None and not 0 < value < math.inf:
                return f"{name} must be positive and finite, not {value!r}"
        for name in ("min_value", "max_value"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                return f"{name} must be finite, not {value!r}"
        return self._bounds_problem()

    def _bounds_problem(self) -> str | None:
        low, high = self.min_value, self.max_value
        if low is not None and high is not None and low > high:
            return f"min_value {low!r} is above max_value {high!r}"
        if not 0 <= self.resolution < math.inf:
            return f"resolution must be zero or positive, not {self.resolution!r}"
        if self.stuck_after is not None and self.stuck_after < 2:
            return f"stuck_after must be at least 2 readings, not {self.stuck_after!r}"
        if self.settle_after < 1:
            return f"settle_after must be at least 1 reading, not {self.settle_after!r}"
        if self.max_future < timedelta(0) or self.max_age <= timedelta(0):
            return "max_future must not be negative and max_age must be positive"
        return None


class _Point:
    """One point's rules and memory: a fixed handful of fields, whatever the reading rate."""

    __slots__ = (
        "cand_count",
        "cand_ts",
        "cand_value",
        "counter",
        "fallback_limit",
        "hi",
        "lo",
        "max_future",
        "oldest",
        "per_second",
        "prior_ts",
        "prior_value",
        "repeats",
        "reset_at",
        "rules",
        "ts",
        "value",
        "verdict",
    )

    def __init__(self, rules: PointRules) -> None:
        self.rules = rules
        self.counter = rules.kind == "counter"
        # Unset bounds are the largest finite floats, so one chained comparison also
        # rejects NaN and +-inf.
        self.lo = -_FINITE_MAX if rules.min_value is None else rules.min_value
        self.hi = _FINITE_MAX if rules.max_value is None else rules.max_value
        self.max_future = rules.max_future
        self.oldest = -rules.max_age
        wrap = rules.wrap_value
        self.fallback_limit = math.inf if wrap is None else wrap * WRAP_SHARE
        self.per_second = None if rules.max_rate is None else rules.max_rate / 3600
        self.ts: datetime | None = None  # the baseline: last accepted reading
        self.value = 0.0
        self.verdict = 0  # the baseline's own flags, for a redelivery of it
        self.repeats = 0
        self.reset_at: datetime | None = None  # a noted reset not yet seen in the readings
        self.cand_ts: datetime | None = None  # the newest of the rejected readings in a row
        self.cand_value = 0.0
        self.cand_count = 0
        self.prior_ts: datetime | None = None  # the baseline before an inferred reset
        self.prior_value = 0.0

    def start(self, ts: datetime, value: float) -> None:
        """Take a first reading as the baseline; a noted reset before it is history."""
        self.accept(ts, value)
        if self.reset_at is not None and ts >= self.reset_at:
            self.reset_at = None

    def accept(self, ts: datetime, value: float, verdict: int = 0) -> int:
        """Make a reading the baseline; return its flags."""
        self.ts, self.value, self.verdict, self.repeats = ts, value, verdict, 1
        self.cand_count = 0
        self.prior_ts = None
        return verdict

    def repeat(self, ts: datetime) -> int:
        """Take a reading equal to the baseline; flag it once the run is long enough."""
        self.ts = ts
        self.repeats += 1
        self.cand_count = 0
        stuck_after = self.rules.stuck_after
        self.verdict = _STUCK if stuck_after is not None and self.repeats >= stuck_after else 0
        return self.verdict

    def judge_counter(self, ts: datetime, value: float) -> int:
        """Flag a changed counter reading newer than the baseline; move the baseline if due."""
        assert self.ts is not None  # called only once there is a baseline
        last = self.value
        limit = self._limit(self.ts, ts)
        if (self.reset_at is not None or self.prior_ts is not None) and self._known_break(
            ts, value, limit
        ):
            return self.accept(ts, value, _RESET)
        if value > last:
            if value - last <= limit:
                return self.accept(ts, value)
            return self._reject(ts, value, _SPIKE)
        delta = corrected_delta(last, value, self.rules.wrap_value)
        if delta is not None and delta <= limit:
            return self.accept(ts, value, _WRAP)
        return self._reject(ts, value, _GLITCH)

    def _limit(self, since: datetime, ts: datetime) -> float:
        """The largest increase the meter can physically make from ``since`` to ``ts``."""
        if self.per_second is None:
            return self.fallback_limit
        return self.per_second * (ts - since).total_seconds() + self.rules.resolution

    def _known_break(self, ts: datetime, value: float, limit: float) -> bool:
        """Whether a noted reset shows here, or the counter is back from a false reset."""
        return self._noted_reset_shows(ts, value, limit) or self._returns_to_prior(ts, value)

    def _noted_reset_shows(self, ts: datetime, value: float, limit: float) -> bool:
        # A noted reset beats a plausible wrap: the operator saw the meter, we only guess.
        if self.reset_at is None or ts < self.reset_at:
            return False
        if value < self.value or value - self.value > limit:
            self.reset_at = None
            return True
        return False

    def _returns_to_prior(self, ts: datetime, value: float) -> bool:
        if self.prior_ts is None or value < self.prior_value:
            return False
        return value - self.prior_value <= self._limit(self.prior_ts, ts)

    def _reject(self, ts: datetime, value: float, flag: int) -> int:
        """Keep the baseline; after ``settle_after`` agreeing rejections, move it all the same."""
        self.cand_count = self.cand_count + 1 if self._agrees(ts, value) else 1
        self.cand_ts, self.cand_value = ts, value
        if self.cand_count < self.rules.settle_after:
            return flag
        prior = (self.ts, self.value) if value < self.value else (None, 0.0)
        self.accept(ts, value, _RESET)
        self.prior_ts, self.prior_value = prior
        return _RESET

    def _agrees(self, ts: datetime, value: float) -> bool:
        """Whether a rejected reading continues the run of rejected readings before it."""
        if self.cand_count == 0 or self.cand_ts is None or ts <= self.cand_ts:
            return False
        return self.cand_value <= value <= self.cand_value + self._limit(self.cand_ts, ts)


class Validator:
    """Per-point baselines and the rules to judge each new reading against them.

    Pure and synchronous; not locked, so give each source thread its own Validator over
    its own points. Only `note_reset` may be called from another thread.
    """

    def __init__(self, rules: Mapping[int, PointRules]) -> None:
        self._points = {point_id: _Point(r) for point_id, r in rules.items()}
        # Resets noted by any thread, taken up by the checking thread before its next check:
        # deque appends and pops are atomic, so no lock is held on the hot path.
        self._noted: deque[tuple[int, datetime]] = deque()

    def __contains__(self, point_id: object) -> bool:
        """Whether the validator judges this point."""
        return point_id in self._points

    def check(self, point_id: int, ts: datetime, value: float, now: datetime) -> int:
        """Return the reading's quality flags (a `Quality` bit set; 0 is good).

        Raise KeyError for a point the validator has no rules for.
        """
        if self._noted:
            self._take_noted_resets()
        point = self._points[point_id]
        ahead = ts - now
        if ahead > point.max_future:
            return _FUTURE if point.lo <= value <= point.hi else _FUTURE | _OUT_OF_RANGE
        flags = _STALE if ahead < point.oldest else 0
        if not point.lo <= value <= point.hi:  # also true for NaN and +-inf
            return flags | _OUT_OF_RANGE
        if point.ts is None:
            point.start(ts, value)
            return flags
        if ts <= point.ts:  # late or redelivered: nothing newer to learn from it
            return flags | point.verdict if ts == point.ts and value == point.value else flags
        if value == point.value:
            return flags | point.repeat(ts)
        if point.counter:
            return flags | point.judge_counter(ts, value)
        return flags | point.accept(ts, value)

    def note_reset(self, point_id: int, ts: datetime) -> None:
        """Expect a discontinuity: the first fall or jump at or after ``ts`` is a reset.

        Use it for a meter replacement or reset event; gauges ignore it, and so does a
        point whose baseline is already later than ``ts`` (its readings after the event
        were accepted, or settled into a reset, before anyone noted it). Safe from any
        thread: it takes effect at the point's next check. Raise KeyError for a point the
        validator has no rules for.
        """
        if point_id not in self._points:
            raise KeyError(point_id)
        self._noted.append((point_id, ts))

    def _take_noted_resets(self) -> None:
        while self._noted:
            point_id, ts = self._noted.popleft()
            point = self._points[point_id]
            if point.ts is None or ts > point.ts:
                point.reset_at = ts

    def seed(self, point_id: int, ts: datetime, value: float) -> None:
        """Start from a known good reading, such as the newest unflagged one after a restart.

        Without it the first reading after a restart becomes the baseline unjudged.
        """
        self._points[point_id].start(ts, value)
