"""What a meter shows under its faults, and which faults a gateway must act out. Pure.

`FaultyMeter` wraps a model: ``values_at`` shows the faults (a counter that wraps or was
replaced, values stuck or spiking), while ``totals`` and ``timing`` are the model's own, so
ground truth is what the meter really delivered whatever its registers say. Protocol
faults (silence, slow answers, word order, duplicate, late, out-of-order or malformed
messages, an offset clock) are only looked up here (`MeterFaults`); the gateways act them
out. Everything is a function of simulated time and the plant file, so the same file gives
the same faults in every run.

A replacement takes effect at the first instant at or after its ``at`` that the meter
refreshes its registers (`Replacement.at`): a reading stamped at or after it shows the new
counter, one before it the old, so the meter event recorded at that instant splits the
readings exactly. The new counter shows ``initial`` plus what the model counted since.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from simulators.counters import Timing, Total
from simulators.fault_config import (
    COUNTERS,
    SHOWN,
    ClockOffsetFault,
    DuplicateFault,
    FaultSpec,
    LateFault,
    MalformedFault,
    OutOfOrderFault,
    ReplacementFault,
    SilentFault,
    SlowFault,
    SpikeFault,
    StuckFault,
    WindowedFault,
    WordOrderFault,
    WrapFault,
)
from simulators.meters import MeterModel

W = TypeVar("W", bound=WindowedFault)


class MeterFaults:
    """The windowed faults of one meter, asked by simulated Unix time."""

    def __init__(self, faults: Iterable[FaultSpec] = ()) -> None:
        self.windowed = [f for f in faults if isinstance(f, WindowedFault)]
        self._windows = [f.window() for f in self.windowed]

    def _active(self, kind: type[W], t: float) -> list[W]:
        return [
            f
            for f, (start, end) in zip(self.windowed, self._windows, strict=True)
            if isinstance(f, kind) and start <= t < end
        ]

    def silent(self, t: float) -> bool:
        """True while the meter neither answers nor publishes."""
        return bool(self._active(SilentFault, t))

    def delay(self, t: float) -> float:
        """Seconds of real time a Modbus answer takes at ``t`` (0: at once)."""
        return max((f.delay for f in self._active(SlowFault, t)), default=0.0)

    def word_order(self, t: float) -> str | None:
        """The byte order multi-register values are served in at ``t``; None: the map's."""
        found = self._active(WordOrderFault, t)
        return found[-1].order if found else None

    def copies(self, t: float) -> int:
        """Extra copies of each message published at ``t``."""
        return sum(f.copies for f in self._active(DuplicateFault, t))

    def late(self, t: float) -> float:
        """Simulated seconds a message of ``t`` is held back (0: sent at once)."""
        return max((f.delay for f in self._active(LateFault, t)), default=0.0)

    def out_of_order(self, t: float) -> bool:
        return bool(self._active(OutOfOrderFault, t))

    def malformed(self, t: float) -> MalformedFault | None:
        found = self._active(MalformedFault, t)
        return found[-1] if found else None

    def clock_offset(self, t: float) -> float:
        """Seconds the publishing gateway's clock is ahead at ``t`` (negative: behind)."""
        return sum(f.offset for f in self._active(ClockOffsetFault, t))


NO_FAULTS = MeterFaults()


@dataclass(frozen=True, slots=True)
class Replacement:
    """A meter swap: from ``at`` (a refresh instant) ``counters`` restart at ``initial``."""

    at: float
    initial: float
    counters: tuple[str, ...]


class FaultyMeter:
    """``model`` as its faults show it; ``kind`` is its model (electricity, gas …)."""

    def __init__(self, model: MeterModel, kind: str, faults: Sequence[FaultSpec]) -> None:
        self.model = model
        self.timing: Timing = model.timing
        self.faults = MeterFaults(faults)
        counters = COUNTERS[kind]
        self.wraps: dict[str, float] = {}
        for fault in faults:
            if isinstance(fault, WrapFault):
                self.wraps |= dict.fromkeys(fault.counters or counters, fault.value)
        self.replacements = sorted(
            (
                Replacement(self.first_shown(f.at.timestamp()), f.initial, f.counters or counters)
                for f in faults
                if isinstance(f, ReplacementFault)
            ),
            key=lambda r: r.at,
        )
        self._stuck = [
            (f, f.values or SHOWN[kind]) for f in self.faults.windowed if isinstance(f, StuckFault)
        ]
        self._spikes = [f for f in self.faults.windowed if isinstance(f, SpikeFault)]
        self._bases: dict[float, Mapping[str, float]] = {}
        self._frozen: dict[int, dict[str, float]] = {}
        self._cached_at: float | None = None
        self._cached: dict[str, float] = {}

    def grid(self, t: float) -> float:
        return self.model.grid(t)

    def totals(self) -> dict[str, Total]:
        """The model's counters, untouched by any fault: ground truth stays exact."""
        return self.model.totals()

    def values_at(self, t: float) -> dict[str, float]:
        shown = self.model.grid(t)
        if shown != self._cached_at:
            self._cached = self._shown(shown)
            self._cached_at = shown
        return self._cached

    def first_shown(self, t: float) -> float:
        """The first instant at or after ``t`` whose state the meter shows."""
        timing = self.timing
        shown = timing.shown(t)
        if shown >= t:
            return shown
        if timing.refresh is None:
            return shown + timing.step
        return timing.shown((math.floor(t / timing.refresh) + 1) * timing.refresh)

    def replaced(self, replacement: Replacement) -> dict[str, tuple[float, float]]:
        """Each counter's (old meter's final reading, new meter's first) at the swap."""
        raw = self._base(replacement.at)
        return {
            name: (
                self._counter(name, raw[name], replacement.at, before=replacement.at),
                self._counter(name, raw[name], replacement.at),
            )
            for name in replacement.counters
        }

    def _shown(self, at: float) -> dict[str, float]:
        self._remember(at)
        values = self._counted(at)
        for index, (fault, names) in enumerate(self._stuck):
            start, end = fault.window()
            if start <= at < end:
                values |= {name: self._frozen[index][name] for name in names}
        for spike in self._spikes:
            start, end = spike.window()
            if start <= at < end:
                values |= {n: values[n] * spike.factor + spike.offset for n in spike.values}
        return values

    def _remember(self, at: float) -> None:
        """Keep the states later instants refer back to, oldest first.

        A replacement needs the model's values at the swap, a stuck fault those at its
        start; the model's counters look back only so far, so each is taken as soon as
        time reaches it, in time order.
        """
        due: list[tuple[float, int]] = [(r.at, -1) for r in self.replacements]
        due += [(self._freeze_at(f), i) for i, (f, _) in enumerate(self._stuck)]
        for instant, index in sorted(due):
            if instant > at:
                break
            if index < 0:
                self._base(instant)
            elif index not in self._frozen:
                self._frozen[index] = self._counted(instant)

    def _freeze_at(self, fault: StuckFault) -> float:
        """The instant whose state a stuck fault freezes: its start (the origin at earliest)."""
        return self.model.grid(max(fault.window()[0], self.timing.origin))

    def _counted(self, at: float) -> dict[str, float]:
        """The model's values with counters wrapped and restarted as the faults say."""
        values = dict(self.model.values_at(at))
        for name in {*self.wraps, *(n for r in self.replacements for n in r.counters)}:
            values[name] = self._counter(name, values[name], at)
        return values

    def _counter(self, name: str, raw: float, at: float, before: float = math.inf) -> float:
        """What counter ``name`` shows at ``at`` for the model's ``raw`` value there,
        counting only replacements before ``before``."""
        last = None
        for replacement in self.replacements:
            if replacement.at <= at and replacement.at < before and name in replacement.counters:
                last = replacement
        value = raw if last is None else last.initial + raw - self._base(last.at)[name]
        wrap = self.wraps.get(name)
        return value % wrap if wrap else value

    def _base(self, at: float) -> Mapping[str, float]:
        """The model's values at a replacement instant, kept once computed."""
        if at not in self._bases:
            self._bases[at] = dict(self.model.values_at(at))
        return self._bases[at]


def faults_of(model: object) -> MeterFaults:
    """The protocol faults a gateway must act out for ``model`` (none for a plain model)."""
    return model.faults if isinstance(model, FaultyMeter) else NO_FAULTS


def with_faults(
    models: Mapping[str, MeterModel], kinds: Mapping[str, str], faults: Sequence[FaultSpec]
) -> dict[str, MeterModel]:
    """Wrap each model that has faults in a `FaultyMeter`; leave the others as they are."""
    out: dict[str, MeterModel] = dict(models)
    for meter, model in models.items():
        mine = [f for f in faults if f.meter == meter]
        if mine:
            out[meter] = FaultyMeter(model, kinds[meter], mine)
    return out
