"""What one period of a UsageReport charges, before formatting (docs/export-focus.md#row-shape).

PURE. A :data:`Charge` is a plain tuple (the row builder unpacks a million of them):
``(kind, namespace, model, input_tokens, output_tokens, cost, hours, idle_share)`` with

* ``kind``: :data:`MODEL`, :data:`UNKNOWN` (no per-model breakdown) or :data:`IDLE`;
* ``model``: None for UNKNOWN and IDLE;
* ``hours``: GPU-hours that carry the cost when there are no tokens (None if not measured);
* ``idle_share``: ``x_InferIdleCost`` of token rows (Proportional); None = unknown.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal

from ...errors import InvalidDataError
from ...models import PeriodFigures
from .pricing import div_half_even, scaled

MODEL, UNKNOWN, IDLE = 0, 1, 2

Charge = tuple[int, str, str | None, int, int, Decimal, Decimal | None, Decimal | None]

_CTX = Context(prec=60, rounding=ROUND_HALF_EVEN)
_ZERO = Decimal(0)


def charge_part(charge: Charge, before: int, upto: int, total: int) -> Charge:
    """The share of seconds [before, upto) of ``total``; cumulative rounding, so parts add up."""

    def ints(value: int) -> int:
        return div_half_even(value * upto, total) - div_half_even(value * before, total)

    def decs(value: Decimal | None) -> Decimal | None:
        # in pico units, rounded cumulatively: the parts of a period add up to its figure exactly
        if value is None:
            return None
        return Decimal(ints(scaled(value, 12))).scaleb(-12)

    kind, namespace, model, input_tokens, output_tokens, cost, hours, idle_share = charge
    part_cost = decs(cost)
    assert part_cost is not None
    return (
        kind, namespace, model, ints(input_tokens), ints(output_tokens), part_cost, decs(hours), decs(idle_share),
    )  # fmt: skip


def period_charges(figures: PeriodFigures, report_namespace: str, proportional: bool, where: str) -> list[Charge]:
    """Model rows (merged by namespace and model, sorted), the unknown-model residual, the idle charge.

    The residual is what the period holds beyond Σ byModel and idle: tokens without a per-model
    breakdown, or cost without one (a report with no breakdown at all gives one rollup charge).
    Any positive cost residual is a charge, so the charges add up to estimatedCostUSD exactly.
    Under ``Proportional`` a model's idle share is ``byModel[].idleCostUSD`` (None if not recorded);
    under ``Separate`` it is 0.
    """
    merged: dict[tuple[str, str], Charge] = {}
    in_sum = out_sum = 0
    cost_sum = _ZERO
    for entry in figures.by_model:
        cost = entry.estimated_cost_usd
        if cost < _ZERO:
            raise InvalidDataError(f"{where}: byModel {entry.model!r} estimatedCostUSD is negative ({cost})")
        inp = entry.input_tokens
        out = entry.output_tokens
        in_sum += inp
        out_sum += out
        cost_sum += cost
        key = (entry.namespace, entry.model)
        if key not in merged:
            merged[key] = (
                MODEL, key[0], key[1], inp, out, cost, entry.gpu_hours, entry.idle_cost_usd if proportional else _ZERO
            )  # fmt: skip
        else:
            share = entry.idle_cost_usd if proportional else _ZERO
            _, _, _, inp0, out0, cost0, hours, share0 = merged[key]
            if entry.gpu_hours is not None:
                hours = (hours or _ZERO) + entry.gpu_hours
            merged[key] = (
                MODEL, key[0], key[1], inp0 + inp, out0 + out, cost0 + cost, hours,
                None if share is None or share0 is None else share0 + share,
            )  # fmt: skip
    charges = [merged[key] for key in sorted(merged)] if len(merged) > 1 else list(merged.values())
    total = figures.estimated_cost_usd
    idle = figures.idle_cost_usd
    if total < _ZERO:
        raise InvalidDataError(f"{where}: estimatedCostUSD is negative ({total})")
    if idle < _ZERO:
        raise InvalidDataError(f"{where}: idleCostUSD is negative ({idle})")
    in_rest = figures.input_tokens - in_sum
    out_rest = figures.output_tokens - out_sum
    cost_rest = total - idle - cost_sum
    # Any cost left over is a row (so the rows add up to estimatedCostUSD exactly); a negative rest (byModel
    # above the total, only in hand-written statuses) within the stored 6-dp rounding is noise.
    if in_rest > 0 or out_rest > 0 or cost_rest > 0:
        in_rest = in_rest if in_rest > 0 else 0
        out_rest = out_rest if out_rest > 0 else 0
        modelled_hours = sum((c[6] or _ZERO for c in charges), _ZERO)
        rest_hours = figures.gpu_hours - figures.idle_gpu_hours - modelled_hours
        charges.append(
            (
                UNKNOWN, report_namespace, None, in_rest, out_rest, max(cost_rest, _ZERO),
                rest_hours if rest_hours > 0 else None, _ZERO if not proportional else None,
            )
        )  # fmt: skip
    if idle > 0:
        hours = figures.idle_gpu_hours
        if hours < _ZERO:
            raise InvalidDataError(f"{where}: idleGpuHours is negative ({hours})")
        charges.append((IDLE, report_namespace, None, 0, 0, idle, hours or None, None))
    return charges


def hours_micro(
    cost: Decimal, hours: Decimal | None, per_gpu_rate: Decimal | None, figures: PeriodFigures, where: str
) -> int:
    """GPU-hours (micro) carrying a cost without tokens: measured hours, else cost ÷ a per-GPU rate.

    The rate is the CostProfile's hourlyCostUSD ÷ gpuCount, else the period's own average
    (estimatedCostUSD ÷ gpuHours). Never below 0.000001, so a unit price always exists.
    """
    if hours is not None and hours > 0:
        pass
    elif per_gpu_rate is not None:
        hours = _CTX.divide(cost, per_gpu_rate)
    elif figures.gpu_hours > 0 and figures.estimated_cost_usd > 0:
        hours = _CTX.divide(_CTX.multiply(cost, figures.gpu_hours), figures.estimated_cost_usd)
    else:
        raise InvalidDataError(
            f"{where}: cost {cost} without tokens or GPU-hours, and no CostProfile rate to express it"
        )
    return max(1, scaled(hours, 6))
