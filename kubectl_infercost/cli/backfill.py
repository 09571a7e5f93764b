"""``kubectl infercost backfill``: history before each report's accountingSince, from Prometheus."""

from __future__ import annotations

import re
import sys
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from ..errors import InferCostError, InvalidDataError, ScrapeError, UsageError
from .common import GlobalOptions, global_options, output_option, parse_duration, parse_instant, pass_options
from .prometheus_flags import connect, prometheus_connection_options

if TYPE_CHECKING:
    from ..core.backfill import Bound
    from ..reconcile.backfill import BackfillSummary


def parse_bound(text: str, flag: str) -> Bound:
    """``YYYY-MM-DD`` (midnight in each report's time zone) or an RFC 3339 instant."""
    value = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise UsageError(f"{flag} {text!r} is not a date (YYYY-MM-DD)") from None
    return parse_instant(value, flag)


@click.command(short_help="Write history before accountingSince from Prometheus.")
@click.option(
    "--since",
    "since_text",
    required=True,
    metavar="DATE",
    help="Backfill whole periods starting at or after this: YYYY-MM-DD (midnight in each report's time zone) "
    "or RFC 3339.",
)
@click.option(
    "--until",
    "until_text",
    metavar="DATE",
    help="Only periods ending by then (default: each report's status.accountingSince, never later).",
)
@click.option(
    "--step",
    default="5m",
    metavar="DURATION",
    show_default=True,
    help="Each period is accounted as if reconcile had run every STEP (GPU ownership is read at each step's end).",
)
@click.option(
    "--lookback",
    default="1h",
    metavar="DURATION",
    show_default=True,
    help="How far before a period its counters' last samples are looked for (their baselines).",
)
@click.option("--dry-run", is_flag=True, help="Print the history entries it would write; write nothing.")
@output_option(("table", "json", "yaml"), "table")
@click.option("--pricing-file", type=click.Path(dir_okay=False), help="Cloud price catalog (default: bundled).")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
@prometheus_connection_options
@global_options
@pass_options
def backfill(
    opts: GlobalOptions,
    since_text: str,
    until_text: str | None,
    step: str,
    lookback: str,
    dry_run: bool,
    output: str,
    pricing_file: str | None,
    quiet: bool,
    prometheus_url: str | None,
    **prometheus_flags: Any,
) -> None:
    """Replay the periods before each UsageReport's status.accountingSince from Prometheus.

    Writes the status.history entries a live reconcile would have written (marked
    source: prometheus-backfill), period by period in each report's time zone, from the raw
    samples of the token and DCGM counters. Only whole periods that start at or after --since
    and end by accountingSince (and --until) are written; periods already in history, the one
    that contains accountingSince and reports never reconciled are left as they are, so a
    second run changes nothing. -n NAMESPACE (default: the context's namespace) or -A.
    --prometheus-url is required. The rules are in docs/prometheus.md#backfill.

    Exit status: 0 when every report in scope was backfilled (or had nothing to
    backfill), 6 when a report cannot be used (named in a warning with its field),
    5 when Prometheus could not answer for a period, 1 when a write failed; the others
    are written either way.
    """
    from ..pricing import resolve_catalog
    from ..reconcile.backfill import BackfillOptions, run_backfill

    if not prometheus_url:
        raise UsageError("backfill needs --prometheus-url")
    since = parse_bound(since_text, "--since")
    until = parse_bound(until_text, "--until") if until_text else None
    if until is not None and isinstance(since, datetime) == isinstance(until, datetime) and until <= since:
        raise UsageError("--until must be after --since")
    step_seconds = parse_duration(step, "--step")
    if step_seconds < 1:
        raise UsageError(f"--step {step!r} is below the minimum of 1s")
    lookback_seconds = parse_duration(lookback, "--lookback")
    prometheus = connect(prometheus_url, timeout=60.0, **prometheus_flags)

    def progress(message: str) -> None:
        if not quiet:
            click.echo(f"backfill: {message}", err=True)

    with opts.client() as client:
        namespace = opts.target_namespace(client.config)
        catalog = resolve_catalog(client, namespace or client.config.namespace, pricing_file, warn=_warn)
        summary = run_backfill(
            client,
            BackfillOptions(
                since=since,
                until=until,
                namespace=namespace,
                prometheus=prometheus,
                catalog=catalog,
                now=datetime.now(UTC),
                step=timedelta(seconds=step_seconds),
                lookback=timedelta(seconds=lookback_seconds),
                dry_run=dry_run,
            ),
            progress,
        )
    for problem in summary.problems:
        _warn(problem)
    _print(summary, output, dry_run, all_namespaces=namespace is None)
    if summary.problems:
        failed = f"{len(summary.problems)} problem(s) (warnings above); the other reports and periods were backfilled"
        if summary.invalid:
            raise InvalidDataError(failed)
        raise ScrapeError(failed) if summary.unanswered else InferCostError(failed)


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def _rows(summary: BackfillSummary, dry_run: bool) -> list[dict[str, Any]]:
    rows = []
    for r in summary.results:
        for e in r.entries:
            rows.append(
                {
                    "reportNamespace": r.namespace,
                    "report": r.name,
                    "period": e.period,
                    "periodStart": e.period_start,
                    "periodEnd": e.period_end,
                    "inputTokens": e.input_tokens,
                    "outputTokens": e.output_tokens,
                    "estimatedCostUSD": f"${e.estimated_cost_usd:f}",
                    "idleCostUSD": f"${e.idle_cost_usd:f}",
                    "energyKWh": f"{e.energy_kwh:f}",
                    "action": "would write" if dry_run else "written",
                }
            )
    return rows


def _print(summary: BackfillSummary, output: str, dry_run: bool, *, all_namespaces: bool) -> None:
    from ..output.structured import write_json, write_yaml
    from ..output.tables import Table, col, write_table

    if output in ("json", "yaml"):
        doc = {
            "apiVersion": "v1",
            "kind": "List",
            "dryRun": dry_run,
            "items": [
                {
                    "namespace": r.namespace,
                    "name": r.name,
                    "written": r.written,
                    "history": [e.model_dump(by_alias=True, exclude_none=True) for e in r.entries],
                    "notes": r.notes,
                }
                for r in summary.results
            ],
        }
        (write_json if output == "json" else write_yaml)(sys.stdout, doc)
        return
    table = Table(
        "backfill",
        "BACKFILL",
        (
            col("reportNamespace", "NAMESPACE", scope=True),
            col("report", "REPORT"),
            col("period", "PERIOD"),
            col("periodStart", "START", "datetime"),
            col("periodEnd", "END", "datetime"),
            col("inputTokens", "INPUT TOKENS", "tokens"),
            col("outputTokens", "OUTPUT TOKENS", "tokens"),
            col("estimatedCostUSD", "COST"),
            col("idleCostUSD", "IDLE"),
            col("energyKWh", "KWH"),
            col("action", "ACTION"),
        ),
    )
    write_table(sys.stdout, table, _rows(summary, dry_run), all_namespaces=all_namespaces)
    written = sum(len(r.entries) for r in summary.results)
    verb = "would write" if dry_run else "wrote"
    click.echo(f"{verb} {written} history entr{'y' if written == 1 else 'ies'} in {len(summary.results)} report(s)")
    for r in summary.results:
        for note in r.notes:
            click.echo(f"  {r.namespace}/{r.name}: {note}")
