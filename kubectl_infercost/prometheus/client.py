"""Instant queries against the Prometheus HTTP API (``/api/v1/query``), raw samples kept exact.

Values are decoded as Decimal straight from the JSON text (Prometheus sends them as strings),
so a counter of 2**53 + 1 tokens never passes through a float. Timestamps are seconds with at
most three decimals: a float holds such a number of seconds to well under a microsecond, so
rounding it to milliseconds gives Prometheus' own integer exactly.
"""

from __future__ import annotations

import bisect
import json
import re
import ssl
from collections.abc import Mapping, Sequence
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


class PrometheusTooLarge(PrometheusError):
    """The answer was refused as too large: the server's limits (``--query.max-samples``, Thanos' and
    Mimir's series, chunk and byte limits) or our own ``max_bytes``. A smaller query may answer."""


# The wording of "too large" refusals: Prometheus (422 "query processing would load too many samples
# into memory"), Thanos ("exceeded series limit", "exceeded chunks limit"), Mimir and Cortex ("the
# query exceeded the maximum number of chunks/series", "the query hit the max number of chunks").
_TOO_LARGE = re.compile(
    r"too many samples|exceeded (?:the )?(?:maximum|max|aggregated)|exceeded (?:series|chunks?|samples|bytes) limit"
    r"|hit the max number|response (?:is )?too large|too large",
    re.IGNORECASE,
)


def too_large(message: str) -> bool:
    return bool(_TOO_LARGE.search(message))


@dataclass(frozen=True)
class PrometheusOptions:
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    bearer_token_file: Path | None = None
    ca_file: Path | None = None
    selector: str = ""  # label matchers added to every query, e.g. cluster="prod"
    timeout: float = 30.0
    max_bytes: int | None = None  # a larger answer is refused as too large (reconcile then chunks it)


@dataclass(frozen=True)
class RangeSeries:
    """One series of a range-vector result: its labels and its raw samples, oldest first."""

    labels: dict[str, str]
    samples: list[CounterSample]


# How Prometheus (and Thanos, Mimir) begin a matrix answer: its series can then be decoded one at a time.
_MATRIX_HEAD = re.compile(
    r'\s*\{\s*"status"\s*:\s*"success"\s*,\s*"data"\s*:\s*\{\s*"resultType"\s*:\s*"matrix"\s*,'
    r'\s*"result"\s*:\s*\[\s*'
)
_SEPARATOR = re.compile(r"\s*(,|\])\s*")
_DECODER = json.JSONDecoder()


def parse_matrix(body: bytes, cuts_ms: Sequence[int] | None = None, last_only: bool = False) -> list[RangeSeries]:
    """The series of a successful ``matrix`` answer; anything else is a :class:`PrometheusError`.

    ``last_only``: each series' last sample only. ``cuts_ms`` (sorted instants): each series reduced
    to the samples any counting from one of those instants needs (:func:`reduce_samples`). Series
    are decoded and reduced one at a time, so a large answer is never held decoded whole.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PrometheusError(f"answer is not JSON: {exc}") from None
    del body  # the caller keeps no reference: tens of MB less while the series are decoded
    head = _MATRIX_HEAD.match(text)
    if head is None:
        return _parse_whole(text, cuts_ms, last_only)
    out: list[RangeSeries] = []
    strings: dict[str, str] = {}
    pos = head.end()
    try:
        if text.startswith("]", pos):
            pos += 1
        else:
            while True:
                item, pos = _DECODER.raw_decode(text, pos)
                out.append(_series(item, cuts_ms, last_only, strings))
                sep = _SEPARATOR.match(text, pos)
                if sep is None:
                    raise ValueError(f"expected , or ] at {pos}")
                pos = sep.end()
                if sep.group(1) == "]":
                    break
        json.loads('{"data":{"result":[]' + text[pos:])  # the rest of the document is well-formed
    except ValueError as exc:
        raise PrometheusError(f"answer is not JSON: {exc}") from None
    return out


def _parse_whole(text: str, cuts_ms: Sequence[int] | None, last_only: bool) -> list[RangeSeries]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise PrometheusError(f"answer is not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("status") != "success":
        error = str(doc.get("error") or "") if isinstance(doc, dict) else ""
        message = f"query failed: {error or 'unexpected answer'}"
        raise (PrometheusTooLarge if too_large(error) else PrometheusError)(message)
    data = doc.get("data") or {}
    if data.get("resultType") != "matrix":
        raise PrometheusError(f"expected a range vector (matrix), got {data.get('resultType')!r}")
    strings: dict[str, str] = {}
    return [_series(item, cuts_ms, last_only, strings) for item in data.get("result") or []]


def _series(item: Any, cuts_ms: Sequence[int] | None, last_only: bool, strings: dict[str, str]) -> RangeSeries:
    """``strings``: the label names and values met so far in this answer, each kept once (tens of
    thousands of series repeat the same few)."""
    if not isinstance(item, dict):
        raise PrometheusError(f"a series of the answer is not an object: {str(item)[:80]}")
    values = item.get("values") or []
    try:
        if last_only:
            [float(v) for _, v in values]  # every sample a number, as without last_only
            values = values[-1:]
        elif cuts_ms is not None:
            values = reduce_samples(values, cuts_ms)
        samples = [CounterSample(round(t * 1000), Decimal(v)) for t, v in values]
    except (InvalidOperation, TypeError, ValueError):
        raise PrometheusError(f"series {item.get('metric')} has a sample that is not a number") from None
    labels = {
        strings.setdefault(k, k) if type(k) is str else k: strings.setdefault(v, v) if type(v) is str else v
        for k, v in dict(item.get("metric") or {}).items()
    }
    return RangeSeries(labels, samples)


def reduce_samples(values: list[list[Any]], cuts_ms: Sequence[int]) -> list[list[Any]]:
    """The raw ``[seconds, "value"]`` samples (oldest first) a counter's growth needs, exactly.

    Kept: the first and the last sample, both samples around every drop (a reset), and both
    samples around every cut (an instant in ``cuts_ms`` between or at two samples' times).
    Between two kept samples the counter never goes down, so the sum of its increases there is
    the later value minus the earlier: any growth counted from a cut, or from a sample at or
    after one, is the same over the kept samples as over all of them. Values are compared as
    floats (what Prometheus stores); two different texts of one float are kept, as are NaNs.
    """
    n = len(values)
    if n <= 2:
        return values
    times = [round(t * 1000) for t, _ in values]
    floats = [float(v) for _, v in values]
    keep = bytearray(n)
    keep[0] = keep[-1] = 1
    c, ncuts = bisect.bisect_left(cuts_ms, times[0]), len(cuts_ms)
    for i in range(1, n):
        a, b = floats[i - 1], floats[i]
        if not b > a and not (b == a and values[i][1] == values[i - 1][1]):
            keep[i - 1] = keep[i] = 1  # a drop, a NaN, or the same float written differently
        while c < ncuts and cuts_ms[c] < times[i - 1]:
            c += 1
        if c < ncuts and cuts_ms[c] <= times[i]:
            keep[i - 1] = keep[i] = 1
    return [v for v, k in zip(values, keep, strict=True) if k]


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
        return self.query_ms(promql, round(at.timestamp() * 1000))

    def query_ms(
        self, promql: str, at_ms: int, cuts_ms: Sequence[int] | None = None, last_only: bool = False
    ) -> list[RangeSeries]:
        """:meth:`query` at ``at_ms`` milliseconds since the epoch, samples reduced as :func:`parse_matrix` says."""
        return parse_matrix(self.fetch(promql, at_ms), cuts_ms, last_only)

    def fetch(self, promql: str, at_ms: int) -> bytes:
        """The raw answer body of an instant query (a JSON document, the API's error included)."""
        seconds, millis = divmod(at_ms, 1000)
        body = urlencode({"query": promql, "time": f"{seconds}.{millis:03d}"})
        try:
            response = self.pool.request(
                "POST",
                self.url,
                body=body,
                headers=self._headers(),
                timeout=urllib3.Timeout(total=self.opts.timeout),
                retries=urllib3.Retry(total=2, connect=2, read=0, status=0, redirect=0, backoff_factor=0.1),
                preload_content=False,
            )
            try:
                data = _read_capped(response, self.opts.max_bytes)
            finally:
                response.release_conn()
        except urllib3.exceptions.HTTPError as exc:
            raise PrometheusError(f"cannot reach Prometheus at {self.opts.url}: {exc}") from None
        if data is None:
            raise PrometheusTooLarge(f"answer larger than {self.opts.max_bytes} bytes")
        if response.status != 200 and not data.startswith(b"{"):
            snippet = data.decode("utf-8", "replace").strip().splitlines()[:1]
            message = f"HTTP {response.status}{': ' + snippet[0][:120] if snippet else ''}"
            raise (PrometheusTooLarge if response.status == 413 or too_large(message) else PrometheusError)(message)
        return data


def _read_capped(response: urllib3.BaseHTTPResponse, limit: int | None) -> bytes | None:
    """The whole body, or None as soon as it is longer than ``limit`` bytes (the rest is not read)."""
    parts: list[bytes] = []
    size = 0
    while True:
        part = response.read(1 << 20)
        if not part:
            return b"".join(parts)
        size += len(part)
        if limit is not None and size > limit:
            response.close()  # the connection goes, the rest of the answer with it
            return None
        parts.append(part)
