"""One reconcile pass (§3): adapters in, the pure core, adapters out.

Discovery and scrapes happen once per pass and are shared by every profile and
report. One bad object or one dead endpoint is recorded and never stops the pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from .budgets import BudgetPass, reconcile_budgets
from .core.accounting import PodObservation, TokenCounter
from .core.cloud import PriceCatalog
from .core.conditions import set_condition
from .core.cost import GpuEnergy
from .core.money import ZERO
from .core.profile import DcgmOutcome, profile_status
from .core.usage import advance
from .errors import CheckpointAheadError, ConflictError, InferCostError
from .kube import discovery
from .kube.client import JSON, KubeClient
from .kube.objects import get_object, list_objects, replace_status
from .kube.read import ObjectProblem, validate
from .kube.resources import COST_PROFILES, USAGE_REPORTS
from .kube.scrape import ScrapeResult, scrape_all
from .metrics import MetricsParseError, extract_gpus, extract_tokens
from .models import CostProfile, UsageReport

MAX_WRITE_ATTEMPTS = 6


@dataclass
class PassOptions:
    now: datetime
    namespace: str | None
    catalog: PriceCatalog | None
    concurrency: int = 16
    scrape_timeout: float = 5.0
    max_bytes: int = 16 * 1024 * 1024
    dry_run: bool = False


@dataclass
class PassSummary:
    profiles: int = 0
    reports: int = 0
    endpoints: int = 0
    failed_endpoints: list[str] = field(default_factory=list)
    accrued_usd: Decimal = ZERO
    tokens: int = 0
    problems: list[str] = field(default_factory=list)  # per-object errors, never fatal
    skipped: list[str] = field(default_factory=list)  # already reconciled by another writer
    refused: list[str] = field(default_factory=list)  # reports the pass could not account (e.g. --now too early)
    results: list[str] = field(default_factory=list)


def _key(obj: JSON) -> str:
    return f"{obj['metadata'].get('namespace')}/{obj['metadata']['name']}"


def _validate(model: type[CostProfile] | type[UsageReport], obj: JSON, summary: PassSummary) -> Any:
    result = validate(model.__name__, model, obj)
    if isinstance(result, ObjectProblem):
        summary.problems.append(str(result))
        return None
    return result


def run_pass(client: KubeClient, opts: PassOptions, progress: Callable[[int, int], None] | None = None) -> PassSummary:
    summary = PassSummary()
    profile_objs = list_objects(client, COST_PROFILES, opts.namespace)
    report_objs = list_objects(client, USAGE_REPORTS, opts.namespace)
    view = discovery.observe(client)
    pods, pod_problems = discovery.inference_pods(view)
    summary.problems += pod_problems

    profiles: dict[tuple[str, str], tuple[JSON, CostProfile]] = {}
    exporters: dict[tuple[str, str], list[discovery.ExporterPod]] = {}
    nodes_of: dict[tuple[str, str], list[str]] = {}
    for obj in profile_objs:
        cp = _validate(CostProfile, obj, summary)
        if cp is None:
            continue
        key = (cp.metadata.namespace or "", cp.metadata.name)
        profiles[key] = (obj, cp)
        nodes_of[key] = discovery.profile_nodes(view, cp.spec)
        exporters[key] = discovery.exporter_pods(view, cp.spec, nodes_of[key])

    reports: list[tuple[JSON, UsageReport, list[discovery.InferencePod]]] = []
    for obj in report_objs:
        ur = _validate(UsageReport, obj, summary)
        if ur is None:
            continue
        ref = (ur.metadata.namespace or "", ur.spec.cost_profile_ref)
        scope = _in_scope(
            ur, pods, set(nodes_of[ref]) if ref in profiles and profiles[ref][1].spec.node_selector else None
        )
        reports.append((obj, ur, scope))

    endpoints = [e.endpoint for key in profiles for e in exporters[key]]
    endpoints += [p.endpoint for _, _, scope in reports for p in scope]
    scraped = scrape_all(
        client,
        endpoints,
        concurrency=opts.concurrency,
        timeout=opts.scrape_timeout,
        max_bytes=opts.max_bytes,
        progress=progress,
    )
    summary.endpoints = len(scraped)
    summary.failed_endpoints = [
        f"{r.endpoint.namespace}/{r.endpoint.pod}:{r.endpoint.port}: {r.error}" for r in scraped.values() if not r.ok
    ]

    outcomes: dict[tuple[str, str], DcgmOutcome] = {}
    for key, (obj, cp) in profiles.items():
        outcome = _dcgm_outcome(exporters[key], nodes_of[key], scraped, summary)
        outcomes[key] = outcome
        _write_profile(client, obj, cp, outcome, opts, summary)

    for obj, ur, scope in reports:
        ref = (ur.metadata.namespace or "", ur.spec.cost_profile_ref)
        if ref not in profiles:
            summary.problems.append(
                f"UsageReport {_key(obj)}: spec.costProfileRef: CostProfile {ref[0]}/{ref[1]} not found"
            )
            continue
        observations, failures = _observe_pods(scope, scraped, outcomes[ref])
        _write_report(
            client, obj, ur, profiles[ref][1], observations, outcomes[ref].gpus, failures, view.pod_uids, opts, summary
        )
    summary.profiles, summary.reports = len(profiles), len(reports)
    # §3 step 4, from the reports as just written
    reconcile_budgets(client, BudgetPass(opts.now, opts.namespace, opts.dry_run, summary.results, summary.problems))
    return summary


def _in_scope(
    ur: UsageReport, pods: list[discovery.InferencePod], nodes: set[str] | None
) -> list[discovery.InferencePod]:
    namespaces = set(ur.spec.namespaces)
    return [p for p in pods if (not namespaces or p.namespace in namespaces) and (nodes is None or p.node in nodes)]


def _dcgm_outcome(
    exporters: list[discovery.ExporterPod], nodes: list[str], scraped: dict[Any, ScrapeResult], summary: PassSummary
) -> DcgmOutcome:
    failed: list[str] = []
    gpus: dict[str, GpuEnergy] = {}
    models: dict[str, str] = {}
    owners: Counter[tuple[str, str]] = Counter()
    for exp in exporters:
        result = scraped[exp.endpoint]
        if not result.ok or result.text is None:
            failed.append(f"{exp.namespace}/{exp.name}: {result.error}")
            continue
        try:
            readings = extract_gpus(result.text)
        except MetricsParseError as exc:
            if _has_dcgm_samples(result.text):
                failed.append(f"{exp.namespace}/{exp.name}: {exc}")
                continue
            readings = []  # it answered, with no GPU readings at all (DCGMNoReadings)
        for r in readings:
            power = None if r.power_watts is None else Decimal(repr(r.power_watts))
            # The exporter pod's node is authoritative, whatever its Hostname label says.
            gpus[r.uuid] = GpuEnergy(r.uuid, exp.node, r.energy_mj, power)
            if r.model_name:
                models[r.uuid] = r.model_name
            if r.pod and r.namespace:
                owners[(r.namespace, r.pod)] += 1
    return DcgmOutcome(nodes, len(exporters), failed, list(gpus.values()), models, dict(owners))


def _has_dcgm_samples(text: str) -> bool:
    return any(line.startswith("DCGM_FI_") for line in text.splitlines())


def _observe_pods(
    scope: list[discovery.InferencePod], scraped: dict[Any, ScrapeResult], dcgm: DcgmOutcome
) -> tuple[list[PodObservation], list[str]]:
    observations: list[PodObservation] = []
    failures: list[str] = []
    for pod in scope:
        result = scraped[pod.endpoint]
        series: dict[str, TokenCounter] | None = None
        if result.ok and result.text is not None:
            try:
                counters = extract_tokens(result.text, pod.backend, default_model=pod.model).counters
                series = {k: TokenCounter(c.model, c.input, c.output) for k, c in counters.items()}
            except MetricsParseError as exc:
                failures.append(f"{pod.namespace}/{pod.name}: {exc}")
        else:
            failures.append(f"{pod.namespace}/{pod.name}: {result.error}")
        gpus = dcgm.owners.get((pod.namespace, pod.name)) or pod.gpu_limit
        observations.append(PodObservation(pod.uid, pod.namespace, pod.name, pod.model, pod.started, gpus, series))
    return observations, failures


def _write_profile(
    client: KubeClient, obj: JSON, cp: CostProfile, dcgm: DcgmOutcome, opts: PassOptions, summary: PassSummary
) -> None:
    for _ in range(MAX_WRITE_ATTEMPTS):
        status = profile_status(cp.spec, cp.status, dcgm, opts.now)
        try:
            if not opts.dry_run:
                replace_status(client, COST_PROFILES, obj, status)
        except ConflictError:
            obj = get_object(client, COST_PROFILES, cp.metadata.namespace or "", cp.metadata.name)
            cp = CostProfile.model_validate(obj)
            continue
        summary.results.append(
            f"costprofile {_key(obj)}: ${status.hourly_cost_usd}/h, {status.current_power_draw_watts:.0f} W "
            f"({status.power_source})"
        )
        return
    summary.problems.append(f"CostProfile {_key(obj)}: status write kept conflicting; will retry next pass")


def _write_report(
    client: KubeClient,
    obj: JSON,
    ur: UsageReport,
    profile: CostProfile,
    pods: list[PodObservation],
    gpus: list[GpuEnergy],
    failures: list[str],
    existing_pods: frozenset[str],
    opts: PassOptions,
    summary: PassSummary,
) -> None:
    for _ in range(MAX_WRITE_ATTEMPTS):
        try:
            outcome = advance(ur.spec, ur.status, profile.spec, opts.now, pods, gpus, opts.catalog, existing_pods)
        except InferCostError as exc:
            summary.problems.append(f"UsageReport {_key(obj)}: {exc}")
            if isinstance(exc, CheckpointAheadError):
                summary.refused.append(_key(obj))
            return
        status = outcome.status
        if failures:
            message = f"{len(failures)} endpoint(s) failed: " + "; ".join(failures)[:900]
            scrape_state = ("False", "ScrapeFailed", message)
        else:
            scrape_state = ("True", "AllEndpointsScraped", f"{len(pods)} inference pod(s) scraped")
        status.conditions = set_condition(status.conditions, "ScrapeHealthy", *scrape_state, opts.now)
        if outcome.oversubscribed:
            claimed = sum(p.gpus for p in pods)
            message = (
                f"pods claim {claimed} GPUs, the profile has {profile.spec.hardware.gpu_count}: shares of {claimed}"
            )
            status.conditions = set_condition(
                status.conditions, "GPUsOversubscribed", "True", "Oversubscribed", message, opts.now
            )
            summary.problems.append(f"UsageReport {_key(obj)}: {message}")
        elif any(c.type == "GPUsOversubscribed" for c in status.conditions):
            status.conditions = set_condition(
                status.conditions, "GPUsOversubscribed", "False", "WithinPool", "GPU claims fit the pool", opts.now
            )
        ready = (
            "baseline taken; accounting starts now" if outcome.baseline else f"accounted up to {opts.now.isoformat()}"
        )
        status.conditions = set_condition(status.conditions, "Ready", "True", "Accounted", ready, opts.now)
        status.last_updated = opts.now
        if opts.dry_run:
            _record(summary, obj, outcome.accrued_usd, outcome.tokens, outcome.baseline)
            return
        try:
            replace_status(client, USAGE_REPORTS, obj, status)
        except ConflictError:
            # Someone else wrote first: re-read and recompute from their checkpoint.
            obj = get_object(client, USAGE_REPORTS, ur.metadata.namespace or "", ur.metadata.name)
            ur = UsageReport.model_validate(obj)
            if ur.status.checkpoint is not None and ur.status.checkpoint.time >= opts.now:
                summary.skipped.append(f"usagereport {_key(obj)}: another reconciler already accounted this instant")
                return
            continue
        _record(summary, obj, outcome.accrued_usd, outcome.tokens, outcome.baseline)
        return
    summary.problems.append(f"UsageReport {_key(obj)}: status write kept conflicting; will retry next pass")


def _record(summary: PassSummary, obj: JSON, accrued: Decimal, tokens: int, baseline: bool) -> None:
    summary.accrued_usd += accrued
    summary.tokens += tokens
    what = "baseline taken" if baseline else f"+${accrued:f}, +{tokens:,} tokens"
    summary.results.append(f"usagereport {_key(obj)}: {what}")
