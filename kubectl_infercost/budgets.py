"""Step 4 of a reconcile pass: every TokenBudget's spend, status, Events and PrometheusRule (docs/budgets.md).

Runs after the pass has written its UsageReports and reads them again, so the spend is
the one just accounted (by this reconciler or a concurrent one). The status is written
with optimistic concurrency; the Event for a state change is emitted only by the writer
whose status write won, comparing the state in the object it overwrote with the new one,
so concurrent reconcilers emit each transition once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .core import alertrules
from .core.budget import Evaluation, budget_status, describe, evaluate, state_of, transition
from .errors import ApiError, ConflictError, ForbiddenError, InferCostError, NotFoundError
from .kube.client import JSON, KubeClient
from .kube.events import emit_event
from .kube.objects import get_object, replace_status
from .kube.read import ObjectProblem, list_valid, validate, validate_all
from .kube.resources import PROMETHEUS_RULES, TOKEN_BUDGETS, USAGE_REPORTS
from .models import TokenBudget, UsageReport

MAX_WRITE_ATTEMPTS = 6
RULE_CONDITION = "PrometheusRuleReady"
NO_RULE_CRD = (
    RULE_CONDITION,
    "False",
    "CRDNotInstalled",
    "the PrometheusRule CRD (monitoring.coreos.com/v1) is not installed: no alert rule written "
    "(install prometheus-operator's CRDs; the next reconcile writes it)",
)
RULE_GROUP_PATH = f"/apis/{PROMETHEUS_RULES.group}/{PROMETHEUS_RULES.version}"


def _key(obj: JSON) -> str:
    return f"{obj['metadata'].get('namespace')}/{obj['metadata']['name']}"


@dataclass
class BudgetPass:
    """What the step needs from the pass; it appends to the pass summary's lists."""

    now: datetime
    namespace: str | None  # None: all namespaces
    dry_run: bool
    results: list[str]
    problems: list[str]
    objects: list[JSON] | None = None  # the TokenBudgets as the pass listed them (None: list them now)


@dataclass
class _Pass:
    client: KubeClient
    run: BudgetPass
    reports: list[UsageReport] = field(default_factory=list)
    rules_installed: bool = False


def reconcile_budgets(client: KubeClient, run: BudgetPass) -> None:
    if run.objects is None:
        budgets = list_valid(client, TOKEN_BUDGETS, TokenBudget, run.namespace)
    else:
        budgets = validate_all(TOKEN_BUDGETS, TokenBudget, run.objects)
    run.problems.extend(str(p) for p in budgets.problems)
    if not budgets.items:
        return
    step = _Pass(client, run)
    step.reports = _all_reports(client, run)
    step.rules_installed = _rules_installed(client)
    for obj, budget in budgets.items:
        _reconcile_one(step, obj, budget)


def _all_reports(client: KubeClient, run: BudgetPass) -> list[UsageReport]:
    """Reports in every namespace count towards a budget (a pool's reports often live with the pool)."""
    try:
        listing = list_valid(client, USAGE_REPORTS, UsageReport, None)
    except ForbiddenError as exc:
        if run.namespace is None:
            raise
        run.problems.append(f"budgets: spend from namespace {run.namespace}'s UsageReports only: {exc}")
        listing = list_valid(client, USAGE_REPORTS, UsageReport, run.namespace)
    return listing.models  # invalid reports were already reported by the report step


def _rules_installed(client: KubeClient) -> bool:
    try:
        listing: JSON = client.get(RULE_GROUP_PATH, what="discover monitoring.coreos.com/v1")
    except NotFoundError:
        return False
    return any(r.get("name") == PROMETHEUS_RULES.plural for r in listing.get("resources") or [])


def _reconcile_one(step: _Pass, obj: JSON, budget: TokenBudget) -> None:
    run = step.run
    extra: list[tuple[str, str, str, str]] = []
    rule_action = ""
    if not run.dry_run:
        if step.rules_installed:
            rule_action, condition = _ensure_rule(step.client, budget)
        else:
            rule_action, condition = "PrometheusRule CRD not installed: no rule", NO_RULE_CRD
        extra.append(condition)
        if condition[1] == "False" and condition != NO_RULE_CRD:
            run.problems.append(f"TokenBudget {_key(obj)}: {condition[3]}")
    for _ in range(MAX_WRITE_ATTEMPTS):
        try:
            ev = evaluate(budget, step.reports, run.now)
        except InferCostError as exc:  # e.g. a source report's unknown time zone
            run.problems.append(f"TokenBudget {_key(obj)}: {exc}")
            return
        status = budget_status(budget, ev, run.now, extra)
        if run.dry_run:
            _record(run, obj, ev, "", rule_action)
            return
        try:
            written = replace_status(step.client, TOKEN_BUDGETS, obj, status)
        except ConflictError:
            # Someone else wrote first: re-read, recompute against the state they recorded.
            obj = get_object(step.client, TOKEN_BUDGETS, budget.metadata.namespace or "", budget.metadata.name)
            fresh = validate(TOKEN_BUDGETS.kind, TokenBudget, obj)
            if isinstance(fresh, ObjectProblem):
                run.problems.append(str(fresh))
                return
            budget = fresh
            continue
        _record(run, obj, ev, _announce(step.client, written, budget, ev, run.now, run), rule_action)
        return
    run.problems.append(f"TokenBudget {_key(obj)}: status write kept conflicting; will retry next pass")


def _announce(
    client: KubeClient, written: JSON, before: TokenBudget, ev: Evaluation, now: datetime, run: BudgetPass
) -> str:
    """One Event when the state changed from the one in the object this write replaced."""
    change = transition(state_of(before.status.conditions), ev.state)
    if change is None:
        return ""
    try:
        emit_event(client, written, type_=change.type, reason=change.reason, message=describe(ev), now=now)
    except ApiError as exc:
        run.problems.append(f"TokenBudget {_key(written)}: event {change.reason} not recorded: {exc}")
        return ""
    return change.reason


def _ensure_rule(client: KubeClient, budget: TokenBudget) -> tuple[str, tuple[str, str, str, str]]:
    """Create or update the budget's PrometheusRule when it differs; (action, condition)."""
    desired = alertrules.prometheus_rule(budget)
    name, namespace = desired["metadata"]["name"], budget.metadata.namespace or ""
    where = f"prometheusrule {namespace}/{name}"
    try:
        action = _write_if_changed(client, desired, namespace, where)
    except ForbiddenError as exc:
        return "", (RULE_CONDITION, "False", "Forbidden", str(exc))
    except NotFoundError:
        return "", NO_RULE_CRD  # removed during the pass
    except ApiError as exc:
        return "", (RULE_CONDITION, "False", "RuleRejected", str(exc))
    alerts = len(desired["spec"]["groups"][0]["rules"])
    return f"{where} {action}", (RULE_CONDITION, "True", "RuleWritten", f"{where}: {alerts} alert(s)")


def _write_if_changed(client: KubeClient, desired: JSON, namespace: str, where: str) -> str:
    path = PROMETHEUS_RULES.item(desired["metadata"]["name"], namespace)
    for _ in range(MAX_WRITE_ATTEMPTS):
        try:
            existing: JSON | None = client.get(path, what=where)
        except NotFoundError:
            existing = None
        try:
            if existing is None:
                client.request("POST", PROMETHEUS_RULES.collection(namespace), body=desired, what=f"create {where}")
                return "created"
            if not alertrules.needs_update(existing, desired):
                return "unchanged"
            body = dict(existing)
            body["spec"] = desired["spec"]
            meta = dict(existing["metadata"])
            meta["labels"] = {**(meta.get("labels") or {}), **desired["metadata"]["labels"]}
            meta["ownerReferences"] = desired["metadata"]["ownerReferences"]
            body["metadata"] = meta
            client.request("PUT", path, body=body, what=f"update {where}")
            return "updated"
        except ConflictError:
            continue  # created or changed concurrently: read it again
    raise ApiError(f"{where}: kept conflicting with another writer; will retry next pass")


def _record(run: BudgetPass, obj: JSON, ev: Evaluation, event: str, rule: str) -> None:
    share = "n/a" if ev.utilization is None else f"{ev.utilization.normalize():f}%"
    line = f"tokenbudget {_key(obj)}: ${ev.spend:,.2f} of ${ev.limit:,.2f} ({share}), {ev.state}"
    if event:
        line += f", event {event}"
    if rule:
        line += f", {rule}"
    run.results.append(line)
