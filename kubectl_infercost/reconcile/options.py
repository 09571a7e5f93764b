"""What a pass is asked to do, and what it reports back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ..core.cloud import PriceCatalog
from ..core.money import ZERO
from ..kube.client import JSON
from ..prometheus import PrometheusClient


@dataclass
class PassOptions:
    now: datetime
    namespace: str | None
    catalog: PriceCatalog | None
    concurrency: int = 16
    scrape_timeout: float = 5.0
    max_bytes: int = 16 * 1024 * 1024
    dry_run: bool = False
    replay: bool = False  # ``now`` was given (--now): a checkpoint after it is refused, not the object's fault
    prometheus: PrometheusClient | None = None  # --metrics-source prometheus: counters from it, not pod proxies
    prometheus_lookback: float = 300.0  # seconds of samples read before the oldest checkpoint (and on a first pass)


@dataclass
class PassSummary:
    profiles: int = 0
    reports: int = 0
    endpoints: int = 0
    failed_endpoints: list[str] = field(default_factory=list)  # HTTP, transport and parse failures alike
    accrued_usd: Decimal = ZERO
    tokens: int = 0
    problems: list[str] = field(default_factory=list)  # per-object warnings, never fatal
    not_ready: list[str] = field(default_factory=list)  # objects set Ready=False this pass, with the reason
    skipped: list[str] = field(default_factory=list)  # already reconciled by another writer
    refused: list[str] = field(default_factory=list)  # reports the pass could not account (e.g. --now too early)
    results: list[str] = field(default_factory=list)
    namespace: str | None = None  # the pass's namespace (None: all)
    elsewhere: dict[str, int] = field(default_factory=dict)  # no reports here: namespace -> reports there

    def absorb(self, part: PassSummary) -> None:
        """Add what one object's writes reported (``part`` began empty), after what is already here."""
        self.failed_endpoints += part.failed_endpoints
        self.accrued_usd += part.accrued_usd
        self.tokens += part.tokens
        self.problems += part.problems
        self.not_ready += part.not_ready
        self.skipped += part.skipped
        self.refused += part.refused
        self.results += part.results


def key_of(obj: JSON) -> str:
    return f"{obj['metadata'].get('namespace')}/{obj['metadata']['name']}"
