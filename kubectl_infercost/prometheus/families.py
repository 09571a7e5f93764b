"""One query per metric family per pass, each a raw-sample range selector at the pass instant."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from .client import PrometheusClient, PrometheusError, RangeSeries

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


@dataclass
class FamilyResult:
    """Series per family that answered; ``failures`` names each family that did not, and why."""

    series: dict[str, list[RangeSeries]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def failure_lines(self) -> list[str]:
        return [f"prometheus {family}: {error}" for family, error in sorted(self.failures.items())]


def range_query(family: str, selector: str, window_seconds: float) -> str:
    """``family{selector}[Ns]``: every raw sample of the last N seconds, nothing computed."""
    if not _NAME.fullmatch(family):
        raise ValueError(f"{family!r} is not a metric name")
    seconds = max(1, math.ceil(window_seconds))
    return f"{family}{{{selector}}}[{seconds}s]" if selector else f"{family}[{seconds}s]"


def query_families(
    client: PrometheusClient,
    families: Iterable[str],
    at: datetime,
    window_seconds: float,
    progress: Callable[[int, int], None] | None = None,
) -> FamilyResult:
    """Each family once; a failing family is recorded and the others still answer."""
    names = sorted(set(families))
    result = FamilyResult()
    for done, family in enumerate(names, 1):
        try:
            result.series[family] = client.query(range_query(family, client.opts.selector, window_seconds), at)
        except PrometheusError as exc:
            result.failures[family] = str(exc)
        if progress is not None:
            progress(done, len(names))
    return result
