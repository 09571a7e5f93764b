"""The pass's metrics from Prometheus instead of pod-proxy scrapes: the same ``Parsed``, plus raw samples.

Series are matched to pods by the target labels kube-prometheus' PodMonitor/ServiceMonitor
relabelling attaches (``namespace``, ``pod``; ``exported_namespace``/``exported_pod`` when the
server's own labels were renamed); dcgm-exporter series to exporter pods the same way, or by
their ``Hostname`` label. A series' identity is its labels without those Prometheus added, so
it matches what a pod-proxy scrape of the same server would call it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from ..core.counters import CounterSample
from ..core.deltas import SeriesSamples, TokenCounter
from ..kube import discovery
from ..metrics import GpuReading, round_count, series_identity
from ..metrics.extract import DCGM_ENERGY, DCGM_POWER, token_families
from ..prometheus import FamilyResult, PrometheusClient, RangeSeries, query_families
from .observe import Parsed

TARGET_LABELS = frozenset(
    {"__name__", "job", "instance", "namespace", "pod", "container", "service", "endpoint"}
    | {"exported_namespace", "exported_pod", "prometheus", "prometheus_replica"}
)
_MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
PodKey = tuple[str, str]


def _pod_of(labels: Mapping[str, str]) -> PodKey | None:
    for ns, pod in (("namespace", "pod"), ("exported_namespace", "exported_pod")):
        if labels.get(ns) and labels.get(pod):
            return labels[ns], labels[pod]
    return None


def _index(series: Iterable[RangeSeries]) -> dict[PodKey, list[RangeSeries]]:
    out: dict[PodKey, list[RangeSeries]] = defaultdict(list)
    for s in series:
        key = _pod_of(s.labels)
        if key is not None:
            out[key].append(s)
    return out


def _counted(samples: list[CounterSample], started_ms: int | None) -> list[CounterSample]:
    """Token counts (whole numbers, half to even) of the samples since the pod started: those before it
    belong to an earlier pod of the same name."""
    if started_ms is not None and samples and samples[0].timestamp_ms < started_ms:
        samples = [s for s in samples if s.timestamp_ms >= started_ms]
    if all(s.value == s.value.to_integral_value() for s in samples):
        return samples  # counters are whole numbers nearly always: nothing to round
    return [CounterSample(s.timestamp_ms, Decimal(round_count(s.value))) for s in samples]


class _Tokens:
    def __init__(self) -> None:
        self.samples: dict[str, list[list[CounterSample]]] = {}
        self.models: dict[str, str | None] = {}

    def add(self, identity: str, slot: int, model: str | None, samples: list[CounterSample]) -> None:
        pair = self.samples.setdefault(identity, [[], []])
        pair[slot] += samples
        self.models[identity] = model or self.models.get(identity)

    def counters(self) -> dict[str, TokenCounter]:
        return {k: TokenCounter(self.models[k], _last(inp), _last(out)) for k, (inp, out) in self.samples.items()}


def _last(samples: list[CounterSample]) -> int:
    return int(samples[-1].value) if samples else 0


def _pod_tokens(
    pod: discovery.InferencePod, index: dict[str, dict[PodKey, list[RangeSeries]]], ignored: frozenset[str]
) -> _Tokens | None:
    started_ms = int(pod.started.timestamp() * 1000) if pod.started else None
    for names in token_families(pod.backend):
        found = _Tokens()
        for slot, name in enumerate(names):
            for s in index.get(name, {}).get((pod.namespace, pod.name), []):
                samples = _counted(s.samples, started_ms)
                if samples:
                    own = {k: v for k, v in s.labels.items() if k not in ignored}
                    found.add(series_identity(own), slot, own.get("model_name") or None, samples)
        if found.samples:
            return found
    return None


def _by_host(series: Iterable[RangeSeries]) -> dict[str, list[RangeSeries]]:
    out: dict[str, list[RangeSeries]] = defaultdict(list)
    for s in series:
        host = s.labels.get("Hostname") or s.labels.get("hostname")
        if host:
            out[host].append(s)
    return out


def _gpus(
    exp: discovery.ExporterPod,
    by_pod_index: Mapping[str, Mapping[PodKey, list[RangeSeries]]],
    by_host_index: Mapping[str, Mapping[str, list[RangeSeries]]],
) -> list[GpuReading]:
    readings: dict[str, dict[str, object]] = {}
    for family in (DCGM_ENERGY, DCGM_POWER):
        mine = by_pod_index.get(family, {}).get((exp.namespace, exp.name), [])
        by_pod = bool(mine)
        if not by_pod:  # scraped without kube-prometheus target labels: the exporter's own Hostname says where
            mine = by_host_index.get(family, {}).get(exp.node, [])
        for s in mine:
            uuid = s.labels.get("UUID")
            if not uuid or not s.samples or (uuid in readings and family in readings[uuid]):
                continue
            r = readings.setdefault(uuid, {"labels": s.labels, "by_pod": by_pod})
            r[family] = s.samples[-1].value
    out = []
    for uuid, r in readings.items():
        labels: Mapping[str, str] = r["labels"]  # type: ignore[assignment]
        ns_key, pod_key = ("exported_namespace", "exported_pod") if r["by_pod"] else ("namespace", "pod")
        energy, power = r.get(DCGM_ENERGY), r.get(DCGM_POWER)
        index = labels.get("gpu", "")
        out.append(
            GpuReading(
                uuid=uuid,
                index=int(index) if index.isdigit() else None,
                model_name=labels.get("modelName") or None,
                host=labels.get("Hostname") or labels.get("hostname"),
                power_watts=float(power) if isinstance(power, Decimal) and power >= 0 else None,
                energy_mj=round_count(energy) if isinstance(energy, Decimal) and energy >= 0 else None,
                pod=labels.get(pod_key) or None,
                namespace=labels.get(ns_key) or None,
                container=None,
                pod_uid=None,
            )
        )
    out.sort(key=lambda g: (g.index is None, g.index or 0, g.uuid))
    return out


def _failure(result: FamilyResult, families: Iterable[str], key: PodKey, found: bool) -> tuple[str, str] | None:
    """The first failed query that may hide this pod's series: one covering it, or any when nothing was found."""
    for family in families:
        error = result.failure_for(family, key, found=True)
        if error is not None:
            return family, error
    if not found:
        for family in families:
            error = result.failure_for(family, key, found=False)
            if error is not None:
                return family, error
    return None


def observe_prometheus(
    client: PrometheusClient,
    inference: Iterable[discovery.InferencePod],
    exporters: Iterable[discovery.ExporterPod],
    at: datetime,
    window_seconds: float,
    progress: Callable[[int, int], None] | None = None,
    checkpoints: Iterable[datetime] = (),
) -> tuple[Parsed, dict[discovery.Endpoint, dict[str, SeriesSamples]], list[str]]:
    """Parsed counters per endpoint, raw samples per endpoint and series, and failed families (or chunks).

    ``checkpoints``: the reports' checkpoint instants. Counting starts from them or from a pod's
    start, so only the samples around those instants, around resets, and the last are kept; the
    DCGM families keep their last sample (that is all energy accounting reads).
    """
    pods = list({p.endpoint: p for p in inference}.values())
    exps = list({e.endpoint: e for e in exporters}.values())
    wanted: dict[str, set[PodKey]] = defaultdict(set)
    for p in pods:
        for names in token_families(p.backend):
            for name in names:
                wanted[name].add((p.namespace, p.name))
    for e in exps:
        for name in (DCGM_ENERGY, DCGM_POWER):
            wanted[name].add((e.namespace, e.name))
    cuts = [*checkpoints, *(p.started for p in pods if p.started is not None)]
    result = query_families(
        client, wanted, at, window_seconds, progress, cuts=cuts, last_only=(DCGM_ENERGY, DCGM_POWER)
    )
    ignored = TARGET_LABELS | {m.group(1) for m in _MATCHER.finditer(client.opts.selector)}
    index = {family: _index(series) for family, series in result.series.items()}
    parsed = Parsed()
    samples: dict[discovery.Endpoint, dict[str, SeriesSamples]] = {}
    for pod in pods:
        families = [n for names in token_families(pod.backend) for n in names]
        found = _pod_tokens(pod, index, ignored)
        failed = _failure(result, families, (pod.namespace, pod.name), found is not None)
        if failed:
            parsed.fail(pod.endpoint, f"prometheus query of {failed[0]} failed: {failed[1]}")
            continue
        if found is None:
            wanted_names = ", ".join(families)
            parsed.fail(
                pod.endpoint, f"no series of {wanted_names} with namespace/pod labels of this pod in Prometheus"
            )
            continue
        parsed.tokens[pod.endpoint] = found.counters()
        samples[pod.endpoint] = {k: (v[0], v[1]) for k, v in found.samples.items()}
    hosts = {family: _by_host(result.series.get(family, [])) for family in (DCGM_ENERGY, DCGM_POWER)}
    for exp in exps:
        gpus = _gpus(exp, index, hosts)
        failed = _failure(result, (DCGM_ENERGY, DCGM_POWER), (exp.namespace, exp.name), bool(gpus))
        if failed:
            parsed.fail(exp.endpoint, f"prometheus query of {failed[0]} failed: {failed[1]}")
        elif not gpus:
            parsed.fail(exp.endpoint, "no DCGM series of this exporter pod (namespace/pod or Hostname) in Prometheus")
        else:
            parsed.gpus[exp.endpoint] = gpus
    return parsed, samples, result.failure_lines()
