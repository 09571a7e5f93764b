"""Decimal helpers: money is exact in between and rounded once, half-even, to 6 dp on write."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

MICRO = Decimal("0.000001")
ZERO = Decimal(0)
MILLION = Decimal(1_000_000)
HOURS_PER_YEAR = Decimal(8760)
MJ_PER_KWH = Decimal(3_600_000_000)  # 1 kWh = 3.6e6 J = 3.6e9 mJ


def round6(value: Decimal) -> Decimal:
    return value.quantize(MICRO, rounding=ROUND_HALF_EVEN)


def per_million(cost: Decimal, tokens: int) -> Decimal:
    """Cost per 1M tokens; 0 tokens gives 0 (never a division error)."""
    return round6(cost / tokens * MILLION) if tokens else ZERO


def split_proportionally(total: int, weights: list[Decimal]) -> list[int]:
    """Split an integer total by weights so the parts add up exactly (largest remainder)."""
    weight_sum = sum(weights, ZERO)
    if total == 0 or weight_sum == 0:
        return [0] * len(weights)
    exact = [Decimal(total) * w / weight_sum for w in weights]
    parts = [int(e) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts
