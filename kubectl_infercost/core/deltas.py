"""Token deltas between a report's own checkpoints (docs/accounting.md#checkpoints-and-deltas): restart-safe and exact.

A counter's identity is its series (pod UID + the series' own labels), never the pod's
model label: relabelling a pod only changes where future deltas are attributed.
A counter that went down for the same series restarted: its whole current value is new; so is one
whose server gives another start time than the checkpoint's (it restarted and may have grown past
its old value since).
A pod UID not in the checkpoint counts from zero if it started after the checkpoint,
otherwise it is only baselined. A series missing from a successful scrape, a pod whose
scrape failed and a pod that exists but is not Running all keep their checkpoint
entries, so their tokens arrive when they answer again. So does a pod whose checkpoint holds
values read after this pass began reading (an overlapping reconciler's). Only a pod whose UID
is gone leaves the checkpoint.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ..models import Checkpoint, PodCheckpoint, SeriesCheckpoint
from .counters import CounterSample, growth

# A series' raw samples (input, output), oldest first, when the source keeps history (Prometheus).
SeriesSamples = tuple[Sequence[CounterSample], Sequence[CounterSample]]


@dataclass(frozen=True)
class TokenCounter:
    """One series' cumulative tokens; ``model`` is its own model_name label, if it has one.

    ``started`` is when the counters began, when the server says (its ``_created`` samples or process
    start): a start other than the checkpoint's is a restart, even if the counter has since grown past
    its old value, which comparing values alone cannot tell.
    """

    model: str | None
    input: int
    output: int
    started: datetime | None = None


@dataclass(frozen=True)
class PodObservation:
    """An in-scope inference pod as seen in this pass."""

    uid: str
    namespace: str
    name: str
    model: str  # the pod's model label: tokens of unlabelled series and cost of idle GPUs go here
    started: datetime | None
    gpus: int  # GPUs it holds: DCGM pod mapping, else its nvidia.com/gpu limit
    series: Mapping[str, TokenCounter] | None  # series identity -> counter; None when the scrape failed
    # With a history source: each series' samples; ``series`` then holds its last sample's values.
    samples: Mapping[str, SeriesSamples] | None = None
    # When this pass began and finished reading the counters (None: unknown, never treated as stale).
    read_window: tuple[datetime, datetime] | None = None

    def model_of(self, counter: TokenCounter) -> str:
        return counter.model or self.model


@dataclass
class PodDelta:
    pod: PodObservation
    tokens: dict[str, tuple[int, int]] = field(default_factory=dict)  # model -> (input, output) in the interval


def is_stale(pod: PodObservation, old: PodCheckpoint | None) -> bool:
    """Whether the checkpoint holds values read after this pass began reading (another reconciler's).

    Two reconcilers may overlap: one that read a counter before a restart and writes after the other
    recorded the restarted counter would take its older, higher value for new growth. Such a reading
    is not used; the pod keeps its checkpoint, and its growth arrives with the next pass.
    """
    return (
        old is not None
        and old.observed_at is not None
        and pod.read_window is not None
        and pod.read_window[0] < old.observed_at
    )


def _previous(checkpoint: Checkpoint | None) -> dict[str, PodCheckpoint]:
    return {p.uid: p for p in checkpoint.pods} if checkpoint else {}


def _restarted(kept: SeriesCheckpoint, counter: TokenCounter) -> bool:
    """The server says the counters began at another time than those of the checkpoint."""
    return kept.started_at is not None and counter.started is not None and kept.started_at != counter.started


def _growth(current: tuple[int, int], previous: tuple[int, int]) -> tuple[int, int]:
    """Per counter: the increase, or the whole current value after a restart (it went down)."""
    return tuple(c - p if c >= p else c for c, p in zip(current, previous, strict=True))  # type: ignore[return-value]


def _add(tokens: dict[str, tuple[int, int]], model: str, delta: tuple[int, int]) -> None:
    if delta[0] or delta[1]:
        old = tokens.get(model, (0, 0))
        tokens[model] = (old[0] + delta[0], old[1] + delta[1])


def token_deltas(checkpoint: Checkpoint, pods: list[PodObservation]) -> list[PodDelta]:
    before = _previous(checkpoint)
    deltas: list[PodDelta] = []
    for pod in pods:
        delta = PodDelta(pod)
        deltas.append(delta)
        old = before.get(pod.uid)
        if pod.series is None or is_stale(pod, old):
            continue
        if old is None and not (pod.started is not None and pod.started > checkpoint.time):
            continue  # existed before the checkpoint but unseen: baseline only
        if old is not None and any(s.labels is None for s in old.series):
            _legacy_deltas(delta, old)
            continue
        old_series = {s.labels: s for s in old.series} if old else {}
        for identity, counter in pod.series.items():
            kept = old_series.get(identity)
            previous = (kept.in_, kept.out) if kept else (0, 0)  # a new series started from zero
            history = pod.samples.get(identity) if pod.samples is not None else None
            if history is None and kept is not None and _restarted(kept, counter):
                grown = (counter.input, counter.output)
            elif history is None:
                grown = _growth((counter.input, counter.output), previous)
            else:
                grown = _sampled_growth(history, previous, checkpoint.time)
            _add(delta.tokens, pod.model_of(counter), grown)
    return deltas


def _sampled_growth(history: SeriesSamples, previous: tuple[int, int], since: datetime) -> tuple[int, int]:
    """Sum of increases of the samples after the checkpoint, from its values: resets in between count too."""
    since_ms = int(since.timestamp() * 1000)
    grown = [
        growth(samples, CounterSample(since_ms, Decimal(before)), new_from_zero=True).increase
        for samples, before in zip(history, previous, strict=True)
    ]
    return int(grown[0]), int(grown[1])


def _legacy_deltas(delta: PodDelta, old: PodCheckpoint) -> None:
    """A checkpoint written before series identities: compare per-model sums once."""
    assert delta.pod.series is not None
    current: dict[str, tuple[int, int]] = {}
    for counter in delta.pod.series.values():
        _add(current, delta.pod.model_of(counter), (counter.input, counter.output))
    old_sums = {s.model: (s.in_, s.out) for s in old.series}
    for model, value in current.items():
        _add(delta.tokens, model, _growth(value, old_sums.get(model, (0, 0))))


def next_pod_checkpoints(
    checkpoint: Checkpoint | None, pods: list[PodObservation], existing: Collection[str] | None = None
) -> list[PodCheckpoint]:
    """The checkpoint's pods after this pass.

    Answered pods: their current series, plus the kept entries of series this scrape left out.
    Pods whose scrape failed, and pods in ``existing`` (UIDs still listed by the API server)
    that were not observed: their old entries. Every other UID is gone and drops out.
    """
    before = _previous(checkpoint)
    observed = {p.uid for p in pods}
    alive = observed | set(existing or ())
    out: list[PodCheckpoint] = []
    for pod in pods:
        old = before.get(pod.uid)
        if pod.series is not None and not is_stale(pod, old):
            series = {
                identity: SeriesCheckpoint(
                    model=pod.model_of(c), labels=identity, in_=c.input, out=c.output, started_at=c.started
                )
                for identity, c in pod.series.items()
            }
            for kept in old.series if old else []:
                if kept.labels is not None and kept.labels not in series:
                    series[kept.labels] = kept
            ordered = [series[k] for k in sorted(series)]
            observed_at = pod.read_window[1] if pod.read_window is not None else None
            out.append(
                PodCheckpoint(
                    uid=pod.uid, namespace=pod.namespace, name=pod.name, observed_at=observed_at, series=ordered
                )
            )
        elif old is not None:
            out.append(old)
        elif checkpoint is not None and pod.started is not None and pod.started > checkpoint.time:
            # Started after the checkpoint but not yet answered: an empty entry keeps all its tokens new.
            out.append(PodCheckpoint(uid=pod.uid, namespace=pod.namespace, name=pod.name, series=[]))
    out += [p for uid, p in before.items() if uid not in observed and uid in alive]
    return sorted(out, key=lambda p: (p.namespace, p.name, p.uid))
