"""``kubectl infercost report``: what the CRs say, as tables or exact JSON/YAML. Read-only (GET/LIST).

``report`` alone prints the overview (cost profiles, usage reports, top models, budgets); the
subcommands ``models``, ``namespaces``, ``compare``, ``history`` and ``budgets`` print one table each.
Keys and formats are documented in docs/report.md.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import UsageError
from .common import GlobalOptions, global_options, parse_instant

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..core.reportdata import Record
    from ..kube.client import KubeClient
    from ..kube.resources import Resource
    from ..output.tables import Table

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound="BaseModel")

OUTPUTS = ("table", "wide", "json", "yaml")
SCHEMA_VERSION = 1
STALE_CATALOG_DAYS = 180
_META_KEY = "infercost.report"


@dataclass
class ReportOptions:
    output: str = "table"
    sort_by: str | None = None
    pricing_file: str | None = None
    now: datetime | None = None
    top: int = 5


def _parse_now(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    return None if value is None else parse_instant(value)


_OPTIONS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "output": (
        ("-o", "--output"),
        {"type": click.Choice(OUTPUTS), "help": "Output format: table (default), wide, json or yaml."},
    ),
    "sort_by": (
        ("--sort-by",),
        {
            "metavar": "FIELD",
            "help": "Sort rows by a column (its JSON key or header); ascending, '-FIELD' for descending.",
        },
    ),
    "pricing_file": (
        ("--pricing-file",),
        {
            "metavar": "PATH",
            "help": "Cloud price catalog to use instead of ConfigMap infercost-pricing or the bundled one.",
        },
    ),
    "now": (
        ("--now",),
        {"metavar": "TIME", "callback": _parse_now, "help": "Reference time for the catalog age (default: now)."},
    ),
    "top": (("--top",), {"type": click.IntRange(min=0), "metavar": "N", "help": "Models in the overview (default 5)."}),
}


def report_options(*names: str) -> Callable[[F], F]:
    """Add report flags; values given on the group and on a subcommand merge (the subcommand wins)."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ctx = click.get_current_context()
            ropts: ReportOptions = ctx.meta.setdefault(_META_KEY, ReportOptions())
            for name in names:
                value = kwargs.pop(name, None)
                if value is not None:
                    setattr(ropts, name, value)
            return func(*args, **kwargs)

        for name in reversed(names):
            decls, attrs = _OPTIONS[name]
            wrapper = click.option(*decls, **attrs)(wrapper)
        return wrapper  # type: ignore[return-value]

    return decorate


def _contexts() -> tuple[GlobalOptions, ReportOptions]:
    ctx = click.get_current_context()
    return ctx.ensure_object(GlobalOptions), ctx.meta.setdefault(_META_KEY, ReportOptions())


# ---------------------------------------------------------------------------------------------- reading


@dataclass
class Scope:
    client: KubeClient
    namespace: str | None  # None: all namespaces
    home_namespace: str  # -n, else the context's namespace (where ConfigMap infercost-pricing is looked up)

    def list(self, resource: Resource, model: type[M]) -> list[M]:
        from ..kube.read import list_valid

        listing = list_valid(self.client, resource, model, self.namespace)
        for problem in listing.problems:
            click.echo(f"warning: skipping {problem}", err=True)
        return listing.models


def _scope(opts: GlobalOptions) -> Scope:
    config = opts.cluster_config()
    namespace = opts.target_namespace(config)
    return Scope(opts.client(config=config), namespace, namespace or config.namespace)


# ---------------------------------------------------------------------------------------------- writing


def _sort(sort_by: str | None, sections: list[tuple[Table, list[Record]]]) -> list[tuple[Table, list[Record]]]:
    if not sort_by:
        return sections
    from ..core.reportdata import sort_rows

    result, matched = [], False
    for table, rows in sections:
        spec = table.sort_spec(sort_by)
        if spec is not None:
            matched = True
            rows = sort_rows(rows, spec)
        result.append((table, rows))
    if not matched:
        allowed = list(dict.fromkeys(key for table, _ in sections for key in table.fields()))
        raise UsageError(f"--sort-by {sort_by!r}: unknown field; allowed: {', '.join(allowed)}")
    return result


def _no_resources(namespace: str | None) -> None:
    click.echo(f"No resources found in {namespace} namespace." if namespace else "No resources found", err=True)


def _emit(
    scope: Scope,
    ropts: ReportOptions,
    kind: str,
    sections: list[tuple[Table, list[Record]]],
    *,
    titled: bool,
    extra: dict[str, Any] | None = None,
    preface: str | None = None,
) -> None:
    """Sort, then write tables (table/wide) or one document (json/yaml) to stdout."""
    from ..output import structured, tables

    sections = _sort(ropts.sort_by, sections)
    empty = not any(rows for _, rows in sections)
    stream = sys.stdout
    if ropts.output in ("json", "yaml"):
        doc: dict[str, Any] = {"kind": kind, "schemaVersion": SCHEMA_VERSION, "namespace": scope.namespace}
        doc.update(extra or {})
        if titled:
            doc.update({table.name: rows for table, rows in sections})
        else:
            doc["items"] = sections[0][1]
        (structured.write_json if ropts.output == "json" else structured.write_yaml)(stream, doc)
        if empty:
            _no_resources(scope.namespace)
        return
    if empty:
        _no_resources(scope.namespace)
        return
    wide, all_ns = ropts.output == "wide", scope.namespace is None
    if preface:
        stream.write(preface + "\n")
    if titled:
        tables.write_sections(stream, sections, wide=wide, all_namespaces=all_ns)
    else:
        tables.write_table(stream, sections[0][0], sections[0][1], wide=wide, all_namespaces=all_ns)


def _reports(scope: Scope) -> list[Any]:
    from ..kube.resources import USAGE_REPORTS
    from ..models import UsageReport

    return scope.list(USAGE_REPORTS, UsageReport)


# ---------------------------------------------------------------------------------------------- commands


@click.group(invoke_without_command=True)
@report_options("output", "sort_by", "pricing_file", "now", "top")
@global_options
def report() -> None:
    """Costs, tokens, $/1M tokens, cloud equivalents and budgets, from the CRs' status.

    Without a subcommand: the overview (cost profiles, usage reports, top models, budgets).
    Read-only: needs only get/list on costprofiles, usagereports and tokenbudgets.
    """
    if click.get_current_context().invoked_subcommand is not None:
        return
    from ..core import reportdata as rd
    from ..kube.resources import COST_PROFILES, TOKEN_BUDGETS
    from ..models import CostProfile, TokenBudget
    from ..output import tables

    opts, ropts = _contexts()
    scope = _scope(opts)
    with scope.client:
        profiles = scope.list(COST_PROFILES, CostProfile)
        reports = _reports(scope)
        budgets = scope.list(TOKEN_BUDGETS, TokenBudget)
    sections = [
        (tables.PROFILES, rd.profile_rows(profiles)),
        (tables.REPORTS, rd.report_rows(reports)),
        (tables.TOP_MODELS, rd.top_model_rows(reports, ropts.top)),
        (tables.BUDGETS, rd.budget_rows(budgets)),
    ]
    _emit(scope, ropts, "InferCostReport", sections, titled=True)


def _report_table(kind: str, table_name: str, build: Callable[[list[Any]], list[Record]]) -> None:
    """The subcommands that read UsageReports only."""
    from ..output import tables

    opts, ropts = _contexts()
    scope = _scope(opts)
    with scope.client:
        reports = _reports(scope)
    table: Table = getattr(tables, table_name)
    _emit(scope, ropts, kind, [(table, build(reports))], titled=False)


@report.command("models")
@report_options("output", "sort_by")
@global_options
def models_cmd() -> None:
    """Cost and tokens per (namespace, model) in each report's current period, dearest first."""
    from ..core.reportdata import model_rows

    _report_table("ModelCostList", "MODELS", model_rows)


@report.command("namespaces")
@report_options("output", "sort_by")
@global_options
def namespaces_cmd() -> None:
    """Cost, tokens, $/1M tokens and share per namespace in each report's current period (chargeback)."""
    from ..core.reportdata import namespace_rows

    _report_table("NamespaceCostList", "NAMESPACES", namespace_rows)


@report.command("history")
@report_options("output", "sort_by")
@global_options
def history_cmd() -> None:
    """The closed periods of each report (status.history), newest first."""
    from ..core.reportdata import history_rows

    _report_table("PeriodHistoryList", "HISTORY", history_rows)


@report.command("budgets")
@report_options("output", "sort_by")
@global_options
def budgets_cmd() -> None:
    """TokenBudgets: month-to-date spend, limit, utilization and state."""
    from ..core.reportdata import budget_rows
    from ..kube.resources import TOKEN_BUDGETS
    from ..models import TokenBudget
    from ..output import tables

    opts, ropts = _contexts()
    scope = _scope(opts)
    with scope.client:
        budgets = scope.list(TOKEN_BUDGETS, TokenBudget)
    _emit(scope, ropts, "BudgetList", [(tables.BUDGETS, budget_rows(budgets))], titled=False)


@report.command("compare")
@report_options("output", "sort_by", "pricing_file", "now")
@global_options
def compare_cmd() -> None:
    """Each report's current period priced at cloud LLM APIs: cost, savings, %, break-even tokens/day.

    Prices: --pricing-file, else ConfigMap infercost-pricing (key cloud-pricing.yaml) in the
    namespace, else the catalog bundled with the plugin (its lastVerified date and age are shown).
    """
    from ..core import reportdata as rd
    from ..kube.resources import COST_PROFILES
    from ..models import CostProfile
    from ..output import tables
    from ..pricing import resolve_catalog

    opts, ropts = _contexts()
    now = ropts.now or datetime.now(UTC)
    scope = _scope(opts)
    with scope.client:
        catalog = resolve_catalog(
            scope.client,
            scope.home_namespace,
            ropts.pricing_file,
            warn=lambda msg: click.echo(f"warning: {msg}", err=True),
        )
        reports = _reports(scope)
        profiles = scope.list(COST_PROFILES, CostProfile) if reports else []
    info = rd.catalog_info(catalog, now.date())
    if info["ageDays"] > STALE_CATALOG_DAYS:
        click.echo(
            f"warning: cloud prices were last verified {info['ageDays']} days ago ({catalog.last_verified}); "
            "pass --pricing-file or create ConfigMap infercost-pricing with current prices",
            err=True,
        )
    if reports and not catalog.entries:
        click.echo(f"warning: the price catalog {catalog.source} has no entries", err=True)
    preface = (
        f"Price catalog: {catalog.source} ({len(catalog.entries)} models, {catalog.currency}), "
        f"last verified {catalog.last_verified.isoformat()}, {info['ageDays']} days ago"
    )
    rows = rd.compare_rows(reports, profiles, catalog)
    _emit(
        scope,
        ropts,
        "CloudComparisonList",
        [(tables.COMPARE, rows)],
        titled=False,
        extra={"catalog": info},
        preface=preface,
    )
