"""``backfill``: history before each report's ``accountingSince``, replayed from Prometheus.

Adapters in (UsageReports, CostProfiles, nodes and pods from the API server; raw samples from
Prometheus, one query per metric family per chunk of a period), the pure core
(:mod:`kubectl_infercost.core.backfill`), adapters out (status writes with optimistic concurrency).
One bad report, or one period Prometheus could not answer, is recorded and never stops the others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from ..core.backfill import (
    Bound,
    GpuHistory,
    OwnerSample,
    PeriodHistory,
    TokenSeries,
    account_period,
    merge_history,
    plan_periods,
)
from ..core.cloud import PriceCatalog
from ..core.counters import CounterSample
from ..core.periods import Period
from ..core.validity import report_problem
from ..errors import ConflictError, InvalidObjectError, NotFoundError
from ..kube import crds, discovery
from ..kube.client import JSON, KubeClient
from ..kube.objects import InexactNumberError, get_object, replace_status
from ..kube.read import ObjectProblem, list_valid, validate
from ..kube.resources import COST_PROFILES, USAGE_REPORTS
from ..metrics import round_count, series_identity
from ..metrics.extract import BACKENDS, DCGM_ENERGY, DCGM_POWER, token_families
from ..models import CostProfile, HistoryEntry, UsageReport
from ..prometheus import PrometheusClient, PrometheusError, RangeSeries
from ..prometheus.families import range_query
from .promsource import _MATCHER, TARGET_LABELS, _pod_of
from .writes import ARITHMETIC_ERRORS, MAX_WRITE_ATTEMPTS

CHUNK = timedelta(days=1)  # the longest window of one query: a month is 31 queries per family, not one huge one
TOKEN_SETS: tuple[tuple[str, str], ...] = tuple(
    dict.fromkeys(names for backend in BACKENDS for names in token_families(backend))
)
FAMILIES: tuple[str, ...] = tuple(sorted({n for names in TOKEN_SETS for n in names} | {DCGM_ENERGY, DCGM_POWER}))
_HOST_LABELS = ("Hostname", "hostname")


@dataclass
class BackfillOptions:
    since: Bound
    until: Bound | None
    namespace: str | None
    prometheus: PrometheusClient
    catalog: PriceCatalog | None
    now: datetime
    step: timedelta = timedelta(minutes=5)
    lookback: timedelta = timedelta(hours=1)
    dry_run: bool = False


@dataclass
class ReportResult:
    namespace: str
    name: str
    entries: list[HistoryEntry] = field(default_factory=list)  # written, or to be written with --dry-run
    notes: list[str] = field(default_factory=list)
    written: bool = False


@dataclass
class BackfillSummary:
    results: list[ReportResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line per report or period that failed
    invalid: int = 0  # reports that cannot be backfilled at all (their objects are wrong)
    unanswered: int = 0  # periods Prometheus could not answer


Samples = dict[tuple[tuple[str, str], ...], list[CounterSample]]


class History:
    """Raw samples per (period start, end), fetched once per run and shared by every report."""

    def __init__(self, client: PrometheusClient, lookback: timedelta, progress: Callable[[str], None]) -> None:
        self.client = client
        self.lookback = lookback
        self.progress = progress
        self.cache: dict[tuple[datetime, datetime], dict[str, list[RangeSeries]] | PrometheusError] = {}

    def series(self, period: Period) -> dict[str, list[RangeSeries]]:
        key = (period.start, period.end)
        if key not in self.cache:
            try:
                self.cache[key] = self._fetch(period.start, period.end, period.label)
            except PrometheusError as exc:
                self.cache[key] = exc
        found = self.cache[key]
        if isinstance(found, PrometheusError):
            raise found
        return found

    def forget(self, key: tuple[datetime, datetime]) -> None:
        """Drop a period's samples once every report that needed it has its entry."""
        self.cache.pop(key, None)

    def _fetch(self, start: datetime, end: datetime, label: str) -> dict[str, list[RangeSeries]]:
        """Every sample in (start - lookback, end]: a query per day of the period, the first one reaching back."""
        chunks = []
        cursor = start
        while cursor < end:
            chunks.append((cursor, min(cursor + CHUNK, end)))
            cursor = chunks[-1][1]
        chunks[0] = (start - self.lookback, chunks[0][1])
        out: dict[str, list[RangeSeries]] = {}
        self.progress(f"reading {label}: {len(FAMILIES)} families, {len(chunks)} queries each")
        for family in FAMILIES:
            stitched: Samples = defaultdict(list)
            labels_of: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
            for a, b in chunks:
                query = range_query(family, self.client.opts.selector, (b - a).total_seconds())
                try:
                    answer = self.client.query(query, b)
                except PrometheusError as exc:
                    raise PrometheusError(f"prometheus {family}: {exc}") from None
                low, high = int(a.timestamp() * 1000), int(b.timestamp() * 1000)
                for s in answer:
                    key = tuple(sorted(s.labels.items()))
                    labels_of[key] = s.labels
                    stitched[key] += [x for x in s.samples if low < x.timestamp_ms <= high]
            out[family] = [RangeSeries(labels_of[k], v) for k, v in stitched.items() if v]
        return out


def _counts(samples: Iterable[CounterSample]) -> list[CounterSample]:
    return [CounterSample(s.timestamp_ms, Decimal(round_count(s.value))) for s in samples]


def _token_series(series: Mapping[str, list[RangeSeries]], ignored: frozenset[str]) -> list[TokenSeries]:
    """Token series per pod: the first backend's families that have any."""
    by_pod: dict[tuple[str, str], dict[str, list[RangeSeries]]] = defaultdict(lambda: defaultdict(list))
    for names in TOKEN_SETS:
        for name in names:
            for s in series.get(name, []):
                where = _pod_of(s.labels)
                if where is not None:
                    by_pod[where][name].append(s)
    tokens: list[TokenSeries] = []
    for (namespace, pod), families in sorted(by_pod.items()):
        names = next(n for n in TOKEN_SETS if families.get(n[0]) or families.get(n[1]))
        found: dict[str, tuple[str | None, list[list[CounterSample]]]] = {}
        for slot, name in enumerate(names):
            for s in families.get(name, []):
                own = {k: v for k, v in s.labels.items() if k not in ignored}
                identity = series_identity(own)
                model, pair = found.setdefault(identity, (own.get("model_name") or None, [[], []]))
                pair[slot] += _counts(s.samples)
        for identity, (model, (ins, outs)) in sorted(found.items()):
            tokens.append(TokenSeries(namespace, pod, identity, model, ins, outs))
    return tokens


def _gpu_samples(series: Mapping[str, list[RangeSeries]], nodes: set[str] | None) -> dict[str, dict[str, object]]:
    """DCGM samples and owners by GPU UUID, on ``nodes`` (None: all)."""
    gpus: dict[str, dict[str, object]] = {}
    for family in (DCGM_ENERGY, DCGM_POWER):
        for s in series.get(family, []):
            uuid = s.labels.get("UUID")
            node = next((s.labels[k] for k in _HOST_LABELS if s.labels.get(k)), None)
            if not uuid or (nodes is not None and node not in nodes):
                continue
            gpu = gpus.setdefault(uuid, {"node": node, DCGM_ENERGY: {}, DCGM_POWER: {}, "owners": []})
            owner_ns, owner_pod = s.labels.get("exported_namespace"), s.labels.get("exported_pod")
            owner = (owner_ns, owner_pod) if owner_ns and owner_pod else None
            values: dict[int, CounterSample] = gpu[family]  # type: ignore[assignment]
            owners: list[OwnerSample] = gpu["owners"]  # type: ignore[assignment]
            for x in _counts(s.samples) if family == DCGM_ENERGY else s.samples:
                values.setdefault(x.timestamp_ms, x)  # the same GPU through two exporters counts once
                owners.append(OwnerSample(x.timestamp_ms, owner))
    return gpus


def period_history(
    series: Mapping[str, list[RangeSeries]],
    ignored: frozenset[str],
    nodes: set[str] | None,
    pod_models: Mapping[tuple[str, str], str],
) -> PeriodHistory:
    """Token series per pod (the first backend's families that have any) and GPUs by UUID (on ``nodes``)."""
    tokens = _token_series(series, ignored)
    gpus = _gpu_samples(series, nodes)
    begins = [min(x.timestamp_ms for x in s.samples) for family in series.values() for s in family if s.samples]
    return PeriodHistory(
        tokens,
        [
            GpuHistory(
                uuid,
                g["node"],  # type: ignore[arg-type]
                list(g[DCGM_ENERGY].values()),  # type: ignore[attr-defined]
                list(g[DCGM_POWER].values()),  # type: ignore[attr-defined]
                g["owners"],  # type: ignore[arg-type]
            )
            for uuid, g in sorted(gpus.items())
        ],
        pod_models,
        min(begins) if begins else None,
    )


class _Entries:
    """One report's period entries, each computed once (a write that conflicts plans again, not recomputes)."""

    def __init__(
        self,
        ur: UsageReport,
        profile: CostProfile,
        history: History,
        ignored: frozenset[str],
        nodes: set[str] | None,
        pod_models: Mapping[tuple[str, str], str],
        opts: BackfillOptions,
        summary: BackfillSummary,
        progress: Callable[[str], None],
    ) -> None:
        self.ur, self.profile, self.history, self.ignored = ur, profile, history, ignored
        self.nodes, self.pod_models, self.opts, self.summary, self.progress = nodes, pod_models, opts, summary, progress
        self.key = f"{ur.metadata.namespace}/{ur.metadata.name}"
        self.computed: dict[str, HistoryEntry | None] = {}

    def entry_for(self, period: Period) -> HistoryEntry | None:
        if period.label in self.computed:
            return self.computed[period.label]
        self.computed[period.label] = None
        self.progress(f"{self.key}: {period.label}")
        try:
            data = period_history(self.history.series(period), self.ignored, self.nodes, self.pod_models)
            self.computed[period.label] = account_period(
                self.ur.spec, self.profile.spec, period, data, self.opts.step, self.opts.catalog
            )
        except PrometheusError as exc:
            self.summary.unanswered += 1
            _problem(self.summary, self.key, f"period {period.label} not backfilled: {exc}")
        except ARITHMETIC_ERRORS as exc:
            _problem(self.summary, self.key, f"period {period.label} not backfilled: {type(exc).__name__}: {exc}")
        return self.computed[period.label]


def _problem(summary: BackfillSummary, key: str, message: str) -> None:
    summary.problems.append(f"UsageReport {key}: {message}")


def run_backfill(client: KubeClient, opts: BackfillOptions, progress: Callable[[str], None]) -> BackfillSummary:
    summary = BackfillSummary()
    crds.ensure_ours(client)
    reports = list_valid(client, USAGE_REPORTS, UsageReport, opts.namespace)
    for problem in reports.problems:
        summary.problems.append(str(problem))
        summary.invalid += 1
    profile_listing = list_valid(client, COST_PROFILES, CostProfile, opts.namespace)
    profiles = {(cp.metadata.namespace or "", cp.metadata.name): cp for cp in profile_listing.models}
    invalid_profiles = {(p.namespace, p.name): p for p in profile_listing.problems}
    view = discovery.observe(client) if reports.items else discovery.ClusterView([], [])
    pods, _ = discovery.inference_pods(view)
    pod_models = {(p.namespace, p.name): p.model for p in pods if p.model != p.name}
    history = History(opts.prometheus, opts.lookback, progress)
    ignored = TARGET_LABELS | {m.group(1) for m in _MATCHER.finditer(opts.prometheus.opts.selector)}
    accepted: list[tuple[JSON, UsageReport, CostProfile, _Entries]] = []
    for obj, ur in reports.items:
        key = f"{ur.metadata.namespace}/{ur.metadata.name}"
        ref = (ur.metadata.namespace or "", ur.spec.cost_profile_ref)
        profile = profiles.get(ref)
        if profile is None:
            bad_profile = invalid_profiles.get(ref)
            why = "not found" if bad_profile is None else f"is not valid ({bad_profile.field}: {bad_profile.message})"
            _problem(summary, key, f"spec.costProfileRef: CostProfile {ref[0]}/{ref[1]} {why}")
            summary.invalid += 1
            continue
        bad = report_problem(ur.spec, ur.status, opts.now, True)
        if bad is not None:
            _problem(summary, key, bad.message)
            summary.invalid += 1
            continue
        nodes = set(discovery.profile_nodes(view, profile.spec)) if profile.spec.node_selector else None
        entries = _Entries(ur, profile, history, ignored, nodes, pod_models, opts, summary, progress)
        accepted.append((obj, ur, profile, entries))
    # Period by period, every report that needs it, then its samples are dropped: one period in memory.
    wanted: dict[tuple[datetime, datetime], list[tuple[Period, _Entries]]] = defaultdict(list)
    for _, ur, profile, entries in accepted:
        plan = plan_periods(ur.spec, ur.status, opts.since, opts.until, profile.spec.hardware.in_service_date)
        for period in plan.periods:
            wanted[(period.start, period.end)].append((period, entries))
    for span in sorted(wanted, reverse=True):
        for period, entries in wanted[span]:
            entries.entry_for(period)
        history.forget(span)
    for obj, ur, profile, entries in accepted:
        result = ReportResult(ur.metadata.namespace or "", ur.metadata.name)
        summary.results.append(result)
        _backfill_report(client, obj, ur, profile, entries.entry_for, opts, result, summary)
    return summary


def _backfill_report(
    client: KubeClient,
    obj: JSON,
    ur: UsageReport,
    profile: CostProfile,
    entry_for: Callable[[Period], HistoryEntry | None],
    opts: BackfillOptions,
    result: ReportResult,
    summary: BackfillSummary,
) -> None:
    key = f"{result.namespace}/{result.name}"
    in_service = profile.spec.hardware.in_service_date
    for _ in range(MAX_WRITE_ATTEMPTS):
        plan = plan_periods(ur.spec, ur.status, opts.since, opts.until, in_service)
        result.notes = plan.notes
        entries = [e for e in (entry_for(p) for p in plan.periods) if e is not None]
        result.entries = entries
        if not entries or opts.dry_run:
            return
        try:
            replace_status(client, USAGE_REPORTS, obj, merge_history(ur.status, entries))
        except (InexactNumberError, InvalidObjectError, NotFoundError) as exc:
            _problem(summary, key, f"nothing written: {exc}")
            result.entries = []
            return
        except ConflictError:
            # Someone wrote since we read (a reconcile pass, another backfill): plan again on what they wrote.
            try:
                obj = get_object(client, USAGE_REPORTS, result.namespace, result.name)
            except NotFoundError as exc:
                _problem(summary, key, f"nothing written: {exc}")
                result.entries = []
                return
            fresh = validate("UsageReport", UsageReport, obj)
            if isinstance(fresh, ObjectProblem):
                _problem(summary, key, f"{fresh.field}: {fresh.message}")
                result.entries = []
                return
            ur = fresh
            continue
        result.written = True
        return
    _problem(summary, key, "status write kept conflicting; nothing written, run backfill again")
    result.entries = []


__all__ = ["BackfillOptions", "BackfillSummary", "ReportResult", "run_backfill"]
