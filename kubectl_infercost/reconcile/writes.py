"""Status writes of one pass, with optimistic concurrency; a Warning Event only after a write wins.

Any failure of one object's arithmetic becomes Ready=False on that object: the pass goes on.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from ..core.accounting import PassOutcome, advance
from ..core.conditions import set_condition
from ..core.cost import GpuEnergy
from ..core.deltas import PodObservation
from ..core.profile import DcgmOutcome, profile_status
from ..core.validity import Problem, report_problem
from ..errors import CheckpointAheadError, ConflictError, InvalidDataError, NotFoundError
from ..kube.client import JSON, KubeClient
from ..kube.objects import InexactNumberError, get_object, replace_status
from ..kube.resources import COST_PROFILES, USAGE_REPORTS, Resource
from ..models import CostProfile, CostProfileStatus, UsageReport, UsageReportStatus
from .alerts import emit_warnings, mark_not_ready
from .options import PassOptions, PassSummary, key_of

MAX_WRITE_ATTEMPTS = 6
# Objects written at once: the API server's handling of one status (a 1,000-pod checkpoint is 0.5 MB)
# overlaps the computing and encoding of the next.
WRITE_CONCURRENCY = 4
# What one object's math can raise (overflow, a value the schema allows but Decimal cannot use).
ARITHMETIC_ERRORS = (ArithmeticError, ValueError, OverflowError)


Item = TypeVar("Item")
Result = TypeVar("Result")


def each_object(
    items: Sequence[Item],
    work: Callable[[Item, PassSummary], Result],
    summary: PassSummary,
    concurrency: int = WRITE_CONCURRENCY,
) -> list[Result]:
    """``work(item, its own summary)`` for every item, ``concurrency`` at a time: the results, and the
    summaries merged into ``summary``, in the items' order, as one after the other would give them.

    Each object is read-modify-written on its own resourceVersion, so the writes of different objects
    may overlap. A failure is raised in the items' order, once the items already begun have ended;
    items not begun by then are not.
    """
    if concurrency <= 1 or len(items) <= 1:
        return [work(item, summary) for item in items]
    context = decimal.getcontext()  # a new thread would start from decimal's default instead

    def run(item: Item) -> tuple[Result, PassSummary]:
        decimal.setcontext(context.copy())
        part = PassSummary(namespace=summary.namespace)
        return work(item, part), part

    results: list[Result] = []
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items)), thread_name_prefix="write") as pool:
        futures = [pool.submit(run, item) for item in items]
        try:
            for future in futures:
                result, part = future.result()
                summary.absorb(part)
                results.append(result)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return results


def _put(
    client: KubeClient,
    resource: Resource,
    obj: JSON,
    status: CostProfileStatus | UsageReportStatus,
    unchanged: CostProfileStatus | UsageReportStatus,
    opts: PassOptions,
    summary: PassSummary,
) -> tuple[JSON, bool]:
    """Write ``status``; if a figure would be rounded by the API server, write ``unchanged`` with Ready=False."""
    try:
        return replace_status(client, resource, obj, status), True
    except InexactNumberError as exc:
        kept = unchanged.model_copy(deep=True)
        kept.conditions = set_condition(kept.conditions, "Ready", "False", "OutOfRange", str(exc), opts.now)
        summary.not_ready.append(f"{resource.kind.lower()} {key_of(obj)}: OutOfRange: {exc}")
        return replace_status(client, resource, obj, kept), False


def _cannot_compute(what: str, exc: Exception) -> Problem:
    return Problem("CannotCompute", f"{what}: {type(exc).__name__}: {exc or 'the figures are out of range'}")


def write_profile(
    client: KubeClient,
    obj: JSON,
    cp: CostProfile,
    dcgm: DcgmOutcome,
    shared: tuple[str, str, str],
    opts: PassOptions,
    summary: PassSummary,
) -> bool:
    """Write the profile's status; False when its figures could not be computed."""
    for _ in range(MAX_WRITE_ATTEMPTS):
        ok = True
        try:
            status = profile_status(cp.spec, cp.status, dcgm, opts.now)
        except ARITHMETIC_ERRORS as exc:
            problem = _cannot_compute("spec.hardware and spec.electricity", exc)
            status = cp.status.model_copy(deep=True)
            status.conditions = set_condition(
                status.conditions, "Ready", "False", problem.reason, problem.message, opts.now
            )
            summary.not_ready.append(f"costprofile {key_of(obj)}: {problem.reason}: {problem.message}")
            summary.problems.append(f"CostProfile {key_of(obj)}: {problem.message}")
            ok = False
        status.conditions = set_condition(status.conditions, "NodesShared", *shared, opts.now)
        if shared[0] == "True":
            summary.problems.append(f"CostProfile {key_of(obj)}: {shared[2]}")
        if not opts.dry_run:
            try:
                written, exact = _put(client, COST_PROFILES, obj, status, cp.status, opts, summary)
                ok = ok and exact
            except ConflictError:
                try:
                    obj = get_object(client, COST_PROFILES, cp.metadata.namespace or "", cp.metadata.name)
                except NotFoundError:
                    return _deleted(summary, "costprofile", obj)
                cp = CostProfile.model_validate(obj)
                continue
            except NotFoundError:
                # Deleted since the pass listed it: it was valid then, so this pass may still use it.
                return _deleted(summary, "costprofile", obj)
            emit_warnings(client, written, _conditions(obj), opts.now, summary.problems)
        if ok:
            summary.results.append(
                f"costprofile {key_of(obj)}: ${status.hourly_cost_usd}/h, {status.current_power_draw_watts:.0f} W "
                f"({status.power_source})"
            )
        return ok
    summary.problems.append(f"CostProfile {key_of(obj)}: status write kept conflicting; will retry next pass")
    return True


def _deleted(summary: PassSummary, kind: str, obj: JSON) -> bool:
    """An object deleted between the pass's list and its status write: nothing to write, not an error."""
    summary.skipped.append(f"{kind} {key_of(obj)}: deleted during the pass; nothing written")
    return True


def _conditions(obj: JSON) -> list[JSON]:
    return list((obj.get("status") or {}).get("conditions") or [])


@dataclass
class ReportInputs:
    profile: CostProfile | None  # None: the reference cannot be used (``missing`` says why)
    pods: list[PodObservation]
    gpus: list[GpuEnergy]
    failures: list[str]
    existing_pods: frozenset[str]
    missing: Problem | None = None


def _next_status(
    ur: UsageReport, inputs: ReportInputs, opts: PassOptions
) -> tuple[UsageReportStatus, PassOutcome | None, Problem | None]:
    """The status to write, the accounting outcome (None if not accounted) and why it is not Ready."""
    problem = inputs.missing or report_problem(ur.spec, ur.status, opts.now, opts.replay)
    if problem is not None or inputs.profile is None:
        return ur.status.model_copy(deep=True), None, problem
    repaired = ur.status.history_repaired  # reading it merged duplicated periods: say so once
    try:
        pods, gpus, existing = inputs.pods, inputs.gpus, inputs.existing_pods
        # a new status: ur.status is not modified
        outcome = advance(ur.spec, ur.status, inputs.profile.spec, opts.now, pods, gpus, opts.catalog, existing)
    except CheckpointAheadError:
        raise
    except (*ARITHMETIC_ERRORS, InvalidDataError) as exc:
        ref = f"CostProfile {ur.metadata.namespace}/{ur.spec.cost_profile_ref}"
        return ur.status.model_copy(deep=True), None, _cannot_compute(f"accounting with {ref}", exc)
    return outcome.status, outcome, None if repaired is None else Problem("HistoryRepaired", repaired)


def write_report(
    client: KubeClient, obj: JSON, ur: UsageReport, inputs: ReportInputs, opts: PassOptions, summary: PassSummary
) -> None:
    try:
        _write_report(client, obj, ur, inputs, opts, summary)
    except NotFoundError:
        _deleted(summary, "usagereport", obj)


def _write_report(
    client: KubeClient, obj: JSON, ur: UsageReport, inputs: ReportInputs, opts: PassOptions, summary: PassSummary
) -> None:
    for _ in range(MAX_WRITE_ATTEMPTS):
        try:
            status, outcome, problem = _next_status(ur, inputs, opts)
        except CheckpointAheadError as exc:
            summary.problems.append(f"UsageReport {key_of(obj)}: {exc}")
            summary.refused.append(key_of(obj))
            return
        if outcome is not None:
            _accounted_conditions(status, outcome, inputs, opts, summary, key_of(obj))
        if problem is not None:
            status.conditions = set_condition(
                status.conditions, "Ready", "False", problem.reason, problem.message, opts.now
            )
            summary.not_ready.append(f"usagereport {key_of(obj)}: {problem.reason}: {problem.message}")
            summary.problems.append(f"UsageReport {key_of(obj)}: {problem.message}")
            if outcome is None:
                # Not accounted: the status stays exactly as stored, only Ready changes.
                if not opts.dry_run:
                    mark_not_ready(
                        client, USAGE_REPORTS, obj, problem.reason, problem.message, opts.now, summary.problems
                    )
                return
        status.last_updated = opts.now
        if opts.dry_run:
            _record(summary, obj, outcome)
            return
        try:
            written, exact = _put(client, USAGE_REPORTS, obj, status, ur.status, opts, summary)
            if not exact:
                outcome = None
        except ConflictError:
            # Someone else wrote first: re-read and recompute from their checkpoint.
            obj = get_object(client, USAGE_REPORTS, ur.metadata.namespace or "", ur.metadata.name)
            ur = UsageReport.model_validate(obj)
            if outcome is not None and ur.status.checkpoint is not None and ur.status.checkpoint.time >= opts.now:
                summary.skipped.append(f"usagereport {key_of(obj)}: another reconciler already accounted this instant")
                return
            continue
        emit_warnings(client, written, _conditions(obj), opts.now, summary.problems)
        _record(summary, obj, outcome)
        return
    summary.problems.append(f"UsageReport {key_of(obj)}: status write kept conflicting; will retry next pass")


def _accounted_conditions(
    status: UsageReportStatus,
    outcome: PassOutcome,
    inputs: ReportInputs,
    opts: PassOptions,
    summary: PassSummary,
    key: str,
) -> None:
    if inputs.failures:
        message = f"{len(inputs.failures)} endpoint(s) failed: " + "; ".join(inputs.failures)[:900]
        scrape_state = ("False", "ScrapeFailed", message)
    else:
        scrape_state = ("True", "AllEndpointsScraped", f"{len(inputs.pods)} inference pod(s) scraped")
    status.conditions = set_condition(status.conditions, "ScrapeHealthy", *scrape_state, opts.now)
    if outcome.oversubscribed:
        assert inputs.profile is not None
        claimed = sum(p.gpus for p in inputs.pods)
        message = (
            f"pods claim {claimed} GPUs, the profile has {inputs.profile.spec.hardware.gpu_count}: shares of {claimed}"
        )
        status.conditions = set_condition(
            status.conditions, "GPUsOversubscribed", "True", "Oversubscribed", message, opts.now
        )
        summary.problems.append(f"UsageReport {key}: {message}")
    elif any(c.type == "GPUsOversubscribed" for c in status.conditions):
        status.conditions = set_condition(
            status.conditions, "GPUsOversubscribed", "False", "WithinPool", "GPU claims fit the pool", opts.now
        )
    ready = "baseline taken; accounting starts now" if outcome.baseline else f"accounted up to {opts.now.isoformat()}"
    status.conditions = set_condition(status.conditions, "Ready", "True", "Accounted", ready, opts.now)


def _record(summary: PassSummary, obj: JSON, outcome: PassOutcome | None) -> None:
    if outcome is None:
        return
    accrued: Decimal = outcome.accrued_usd
    summary.accrued_usd += accrued
    summary.tokens += outcome.tokens
    what = "baseline taken" if outcome.baseline else f"+${accrued:f}, +{outcome.tokens:,} tokens"
    summary.results.append(f"usagereport {key_of(obj)}: {what}")
