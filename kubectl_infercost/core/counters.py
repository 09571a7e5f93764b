"""Exact counter growth from raw samples (docs/prometheus.md#exact-not-extrapolated).

A range selector at the pass instant returns every raw sample a series stored; the
growth is the sum of the increases between consecutive samples, and a drop is a
reset whose post-reset value counts whole. Nothing is extrapolated to the window's
edges, as ``increase()`` and ``rate()`` do: tokens are counted, not estimated.

The mark (a series' last sample: timestamp and value) is what the checkpoint keeps.
Only samples strictly after the mark count, so the sample at the boundary counts in
the pass that saw it first and never twice; what a server did after its last stored
sample arrives with the next pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

__all__ = ["CounterSample", "SeriesGrowth", "growth", "growth_by_series"]


class CounterSample(NamedTuple):
    """One raw sample: milliseconds since the epoch (Prometheus' own precision) and its value.

    A named tuple: a pass builds one per raw sample of every token series, so it must be cheap.
    """

    timestamp_ms: int
    value: Decimal


def _order(sample: CounterSample) -> tuple[int, Decimal]:
    return sample.timestamp_ms, sample.value  # the dataclass order, without its slow comparisons


@dataclass(frozen=True, slots=True)
class SeriesGrowth:
    """How much a series grew after ``mark`` was taken, and the mark to keep for the next pass."""

    increase: Decimal
    resets: int
    mark: CounterSample | None


def growth(samples: Iterable[CounterSample], mark: CounterSample | None, *, new_from_zero: bool) -> SeriesGrowth:
    """The exact growth of one counter after ``mark``.

    ``mark`` is the series' last sample counted by an earlier pass, or ``None`` for a
    series no pass has counted. Then ``new_from_zero`` says whether its first sample is
    all new (the series began after the previous pass) or only its baseline (it existed
    before accounting started, so what it held then is not ours to count).
    Samples at or before the mark were counted already and are skipped.
    """
    ordered = sorted(samples, key=_order)
    previous: Decimal | None = mark.value if mark is not None else None
    last = mark
    total = Decimal(0)
    resets = 0
    for sample in ordered:
        if last is not None and sample.timestamp_ms <= last.timestamp_ms:
            continue
        if previous is None:
            step = sample.value if new_from_zero else Decimal(0)
        elif sample.value >= previous:
            step = sample.value - previous
        else:
            step = sample.value  # a reset: the counter restarted from zero and reached this value
            resets += 1
        total += step
        previous = sample.value
        last = sample
    return SeriesGrowth(total, resets, last)


def growth_by_series(
    series: Mapping[str, Iterable[CounterSample]],
    marks: Mapping[str, CounterSample],
    *,
    new_from_zero: bool,
) -> dict[str, SeriesGrowth]:
    """:func:`growth` for each series (keyed by identity); marks of series absent now are kept."""
    out = {
        identity: growth(samples, marks.get(identity), new_from_zero=new_from_zero)
        for identity, samples in series.items()
    }
    for identity, mark in marks.items():
        if identity not in out:
            out[identity] = SeriesGrowth(Decimal(0), 0, mark)
    return out
