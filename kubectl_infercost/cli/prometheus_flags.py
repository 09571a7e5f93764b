"""``--metrics-source`` and the ``--prometheus-*`` flags, shared by the commands that read metrics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import UsageError
from ..prometheus import PrometheusClient, PrometheusOptions

F = TypeVar("F", bound=Callable[..., Any])

_SOURCE = click.option(
    "--metrics-source",
    type=click.Choice(["proxy", "prometheus"]),
    default="proxy",
    show_default=True,
    help="Where token and DCGM counters come from: pod-proxy scrapes, or Prometheus (--prometheus-url).",
)
_CONNECTION = [
    click.option("--prometheus-url", metavar="URL", help="Prometheus, Thanos or Mimir query URL (…/api/v1 below it)."),
    click.option(
        "--prometheus-header",
        "prometheus_headers",
        metavar="K=V",
        multiple=True,
        help="HTTP header on every query, e.g. X-Scope-OrgID=team (repeatable).",
    ),
    click.option(
        "--prometheus-bearer-token-file",
        type=click.Path(dir_okay=False),
        help="Bearer token file, reread per pass.",
    ),
    click.option("--prometheus-ca-file", type=click.Path(dir_okay=False), help="CA bundle for an https:// URL."),
    click.option(
        "--prometheus-selector",
        default="",
        metavar="MATCHERS",
        help='Label matchers added to every query, e.g. cluster="prod".',
    ),
]


def prometheus_options(command: F) -> F:
    """``--metrics-source`` and the connection flags (``reconcile``)."""
    for flag in reversed([_SOURCE, *_CONNECTION]):
        command = flag(command)
    return command


def prometheus_connection_options(command: F) -> F:
    """The connection flags only, for commands that always read Prometheus (``backfill``)."""
    for flag in reversed(_CONNECTION):
        command = flag(command)
    return command


# A larger answer to one of reconcile's queries is asked again in chunks (docs/prometheus.md).
RECONCILE_MAX_BYTES = 64 * 1024 * 1024


def prometheus_client(
    metrics_source: str,
    prometheus_url: str | None,
    prometheus_headers: tuple[str, ...],
    prometheus_bearer_token_file: str | None,
    prometheus_ca_file: str | None,
    prometheus_selector: str,
    timeout: float,
) -> PrometheusClient | None:
    """The client for ``--metrics-source prometheus``, or None for pod-proxy scrapes."""
    if metrics_source != "prometheus":
        if prometheus_url:
            raise UsageError("--prometheus-url needs --metrics-source prometheus")
        return None
    if not prometheus_url:
        raise UsageError("--metrics-source prometheus needs --prometheus-url")
    return connect(
        prometheus_url,
        prometheus_headers,
        prometheus_bearer_token_file,
        prometheus_ca_file,
        prometheus_selector,
        timeout,
        max_bytes=RECONCILE_MAX_BYTES,
    )


def connect(
    prometheus_url: str,
    prometheus_headers: tuple[str, ...],
    prometheus_bearer_token_file: str | None,
    prometheus_ca_file: str | None,
    prometheus_selector: str,
    timeout: float,
    max_bytes: int | None = None,
) -> PrometheusClient:
    """The client of the connection flags; an answer over ``max_bytes`` is refused as too large."""
    headers: dict[str, str] = {}
    for item in prometheus_headers:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--prometheus-header {item!r}: expected K=V")
        headers[key.strip()] = value
    return PrometheusClient(
        PrometheusOptions(
            prometheus_url,
            headers=headers,
            bearer_token_file=Path(prometheus_bearer_token_file) if prometheus_bearer_token_file else None,
            ca_file=Path(prometheus_ca_file) if prometheus_ca_file else None,
            selector=prometheus_selector.strip().strip("{}"),
            timeout=timeout,
            max_bytes=max_bytes,
        )
    )
