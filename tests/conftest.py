"""Shared test helpers: where the fixtures live (tests/fixtures), the metrics fixtures by name, price entries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from kubectl_infercost.core.cloud import PriceEntry

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
METRICS = FIXTURES / "metrics"

# The scraped metrics fixtures (tests/fixtures/metrics), by the backend or exporter they come from.
VLLM = "vllm-v1-kops-2026-03.prom"
SGLANG = "sglang-docs-example.prom"
LLAMACPP = "llamacpp-a2df2787-fragment.prom"
DCGM_L4 = "dcgm-exporter-4.x-l4-kops-2026-03.prom"
DCGM_H100 = "dcgm-exporter-4.x-h100x8-sampled-2026-03.prom"


def metrics_text(name: str) -> str:
    """The text of one metrics fixture, e.g. ``metrics_text(VLLM)``."""
    return (METRICS / name).read_text(encoding="utf-8")


def price_entry(provider: str, model: str, inp: str, out: str, tier: str = "standard") -> PriceEntry:
    """A cloud list price: USD per 1,000,000 input and output tokens."""
    return PriceEntry(
        provider, model, tier, Decimal(inp), Decimal(out), "https://example.test/pricing", date(2025, 6, 1)
    )


