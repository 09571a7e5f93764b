"""Instant queries against the Prometheus HTTP API (``/api/v1/query``), raw samples kept exact.

Values and timestamps are decoded as Decimal straight from the JSON text, so a counter
of 2**53 + 1 tokens or a timestamp's milliseconds never pass through a float.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import urllib3

from .. import __version__
from ..core.counters import CounterSample
from ..errors import ConfigError, InferCostError


class PrometheusError(InferCostError):
    """A query that did not give a usable answer (transport, HTTP status, or the API's own error)."""


@dataclass(frozen=True)
class PrometheusOptions:
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    bearer_token_file: Path | None = None
    ca_file: Path | None = None
    selector: str = ""  # label matchers added to every query, e.g. cluster="prod"
    timeout: float = 30.0


@dataclass(frozen=True)
class RangeSeries:
    """One series of a range-vector result: its labels and its raw samples, oldest first."""

    labels: dict[str, str]
    samples: list[CounterSample]


def _decimal_ms(value: Any) -> int:
    return int(Decimal(str(value)) * 1000)


def parse_matrix(body: bytes) -> list[RangeSeries]:
    """The series of a successful ``matrix`` answer; anything else is a :class:`PrometheusError`."""
    try:
        doc = json.loads(body, parse_float=Decimal)
    except ValueError as exc:
        raise PrometheusError(f"answer is not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("status") != "success":
        error = doc.get("error") if isinstance(doc, dict) else None
        raise PrometheusError(f"query failed: {error or 'unexpected answer'}")
    data = doc.get("data") or {}
    if data.get("resultType") != "matrix":
        raise PrometheusError(f"expected a range vector (matrix), got {data.get('resultType')!r}")
    out: list[RangeSeries] = []
    for item in data.get("result") or []:
        try:
            samples = [CounterSample(_decimal_ms(t), Decimal(v)) for t, v in item.get("values") or []]
        except (InvalidOperation, TypeError, ValueError):
            raise PrometheusError(f"series {item.get('metric')} has a sample that is not a number") from None
        out.append(RangeSeries(dict(item.get("metric") or {}), samples))
    return out


class PrometheusClient:
    def __init__(self, opts: PrometheusOptions, pool: urllib3.PoolManager | None = None) -> None:
        if not opts.url.startswith(("http://", "https://")):
            raise ConfigError(f"--prometheus-url: {opts.url!r} is not an http:// or https:// URL")
        self.opts = opts
        self.url = opts.url.rstrip("/") + "/api/v1/query"
        if pool is None:
            context = ssl.create_default_context(cafile=str(opts.ca_file) if opts.ca_file else None)
            pool = urllib3.PoolManager(ssl_context=context)
        self.pool = pool

    def _headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "User-Agent": f"kubectl-infercost/{__version__}",
            **self.opts.headers,
        }
        if self.opts.bearer_token_file is not None:
            try:
                token = self.opts.bearer_token_file.read_text().strip()
            except OSError as exc:
                raise ConfigError(f"--prometheus-bearer-token-file: {exc}") from None
            headers["Authorization"] = f"Bearer {token}"  # read each time: projected tokens rotate
        return headers

    def query(self, promql: str, at: datetime) -> list[RangeSeries]:
        """An instant query at ``at`` whose answer is a range vector (a selector with ``[window]``)."""
        body = urlencode({"query": promql, "time": f"{at.timestamp():.3f}"})
        try:
            response = self.pool.request(
                "POST",
                self.url,
                body=body,
                headers=self._headers(),
                timeout=urllib3.Timeout(total=self.opts.timeout),
                retries=urllib3.Retry(total=2, connect=2, read=0, status=0, redirect=0, backoff_factor=0.1),
            )
        except urllib3.exceptions.HTTPError as exc:
            raise PrometheusError(f"cannot reach Prometheus at {self.opts.url}: {exc}") from None
        if response.status != 200 and not response.data.startswith(b"{"):
            snippet = response.data.decode("utf-8", "replace").strip().splitlines()[:1]
            raise PrometheusError(f"HTTP {response.status}{': ' + snippet[0][:120] if snippet else ''}")
        return parse_matrix(response.data)
