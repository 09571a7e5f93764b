"""``kubectl infercost report board``: one HTML or PDF file for finance, from the CRs ``report`` reads.

Read-only (GET/LIST of UsageReports and TokenBudgets, GET of ConfigMap infercost-pricing). The
figures are made by :mod:`kubectl_infercost.core.board`; what they mean is in docs/report.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import InferCostError, UsageError
from .common import global_options
from .completion import complete_periods
from .export import _period, _utc_date_option, compare_to_option, pricing_file_option
from .report import _contexts, _reports, _scope

if TYPE_CHECKING:
    from ..core.board import Board
    from ..output.board_text import Document

FORMATS = ("html", "pdf")


def _format(fmt: str | None, out: str) -> str:
    if fmt is not None:
        return fmt
    suffix = Path(out).suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    raise UsageError(f"--format html|pdf is needed: cannot tell it from --out {out!r}")


@click.command("board")
@click.option(
    "--period",
    metavar="LABEL",
    callback=_period,
    shell_complete=complete_periods,
    help="A day, ISO week or month (2026-04-20, 2026-W17, 2026-04).",
)
@_utc_date_option("--from", "start", "First day of the range (UTC date); with --to.")
@_utc_date_option("--to", "end", "End of the range, exclusive (UTC date).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="html or pdf (default: from the --out suffix).")
@click.option("--out", metavar="FILE", required=True, help="The file to write (atomically).")
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True, help="PDF page size.")
@compare_to_option("Cloud model of the savings figure (default: the catalog's cheapest for the token mix).")
@pricing_file_option
@global_options
def board(
    period: str | None,
    start: datetime | None,
    end: datetime | None,
    fmt: str | None,
    out: str,
    paper: str,
    compare_to: tuple[str, str] | None,
    pricing_file: str | None,
) -> None:
    """A board report for finance: spend, change, cloud savings, idle cost, charts, budgets, run-rate.

    The range is --period, or --from/--to, or by default the (UTC) month of the newest accounted data.
    It is compared with the previous day, week or month (--period), or the same number of days before
    --from. One UsageReport per CostProfile counts (the finest schedule), so no GPU is counted twice.
    """
    from ..core import board as core
    from ..core.board_range import dates_range, month_of, period_range
    from ..kube.resources import TOKEN_BUDGETS
    from ..models import TokenBudget
    from ..output import board_text
    from ..pricing import resolve_catalog

    if period is not None and (start is not None or end is not None):
        raise UsageError("--period and --from/--to are mutually exclusive")
    if (start is None) != (end is None):
        raise UsageError("--from and --to go together")
    fmt = _format(fmt, out)
    opts, _ = _contexts()
    scope = _scope(opts)
    with scope.client:
        reports = _reports(scope)
        budgets = scope.list(TOKEN_BUDGETS, TokenBudget)
        catalog = resolve_catalog(
            scope.client, scope.home_namespace, pricing_file, warn=lambda m: click.echo(f"warning: {m}", err=True)
        )
    now = datetime.now(UTC)
    if period is not None:
        rng = period_range(period)
    elif start is not None and end is not None:
        rng = dates_range(start.date(), end.date())
    else:
        chosen, _skipped = core.choose_reports(reports)
        rng = month_of(core.latest_accounted(chosen) or now)
    result = core.build_board(reports, budgets, catalog, rng, compare_to)
    if compare_to is not None and result.cloud is None and result.totals.tokens:
        raise UsageError(f"--compare-to {'/'.join(compare_to)}: not in the price catalog {catalog.source}")
    where = f"namespace {scope.namespace}" if scope.namespace else "all namespaces"
    note: list[board_text.Segment] = [
        f"Cloud prices: {catalog.source}, list prices last verified {catalog.last_verified.isoformat()} (",
        board_text.Fig("catalog.entries", len(catalog.entries), "int"),
        " models).",
    ]
    doc = board_text.document(result, where, now, note)
    _write(fmt, out, doc, result, paper)
    state = "" if result.has_data else " (no accounted data in this range yet)"
    click.echo(f"wrote {fmt.upper()} board report for {rng.label} to {out}{state}", err=True)


def _write(fmt: str, out: str, doc: Document, result: Board, paper: str) -> None:
    from ..output.focus_writers import atomic_file

    try:
        if fmt == "html":
            from ..output.board_html import render

            text = render(doc, result)
            with atomic_file(out) as handle:
                handle.write(text)
        else:
            from ..output.board_pdf import write

            with atomic_file(out, binary=True) as handle:
                write(handle, doc, result, paper)
    except OSError as exc:
        raise InferCostError(f"cannot write {out}: {exc.strerror or exc}") from exc
