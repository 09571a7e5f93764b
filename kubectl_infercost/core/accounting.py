"""Token deltas between a report's own checkpoints (§6): restart-safe and exact.

A counter that went down for the same pod UID restarted: its whole current value is new.
A pod UID not in the checkpoint counts from zero if it started after the checkpoint,
otherwise it is only baselined. A pod whose scrape failed keeps its old checkpoint
entry, so nothing is lost when it answers again. Gone pods drop out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ..models import Checkpoint, PodCheckpoint, SeriesCheckpoint


@dataclass(frozen=True)
class PodObservation:
    """An in-scope inference pod as seen in this pass."""

    uid: str
    namespace: str
    name: str
    model: str  # the pod's model label: tokens of unlabelled series and cost of idle GPUs go here
    started: datetime | None
    gpus: int  # GPUs it holds: DCGM pod mapping, else its nvidia.com/gpu limit
    series: Mapping[str, tuple[int, int]] | None  # model -> (input, output); None when the scrape failed


@dataclass
class PodDelta:
    pod: PodObservation
    tokens: dict[str, tuple[int, int]] = field(default_factory=dict)  # model -> (input, output) in the interval


def _previous(checkpoint: Checkpoint | None) -> dict[str, PodCheckpoint]:
    return {p.uid: p for p in checkpoint.pods} if checkpoint else {}


def token_deltas(checkpoint: Checkpoint, pods: list[PodObservation]) -> list[PodDelta]:
    before = _previous(checkpoint)
    deltas: list[PodDelta] = []
    for pod in pods:
        delta = PodDelta(pod)
        deltas.append(delta)
        if pod.series is None:
            continue
        old = before.get(pod.uid)
        if old is None and not (pod.started is not None and pod.started > checkpoint.time):
            continue  # existed before the checkpoint but unseen: baseline only
        old_series = {s.model: (s.in_, s.out) for s in old.series} if old else {}
        for model, (cur_in, cur_out) in pod.series.items():
            prev_in, prev_out = old_series.get(model, (0, 0))
            d_in = cur_in - prev_in if cur_in >= prev_in else cur_in
            d_out = cur_out - prev_out if cur_out >= prev_out else cur_out
            if d_in or d_out:
                delta.tokens[model] = (d_in, d_out)
    return deltas


def next_pod_checkpoints(checkpoint: Checkpoint | None, pods: list[PodObservation]) -> list[PodCheckpoint]:
    """Current counters of answered pods; the old entry of pods whose scrape failed."""
    before = _previous(checkpoint)
    out: list[PodCheckpoint] = []
    for pod in sorted(pods, key=lambda p: (p.namespace, p.name, p.uid)):
        if pod.series is not None:
            series = [SeriesCheckpoint(model=m, in_=i, out=o) for m, (i, o) in sorted(pod.series.items())]
            out.append(PodCheckpoint(uid=pod.uid, namespace=pod.namespace, name=pod.name, series=series))
        elif pod.uid in before:
            out.append(before[pod.uid])
        elif checkpoint is not None and pod.started is not None and pod.started > checkpoint.time:
            # Started after the checkpoint but not yet answered: an empty entry keeps all its tokens new.
            out.append(PodCheckpoint(uid=pod.uid, namespace=pod.namespace, name=pod.name, series=[]))
    return out
