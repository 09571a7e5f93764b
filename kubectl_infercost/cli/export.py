"""``kubectl infercost export focus``: FinOps FOCUS files (CSV, JSON, Parquet) from UsageReports.

Read-only: GET/LIST of UsageReports, CostProfiles, the pricing ConfigMap and (with ``--tag-label``)
Namespaces and Pods. The layouts and value rules are in docs/export-focus.md.
"""

from __future__ import annotations

import dataclasses
import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from ..errors import InferCostError, InvalidDataError, UsageError
from .common import GlobalOptions, global_options, global_options_with, pass_options, resolve_namespace
from .completion import complete_periods
from .export_s3 import TO_METAVAR, check_s3_flags, export_to_s3, s3_options, split_to

if TYPE_CHECKING:
    from ..core.cloud import PriceCatalog
    from ..core.focus import ExportOptions, OptionError, Row, Source
    from ..kube.client import KubeClient

F = TypeVar("F", bound=Callable[..., Any])


def _period(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from ..core.focus import is_period_label

    if value is None or is_period_label(value):
        return value
    raise click.BadParameter(
        "is not a period label: use a day (2026-04-20), an ISO week (2026-W17) or a month (2026-04)", ctx, param
    )


#: How the core's option names read on the command line, and what each needs.
_IDENTIFIER_RULE = "use 1-128 characters from A-Z a-z 0-9 . _ : / @ - starting with a letter or digit"
_FLAGS = {
    "billing_account_id": ("--billing-account-id", _IDENTIFIER_RULE),
    "region_id": ("--region", _IDENTIFIER_RULE),
    "region_name": ("--region-name", "needs --region (RegionName is null exactly when RegionId is)"),
    "provider_name": ("--provider-name", "must not be empty"),
    "billing_account_name": ("--billing-account-name", "must not be empty"),
    "start": ("--from", "must be before --to"),
    "compare_to": ("--compare-to", ""),
}


def _usage_error(exc: OptionError) -> UsageError:
    """The core's OptionError, worded as the flag the user typed."""
    flag, rule = _FLAGS.get(exc.option, (exc.option, ""))
    if exc.option == "compare_to":
        return UsageError(f"{flag} {exc.value} is {exc.problem}")
    if exc.option in ("billing_account_id", "region_id"):
        return UsageError(f"{flag} {exc.value!r} is not allowed: {rule}")
    return UsageError(f"{flag} {rule}")


def _compare_to(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    provider, _, model = value.partition("/")
    if not provider or not model:
        raise click.BadParameter("use PROVIDER/MODEL, as in the price catalog (e.g. openai/gpt-4o)", ctx, param)
    return provider, model


def compare_to_option(help_text: str) -> Callable[[F], F]:
    """``--compare-to PROVIDER/MODEL``: one cloud model of the price catalog."""
    return click.option("--compare-to", callback=_compare_to, metavar="PROVIDER/MODEL", help=help_text)


pricing_file_option = click.option(
    "--pricing-file", metavar="PATH", help="Cloud price catalog (default: ConfigMap or bundled)."
)


def _utc_date_option(flag: str, dest: str, help_text: str) -> Callable[[F], F]:
    """A ``YYYY-MM-DD`` option, parsed to a naive datetime (made UTC by :func:`_utc`)."""
    return click.option(flag, dest, type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD", help=help_text)


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


@click.group("export")
@global_options
def export() -> None:
    """Export cost data for FinOps tools."""


def _check_destination(fmt: str, columns: str | None, out: str | None, output_dir: str | None, to: str | None) -> None:
    """Usage errors of --out, --output-dir, --to, --format and --columns that cannot go together."""
    if out is not None and output_dir is not None:
        raise UsageError("--out and --output-dir are mutually exclusive")
    if fmt == "parquet" and out is None and output_dir is None and to is None:
        raise UsageError(
            "--format parquet needs --out FILE, --output-dir DIR or --to s3://… (Parquet is not written to a terminal)"
        )
    if columns is not None and fmt == "parquet":
        raise UsageError("--columns infercost-v1 is written as CSV or JSON only")


@export.command("focus")
@click.option(
    "--period",
    metavar="LABEL",
    callback=_period,
    shell_complete=complete_periods,
    help="Only this period (2026-04-20, 2026-W17, 2026-04); a month also selects its days and weeks.",
)
@_utc_date_option("--from", "start", "Only periods overlapping [from, to) (UTC dates).")
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar=TO_METAVAR,
    help="End of the --from/--to window (UTC date, exclusive), or the destination s3://BUCKET/PREFIX; repeatable.",
)
@click.option(
    "--include-open/--closed-only",
    default=True,
    show_default=True,
    help="Export the current (open) period of each report, ending at its last accounting time.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "jsonl", "parquet"]),
    default="csv",
    show_default=True,
    help="Output format: jsonl is one record per line; parquet needs --out, --output-dir or --to s3://….",
)
@click.option(
    "--focus-version",
    type=click.Choice(["1.0", "1.1", "1.2", "1.3", "1.4"]),
    default="1.3",
    show_default=True,
    help="FOCUS version of the columns and metadata (1.3: the newest the official validator passes).",
)
@click.option(
    "--columns",
    "--layout",
    "columns",
    type=click.Choice(["infercost-v1"]),
    help="The legacy 44-column layout of the old exporter (NOT FOCUS-conformant).",
)
@click.option("--out", metavar="FILE", help="Write to FILE atomically instead of stdout ('-' = stdout).")
@click.option(
    "--output-dir",
    metavar="DIR",
    help="Write Hive partitions DIR/version=<layout>/year=YYYY/month=M/part-00000.<ext> (metadata: DIR/_metadata).",
)
@click.option("--region", metavar="ID", help="RegionId of every row (e.g. us-east-1-prod).")
@click.option("--region-name", metavar="NAME", help="RegionName (default: the --region value).")
@click.option("--billing-account-id", metavar="ID", help="BillingAccountId (default: the kube-context's cluster).")
@click.option("--billing-account-name", metavar="NAME", help="BillingAccountName (default: the account id).")
@click.option(
    "--provider-name",
    default="Self-Hosted",
    show_default=True,
    metavar="NAME",
    help="ProviderName, PublisherName, InvoiceIssuerName, ServiceProviderName, HostProviderName.",
)
@click.option(
    "--tag-label",
    "tag_labels",
    multiple=True,
    metavar="KEY",
    help="Copy this namespace or pod label into Tags (repeatable; a row's pods must agree).",
)
@click.option(
    "--tag-allowlist", metavar="KEY,...", help="Comma-separated namespace or pod label keys copied into Tags."
)
@click.option("--include-namespaces", metavar="NS,...", help="Only rows charged to these namespaces (SubAccountId).")
@click.option("--exclude-namespaces", metavar="NS,...", help="No rows charged to these namespaces (SubAccountId).")
@s3_options
@compare_to_option("Cloud model of the x_InferCloudEquivalent* columns (default: the cheapest per row).")
@pricing_file_option
@global_options_with(namespace_help="Only the UsageReports of this namespace (default: all namespaces).")
@pass_options
def focus(
    opts: GlobalOptions,
    period: str | None,
    start: datetime | None,
    to: tuple[str, ...],
    include_open: bool,
    fmt: str,
    focus_version: str,
    columns: str | None,
    out: str | None,
    output_dir: str | None,
    region: str | None,
    region_name: str | None,
    billing_account_id: str | None,
    billing_account_name: str | None,
    provider_name: str,
    tag_labels: tuple[str, ...],
    tag_allowlist: str | None,
    include_namespaces: str | None,
    exclude_namespaces: str | None,
    s3_endpoint: str | None,
    s3_region: str | None,
    s3_addressing: str,
    ternary: bool,
    compare_to: tuple[str, str] | None,
    pricing_file: str | None,
) -> None:
    """FinOps FOCUS rows of every UsageReport: one per (report, period, namespace, model), idle rows apart.

    All namespaces unless -n is given. Without --out the CSV goes to stdout, so the documented pipelines
    work: `kubectl infercost export focus | awk -F, 'NR==1 || $1+0 > 1.0'` ($1 BilledCost, $29
    SubAccountId; no field before column 30 ever holds a comma).
    """
    from ..core.focus import ExportOptions, OptionError, PeriodSelection, build_rows, identifier_from, layout_for
    from ..core.namespaces import NamespaceFilter, filter_rows

    if out == "-":
        out = None
    end, destination = split_to(to)
    s3_flags = {"s3_endpoint": s3_endpoint, "s3_region": s3_region, "s3_addressing": s3_addressing, "ternary": ternary}
    check_s3_flags(destination, out, output_dir, s3_flags)
    keep = NamespaceFilter.parse(include_namespaces, exclude_namespaces)
    _check_destination(fmt, columns, out, output_dir, destination)
    namespace = resolve_namespace(opts.namespace, opts.all_namespaces, None)  # export defaults to ALL namespaces
    labels = list(dict.fromkeys([*tag_labels, *(k.strip() for k in (tag_allowlist or "").split(",") if k.strip())]))
    config = opts.cluster_config()
    cluster = config.cluster_name or config.context
    try:
        options = ExportOptions(
            layout=layout_for(focus_version, columns),
            billing_account_id=billing_account_id or identifier_from(str(cluster)),
            billing_account_name=billing_account_name,
            provider_name=provider_name,
            region_id=region,
            region_name=region_name,
            compare_to=compare_to,
            tag_labels=tuple(labels),
            selection=PeriodSelection(period, _utc(start), _utc(end), include_open),
        )
    except OptionError as exc:
        raise _usage_error(exc) from exc
    skipped: list[str] = []

    def skip(reason: str) -> None:
        skipped.append(reason)
        click.echo(f"warning: {reason}; skipped (none of its rows are exported)", err=True)

    with opts.client() as client:
        sources, ns_labels, catalog = _read(
            client, namespace, labels, pricing_file, opts.namespace or config.namespace, skip
        )
        pod_labels = _pod_labels(client, namespace) if labels and _has_checkpoint_pods(sources) else {}
    if ns_labels or pod_labels:
        options = dataclasses.replace(options, namespace_labels=ns_labels, pod_labels=pod_labels)
    try:
        rows = build_rows(sources, catalog, options, on_skip=lambda exc: skip(str(exc)))
    except OptionError as exc:
        raise _usage_error(exc) from exc
    if keep.active:
        rows = filter_rows(rows, options.layout.index("SubAccountId"), keep)
    if destination is not None:
        count = export_to_s3(destination, s3_flags, fmt, options.layout, rows, options.billing_account_id)
    else:
        count = _write(fmt, options, rows, out, output_dir)
    if count == 0:
        scope = f"namespace {namespace}" if namespace else "all namespaces"
        click.echo(
            f"note: no FOCUS rows matched ({len(sources)} UsageReports in {scope}); "
            + ("nothing uploaded" if destination is not None else "wrote the header only"),
            err=True,
        )
    if skipped:
        raise InvalidDataError(
            f"{len(skipped)} UsageReport(s) could not be exported (warnings above); the others were written"
        )


def _read(
    client: KubeClient,
    namespace: str | None,
    labels: list[str],
    pricing_file: str | None,
    cli_namespace: str,
    skip: Callable[[str], None],
) -> tuple[list[Source], dict[str, dict[str, str]], PriceCatalog | None]:
    from ..kube.read import list_valid
    from ..kube.resources import COST_PROFILES, NAMESPACES, USAGE_REPORTS
    from ..models import CostProfile, UsageReport
    from ..pricing import resolve_catalog

    listing = list_valid(client, USAGE_REPORTS, UsageReport, namespace)
    for problem in listing.problems:  # skipped whole, loudly; the export goes on
        skip(str(problem))
    reports = listing.models
    profiles: dict[tuple[str, str], CostProfile] = {}
    if reports:
        profile_listing = list_valid(client, COST_PROFILES, CostProfile, namespace)
        for problem in profile_listing.problems:  # a report without its profile still exports
            click.echo(f"warning: {problem} (ignored)", err=True)
        for profile in profile_listing.models:
            profiles[(profile.metadata.namespace or "", profile.metadata.name)] = profile
    sources = [(r, profiles.get((r.metadata.namespace or "", r.spec.cost_profile_ref))) for r in reports]
    ns_labels: dict[str, dict[str, str]] = {}
    if labels and reports:
        # -n NS reads only that Namespace: a viewer bound in one namespace may get it, not list them all.
        items = (
            [client.get(NAMESPACES.item(namespace), what=f"get namespace {namespace}")]
            if namespace
            else client.list_items(NAMESPACES.collection(), what="list namespaces")
        )
        for item in items:
            meta = item.get("metadata") or {}
            ns_labels[str(meta.get("name"))] = dict(meta.get("labels") or {})
    catalog = None
    if reports:
        catalog = resolve_catalog(
            client, cli_namespace, pricing_file, warn=lambda m: click.echo(f"warning: {m}", err=True)
        )
    return sources, ns_labels, catalog


def _has_checkpoint_pods(sources: list[Source]) -> bool:
    return any(r.status.checkpoint is not None and r.status.checkpoint.pods for r, _ in sources)


def _pod_labels(client: KubeClient, namespace: str | None) -> dict[str, dict[str, str]]:
    """Labels of the Pods that exist now, by UID (one paged list); refused: a warning, and no pod labels."""
    from ..errors import ForbiddenError
    from ..kube.resources import PODS

    scope = f"in namespace {namespace}" if namespace else "at the cluster scope"
    try:
        items = client.list_items(PODS.collection(namespace), what=f"list pods {scope}")
    except ForbiddenError:
        click.echo(
            f"warning: this identity may not list pods {scope}; Tags carry namespace labels only"
            " (bind the infercost-viewer-pods ClusterRole, see docs/rbac.md)",
            err=True,
        )
        return {}
    labels: dict[str, dict[str, str]] = {}
    for item in items:
        meta = item.get("metadata") or {}
        uid = meta.get("uid")
        if uid:
            labels[str(uid)] = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    return labels


@contextmanager
def _stdout_text() -> Iterator[IO[str]]:
    """UTF-8 stdout whatever the locale, with LF line ends; the underlying buffer stays open."""
    wrapper = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
    try:
        yield wrapper
    finally:
        try:
            wrapper.flush()
        finally:
            wrapper.detach()


def _write(fmt: str, options: ExportOptions, rows: Iterator[Row], out: str | None, output_dir: str | None) -> int:
    from ..output.focus_writers import write, write_file_with_metadata, write_partitions

    layout = options.layout
    try:
        if output_dir is not None:
            counts = write_partitions(
                output_dir, fmt, layout, rows, created=datetime.now(UTC), dataset=options.billing_account_id
            )
            for path, n in counts.items():
                click.echo(f"wrote {n} rows to {path}", err=True)
            return sum(counts.values())
        if out is not None:
            return write_file_with_metadata(
                fmt, out, layout, rows, created=datetime.now(UTC), dataset=options.billing_account_id
            )
    except BrokenPipeError:
        raise
    except OSError as exc:
        target = output_dir if output_dir is not None else out
        raise InferCostError(f"cannot write {target}: {exc.strerror or exc}") from exc
    with _stdout_text() as stream:
        return write(fmt, stream, layout, rows)
