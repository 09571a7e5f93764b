"""``kubectl infercost reconcile [--watch]``: scrape, account, write status."""

from __future__ import annotations

import re
import signal
import sys
import threading
from datetime import UTC, datetime
from types import FrameType

import click

from ..errors import InvalidDataError, UsageError
from .common import GlobalOptions, global_options, pass_options

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")


def parse_duration(text: str) -> float:
    """Seconds from ``90``, ``60s``, ``5m``, ``1h30m``."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    m = _DURATION.fullmatch(text)
    if not text or m is None or not any(m.groups()):
        raise UsageError(f"invalid duration {text!r} (use e.g. 30s, 5m, 1h)")
    h, mnt, s = m.groups()
    return int(h or 0) * 3600 + int(mnt or 0) * 60 + float(s or 0)


def parse_instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(f"--now {text!r} is not an RFC 3339 time (e.g. 2026-04-20T10:00:00Z)") from exc
    if value.tzinfo is None:
        raise UsageError(f"--now {text!r} has no UTC offset (e.g. 2026-04-20T10:00:00Z)")
    return value.astimezone(UTC)


class _Stop:
    """SIGINT/SIGTERM ask the loop to stop after the status write in flight."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, signum: int, frame: FrameType | None) -> None:
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
@click.option("--scrape-timeout", default="5s", show_default=True, help="Timeout of one scrape.")
@click.option("--max-scrape-bytes", type=click.IntRange(1024), default=16 * 1024 * 1024, show_default=True)
@click.option("--pricing-file", type=click.Path(dir_okay=False), help="Cloud price catalog (default: bundled).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
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
) -> None:
    """Scrape DCGM exporters and inference servers and write costs into CR status.

    One pass over -n NAMESPACE (default: the context's namespace) or -A. Failing
    endpoints are reported and do not fail the pass.
    """
    from ..pricing import resolve_catalog
    from ..reconcile import PassOptions, run_pass

    if watch and now_text:
        raise UsageError("--now and --watch cannot be combined")
    seconds = parse_duration(interval)
    timeout = parse_duration(scrape_timeout)
    stop = _Stop()
    if watch:
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
    with opts.client() as client:
        namespace = opts.target_namespace(client.config)
        catalog = resolve_catalog(
            client,
            namespace or client.config.namespace,
            pricing_file,
            warn=lambda m: click.echo(f"warning: {m}", err=True),
        )
        show_progress = not quiet and sys.stderr.isatty()
        while True:
            now = parse_instant(now_text) if now_text else datetime.now(UTC).replace(microsecond=0)
            pass_opts = PassOptions(
                now=now,
                namespace=namespace,
                catalog=catalog,
                concurrency=concurrency,
                scrape_timeout=timeout,
                max_bytes=max_scrape_bytes,
                dry_run=dry_run,
            )
            summary = run_pass(client, pass_opts, progress=_progress if show_progress else None)
            if show_progress:
                click.echo("\r\033[K", nl=False, err=True)
            for problem in summary.problems:
                click.echo(f"warning: {problem}", err=True)
            if not quiet:
                _print_summary(summary, now, dry_run)
            if now_text and summary.refused:
                raise InvalidDataError(
                    f"--now {now_text} could not be applied to {len(summary.refused)} report(s): "
                    + ", ".join(summary.refused)
                )
            if not watch or stop.event.wait(seconds):
                return


def _progress(done: int, total: int) -> None:
    click.echo(f"\rscraping {done}/{total}", nl=False, err=True)


def _print_summary(summary: object, now: datetime, dry_run: bool) -> None:
    from ..reconcile import PassSummary

    assert isinstance(summary, PassSummary)
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
