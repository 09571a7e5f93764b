"""``kubectl infercost reconcile [--watch]``: scrape, account, write status."""

from __future__ import annotations

import contextlib
import gc
import signal
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from ..errors import ApiError, ConfigError, InvalidDataError, UsageError
from .common import GlobalOptions, global_options, parse_duration, parse_instant, pass_options
from .prometheus_flags import prometheus_client, prometheus_options

if TYPE_CHECKING:
    from ..core.cloud import PriceCatalog
    from ..reconcile import PassSummary

MIN_INTERVAL = 1.0


class _Stop:
    """SIGINT/SIGTERM ask the loop to stop after the status write in flight."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, _signum: int, _frame: FrameType | None) -> None:  # a signal handler's signature
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()
        click.echo("stopping after the current pass...", err=True)


@click.command()
@click.option("--now", "now_text", metavar="RFC3339", help="Evaluate the pass as of this instant (replays, tests).")
@click.option("--watch", is_flag=True, help="Reconcile again every --interval until interrupted.")
@click.option("--interval", default="60s", show_default=True, help="Time between passes with --watch.")
@click.option("--dry-run", is_flag=True, help="Compute and print, write nothing.")
@click.option("--concurrency", type=click.IntRange(1, 256), default=16, show_default=True, help="Parallel scrapes.")
@click.option("--scrape-timeout", default="5s", show_default=True, help="Deadline of one scrape, in total.")
@click.option("--max-scrape-bytes", type=click.IntRange(1024), default=16 * 1024 * 1024, show_default=True)
@click.option("--pricing-file", type=click.Path(dir_okay=False), help="Cloud price catalog (default: bundled).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@prometheus_options
@global_options
@pass_options
def reconcile(
    opts: GlobalOptions,
    now_text: str | None,
    watch: bool,
    interval: str,
    dry_run: bool,
    concurrency: int,
    scrape_timeout: str,
    max_scrape_bytes: int,
    pricing_file: str | None,
    quiet: bool,
    **prometheus_flags: Any,
) -> None:
    """Scrape DCGM exporters and inference servers and write costs into CR status.

    One pass over -n NAMESPACE (default: the context's namespace) or -A. Failing
    endpoints are reported and do not fail the pass.
    """
    from ..pricing import resolve_catalog
    from ..reconcile import PassOptions, run_pass

    seconds, timeout = _check_timing(watch, now_text, interval, scrape_timeout)
    prometheus = prometheus_client(**prometheus_flags, timeout=max(timeout, 30.0))
    stop = _Stop()
    if watch:
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
    with opts.client(max_connections=concurrency + 4) as client:
        namespace = opts.target_namespace(client.config)
        show_progress = not quiet and sys.stderr.isatty()
        catalog: PriceCatalog | None = None
        catalog_read = False
        failures = 0
        while True:
            now = parse_instant(now_text) if now_text else datetime.now(UTC).replace(microsecond=0)
            started = time.monotonic()
            try:
                if not catalog_read:
                    catalog = resolve_catalog(client, namespace or client.config.namespace, pricing_file, warn=warn)
                    catalog_read = True
                pass_opts = PassOptions(
                    now=now,
                    namespace=namespace,
                    catalog=catalog,
                    concurrency=concurrency,
                    scrape_timeout=timeout,
                    max_bytes=max_scrape_bytes,
                    dry_run=dry_run,
                    replay=now_text is not None,
                    prometheus=prometheus,
                )
                progress = _prometheus_progress if prometheus is not None else _progress
                with _collector_paused():
                    summary = run_pass(client, pass_opts, progress=progress if show_progress else None)
            except (ApiError, ConfigError) as exc:
                if not watch:
                    raise
                # The loop outlives a restarting or stalled API server: back off, never beyond the interval.
                failures += 1
                delay = min(seconds, float(2 ** min(failures, 10)))
                retry_at = datetime.now(UTC) + timedelta(seconds=delay)
                click.echo(f"error: pass failed: {exc}; next attempt at {_stamp(retry_at)}", err=True)
                if stop.event.wait(delay):
                    return
                continue
            failures = 0
            if show_progress:
                click.echo("\r\033[K", nl=False, err=True)
            _show(summary, now, time.monotonic() - started, watch=watch, quiet=quiet, dry_run=dry_run)
            if now_text and summary.refused:
                raise InvalidDataError(
                    f"--now {now_text} could not be applied to {len(summary.refused)} report(s): "
                    + ", ".join(summary.refused)
                )
            if not watch or stop.event.wait(max(0.0, seconds - (time.monotonic() - started))):
                return


def _check_timing(watch: bool, now_text: str | None, interval: str, scrape_timeout: str) -> tuple[float, float]:
    """The interval and the scrape timeout in seconds, or a usage error naming the flag."""
    if watch and now_text:
        raise UsageError("--now and --watch cannot be combined")
    seconds = parse_duration(interval, "--interval")
    if seconds < MIN_INTERVAL:
        raise UsageError(f"--interval {interval!r} is below the minimum of 1s")
    timeout = parse_duration(scrape_timeout, "--scrape-timeout")
    if timeout <= 0:
        raise UsageError("--scrape-timeout must be above 0")
    return seconds, timeout


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during a pass, one collection after it.

    A pass builds a few million small objects that all live until it ends (pods, series, raw
    samples); the collector would scan them again and again, and with 10,000 pods that took
    longer than the work itself. Reference counting still frees everything that is not a cycle.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.collect()


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _show(summary: PassSummary, now: datetime, took: float, *, watch: bool, quiet: bool, dry_run: bool) -> None:
    """The pass's warnings, then its line (--watch) or its summary, unless -q."""
    for problem in summary.problems:
        warn(problem)
    if watch and not quiet:
        _print_watch_line(summary, now, took, dry_run)
    elif not quiet:
        _print_summary(summary, now, dry_run)


def _print_watch_line(summary: PassSummary, now: datetime, took: float, dry_run: bool) -> None:
    failed = len(summary.failed_endpoints)
    line = (
        f"{_stamp(now)} reports {summary.reports} profiles {summary.profiles} "
        f"endpoints {summary.endpoints - failed}/{summary.endpoints} ok "
        f"accrued ${summary.accrued_usd:f} tokens {summary.tokens:,} ({took:.1f}s)"
    )
    if failed:
        line += " failed: " + "; ".join(summary.failed_endpoints)
    click.echo(line + (" (dry run)" if dry_run else ""))


def _progress(done: int, total: int) -> None:
    click.echo(f"\rscraping {done}/{total}", nl=False, err=True)


def _prometheus_progress(done: int, total: int) -> None:
    click.echo(f"\rquerying Prometheus: metric family {done}/{total}", nl=False, err=True)


def _print_summary(summary: PassSummary, now: datetime, dry_run: bool) -> None:
    mode = " (dry run: nothing written)" if dry_run else ""
    click.echo(f"reconciled at {now.strftime('%Y-%m-%dT%H:%M:%SZ')}{mode}")
    for line in summary.results:
        click.echo(f"  {line}")
    for line in summary.skipped:
        click.echo(f"  {line}")
    click.echo(
        f"profiles: {summary.profiles}  reports: {summary.reports}  endpoints: {summary.endpoints} scraped, "
        f"{len(summary.failed_endpoints)} failed  accrued: ${summary.accrued_usd:f}  tokens: {summary.tokens:,}"
    )
    for failure in summary.failed_endpoints:
        click.echo(f"  failed: {failure}")
    for line in summary.not_ready:
        click.echo(f"  not ready: {line}")
    if summary.reports or summary.namespace is None:
        return
    here = f"no UsageReports in namespace {summary.namespace}"
    if summary.elsewhere:
        where = ", ".join(f"{ns} ({n})" for ns, n in sorted(summary.elsewhere.items()))
        click.echo(f"{here}; UsageReports are in: {where} (use -n NAMESPACE or -A)")
    else:
        click.echo(f"{here} (none found elsewhere either: create one, see samples/)")
