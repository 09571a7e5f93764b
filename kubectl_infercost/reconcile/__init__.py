"""One reconcile pass (docs/architecture.md#one-reconcile-pass): adapters in, the pure core, adapters out.

Discovery, scrapes and parsing happen once per pass and are shared by every profile and
report. One bad object or one dead endpoint is recorded and never stops the pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ..budgets import BudgetPass, reconcile_budgets
from ..core.profile import Claim, DcgmOutcome, assign_nodes, shared_nodes_condition
from ..core.validity import Problem
from ..kube import access, crds, discovery
from ..kube.client import JSON, KubeClient
from ..kube.read import ObjectProblem, list_raw, validate
from ..kube.resources import COST_PROFILES, TOKEN_BUDGETS, USAGE_REPORTS, Resource
from ..kube.scrape import scrape_all
from ..models import CostProfile, UsageReport
from .alerts import mark_not_ready
from .observe import Parsed, dcgm_outcome, observe_pods, parse_all
from .options import PassOptions, PassSummary, key_of
from .promsource import observe_prometheus
from .writes import ReportInputs, each_object, write_profile, write_report

__all__ = ["PassOptions", "PassSummary", "run_pass"]

ProfileKey = tuple[str, str]


def _validate(
    client: KubeClient, model: type[CostProfile] | type[UsageReport], obj: JSON, opts: PassOptions, summary: PassSummary
) -> Any:
    """The object as our model, or None after marking it Ready=False with the field that is wrong."""
    result = validate(model.__name__, model, obj)
    if not isinstance(result, ObjectProblem):
        return result
    message = f"{result.field}: {result.message}"
    reason = "InvalidStatus" if result.field.startswith("status") else "InvalidSpec"
    summary.problems.append(str(result))
    summary.not_ready.append(f"{model.__name__.lower()} {key_of(obj)}: {reason}: {message}")
    if not opts.dry_run:
        resource = COST_PROFILES if model is CostProfile else USAGE_REPORTS
        mark_not_ready(client, resource, obj, reason, message, opts.now, summary.problems)
    return None


def _from_prometheus(
    opts: PassOptions,
    reports: list[tuple[JSON, UsageReport, list[discovery.InferencePod]]],
    inference: list[discovery.InferencePod],
    exporters: list[discovery.ExporterPod],
    progress: Callable[[int, int], None] | None,
    summary: PassSummary,
) -> Parsed:
    """One range query per family, reaching back to the oldest checkpoint (plus the lookback)."""
    assert opts.prometheus is not None
    since = [ur.status.checkpoint.time for _, ur, _ in reports if ur.status and ur.status.checkpoint]
    window = max([(opts.now - t).total_seconds() for t in since] + [0.0]) + opts.prometheus_lookback
    parsed, samples, family_failures = observe_prometheus(
        opts.prometheus, inference, exporters, opts.now, window, progress, since
    )
    parsed.samples = samples
    summary.endpoints = len({p.endpoint for p in inference} | {e.endpoint for e in exporters})
    summary.failed_endpoints += family_failures
    return parsed


def _profile_problem(
    ref: ProfileKey, invalid: set[ProfileKey], profiles: Mapping[ProfileKey, object], usable: set[ProfileKey]
) -> Problem | None:
    """Why a report's CostProfile cannot be used this pass, if it cannot."""
    where = f"spec.costProfileRef: CostProfile {ref[0]}/{ref[1]}"
    if ref in invalid:
        return Problem("CostProfileNotReady", f"{where} is not valid")
    if ref not in profiles:
        return Problem("CostProfileNotFound", f"{where} not found")
    if ref not in usable:
        return Problem("CostProfileNotReady", f"{where} is not Ready")
    return None


def _may_write_status(client: KubeClient, listed: dict[Resource, list[JSON]]) -> None:
    """Before the first write: every status this pass may write is writable, or the pass refuses whole."""
    for resource, objs in listed.items():
        access.require(client, "update", resource, (o["metadata"].get("namespace") or "" for o in objs), "status")


def run_pass(client: KubeClient, opts: PassOptions, progress: Callable[[int, int], None] | None = None) -> PassSummary:
    summary = PassSummary(namespace=opts.namespace)
    crds.ensure_ours(client)
    profile_objs = list_raw(client, COST_PROFILES, opts.namespace)
    report_objs = list_raw(client, USAGE_REPORTS, opts.namespace)
    budget_objs = list_raw(client, TOKEN_BUDGETS, opts.namespace)
    view = discovery.observe(client)
    if not opts.dry_run:
        _may_write_status(client, {COST_PROFILES: profile_objs, USAGE_REPORTS: report_objs, TOKEN_BUDGETS: budget_objs})
    pods, pod_problems = discovery.inference_pods(view)
    summary.problems += pod_problems

    profiles: dict[ProfileKey, tuple[JSON, CostProfile]] = {}
    invalid: set[ProfileKey] = set()
    for obj in profile_objs:
        cp = _validate(client, CostProfile, obj, opts, summary)
        if cp is not None:
            profiles[(cp.metadata.namespace or "", cp.metadata.name)] = (obj, cp)
        else:
            invalid.add((obj["metadata"].get("namespace") or "", obj["metadata"]["name"]))
    # A node selected by several profiles is accounted by one of them only (the oldest).
    claims = [
        Claim(key, cp.metadata.creation_timestamp, discovery.profile_nodes(view, cp.spec))
        for key, (_, cp) in profiles.items()
        if cp.spec.node_selector
    ]
    assignment = assign_nodes(claims)
    nodes_of = {
        key: assignment.nodes[key] if key in assignment.nodes else discovery.profile_nodes(view, cp.spec)
        for key, (_, cp) in profiles.items()
    }
    exporters = {key: discovery.exporter_pods(view, cp.spec, nodes_of[key]) for key, (_, cp) in profiles.items()}
    namespace_labels = (
        discovery.namespace_labels(client) if any(cp.spec.namespace_selector for _, cp in profiles.values()) else {}
    )

    reports: list[tuple[JSON, UsageReport, list[discovery.InferencePod]]] = []
    for obj in report_objs:
        ur = _validate(client, UsageReport, obj, opts, summary)
        if ur is None:
            continue
        ref = (ur.metadata.namespace or "", ur.spec.cost_profile_ref)
        profile = profiles.get(ref)
        scope = discovery.in_scope(
            pods,
            ur.spec.namespaces,
            set(nodes_of[ref]) if profile is not None and profile[1].spec.node_selector else None,
            profile[1].spec.namespace_selector if profile is not None else {},
            namespace_labels,
        )
        reports.append((obj, ur, scope))

    in_scope = [p for _, _, scope in reports for p in scope]
    all_exporters = [e for v in exporters.values() for e in v]
    reading_began = datetime.now(UTC)
    if opts.prometheus is not None:
        parsed = _from_prometheus(opts, reports, in_scope, all_exporters, progress, summary)
    else:
        scraped = scrape_all(
            client,
            [e.endpoint for e in all_exporters] + [p.endpoint for p in in_scope],
            concurrency=opts.concurrency,
            timeout=opts.scrape_timeout,
            max_bytes=opts.max_bytes,
            progress=progress,
        )
        parsed = parse_all(in_scope, all_exporters, scraped)
        summary.endpoints = len(scraped)
    summary.failed_endpoints += parsed.failure_lines(parsed.failures)
    parsed.read_window = (reading_began, datetime.now(UTC))

    def profile_pass(key: ProfileKey, part: PassSummary) -> tuple[DcgmOutcome, bool]:
        obj, cp = profiles[key]
        outcome = dcgm_outcome(exporters[key], nodes_of[key], parsed)
        shared = shared_nodes_condition(key, assignment.shared.get(key, []))
        return outcome, write_profile(client, obj, cp, outcome, shared, opts, part)

    keys = list(profiles)
    written = each_object(keys, profile_pass, summary)
    outcomes = {key: outcome for key, (outcome, _) in zip(keys, written, strict=True)}
    usable = {key for key, (_, ok) in zip(keys, written, strict=True) if ok}

    def report_pass(report: tuple[JSON, UsageReport, list[discovery.InferencePod]], part: PassSummary) -> None:
        obj, ur, scope = report
        ref = (ur.metadata.namespace or "", ur.spec.cost_profile_ref)
        inputs = ReportInputs(
            profile=profiles[ref][1] if ref in profiles else None,
            pods=observe_pods(scope, parsed, outcomes[ref]) if ref in outcomes else [],
            gpus=outcomes[ref].gpus if ref in outcomes else [],
            failures=parsed.failure_lines(p.endpoint for p in scope),
            existing_pods=view.pod_uids,
            missing=_profile_problem(ref, invalid, profiles, usable),
        )
        write_report(client, obj, ur, inputs, opts, part)

    each_object(reports, report_pass, summary)
    summary.profiles, summary.reports = len(profiles), len(reports)
    # Step 4: the budgets, from the reports as just written
    reconcile_budgets(
        client, BudgetPass(opts.now, opts.namespace, opts.dry_run, summary.results, summary.problems, budget_objs)
    )
    if not report_objs and opts.namespace:
        summary.elsewhere = discovery.reports_elsewhere(client)
    return summary
