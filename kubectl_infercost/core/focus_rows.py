"""FOCUS rows: the exact arithmetic of focus.md §3.3, idle rows (§3.4), slices, the legacy layout (§4.2).

PURE. The hot path works on integers in fixed units (micro = 10⁻⁶, pico = 10⁻¹²), which is both exact
and fast:

* PricingQuantity in micro-units: ``tokens`` itself (tokens ÷ 10⁶ at 6 dp), or GPU-hours rounded
  half-even to 6 dp (never below 0.000001).
* ListUnitPrice in micro-dollars: cost ÷ PricingQuantity rounded half-even, from the exact rational
  value of the cost (``Decimal.as_integer_ratio``), so there is no double rounding.
* ListCost in pico-dollars: price × quantity, an exact integer product, written with 12 decimals;
  the identity ListCost = ListUnitPrice × PricingQuantity holds exactly as written.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal

from ..errors import InvalidDataError
from ..models import CostProfile, ModelCost, PeriodFigures, UsageReport
from .cloud import PriceCatalog, PriceEntry
from .focus import (
    UNKNOWN_MODEL,
    ExportOptions,
    Slice,
    Source,
    build_slug_map,
    clean_text,
    guard,
    model_slug,
    report_periods,
    selected,
    single_line,
    slices_of,
)
from .focus_columns import Row
from .focus_legacy import legacy_rows

_CTX = Context(prec=60, rounding=ROUND_HALF_EVEN)
_MICRO = 10**6
_PICO = 10**12
_ZERO = Decimal(0)
ZERO12 = "0.000000000000"

SERVICE_NAME = "On-Prem AI Inference"
SERVICE_CATEGORY = "AI and Machine Learning"
SERVICE_SUBCATEGORY = "Generative AI"
TOKEN_UNIT = "1000000 Tokens"
GPU_HOURS = "GPU-Hours"

# ---------------------------------------------------------------------------------------------------
# fixed-point integers


def div_half_even(numerator: int, denominator: int) -> int:
    """numerator ÷ denominator (denominator > 0) rounded half-even to an integer."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient & 1):
        quotient += 1
    return quotient


def fixed(value: int, scale: int) -> str:
    """An integer count of 10⁻ˢᶜᵃˡᵉ units as fixed-point text (``fixed(7055342400000, 12)``)."""
    if value < 0:
        return "-" + fixed(-value, scale)
    unit = 10**scale
    return f"{value // unit}.{value % unit:0{scale}d}"


def _fx12(value: int) -> str:
    if value < 0:
        return "-" + _fx12(-value)
    return f"{value // _PICO}.{value % _PICO:012d}"


def _fx6(value: int) -> str:
    return f"{value // _MICRO}.{value % _MICRO:06d}"


def scaled(value: Decimal, scale: int) -> int:
    """``value`` in 10⁻ˢᶜᵃˡᵉ units, rounded half-even."""
    num, den = value.as_integer_ratio()
    return div_half_even(num * 10**scale, den)


def unit_price(cost: Decimal, quantity_micro: int) -> int:
    """cost ÷ quantity in micro-dollars, half-even, from the exact cost (no double rounding)."""
    num, den = cost.as_integer_ratio()
    return div_half_even(num * _PICO, den * quantity_micro)


def date_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------------
# cloud-equivalent pricing


class CloudPricer:
    """The cloud-equivalent cost of a token mix: ``--compare-to`` or the cheapest catalog entry.

    Same choice as :func:`~kubectl_infercost.core.cloud.cheapest` (lowest cost; ties by provider,
    model, tier), made fast for a million rows: dominated entries are dropped up front, prices are
    integers in a common unit, and the cost is exact (rounded half-even only if a price has more
    than 6 decimals).
    """

    def __init__(self, entries: Sequence[PriceEntry]) -> None:
        ordered = sorted(entries, key=lambda e: (e.provider, e.model, e.tier))
        places = max((max(0, -_exp(e.input_per_million), -_exp(e.output_per_million)) for e in ordered), default=0)
        self._unit = 10**places
        scaled_entries = [
            (scaled(e.input_per_million, places), scaled(e.output_per_million, places), e) for e in ordered
        ]
        front = []
        for i, (a, b, entry) in enumerate(scaled_entries):
            dominated = any(
                (j < i and a2 <= a and b2 <= b) or (j > i and a2 < a and b2 < b)
                for j, (a2, b2, _) in enumerate(scaled_entries)
                if j != i
            )
            if not dominated:
                front.append((a, b, entry))
        self._front = front
        self._places = places
        self._cache: dict[tuple[int, int], tuple[PriceEntry, int] | None] = {}

    def price(self, input_tokens: int, output_tokens: int) -> tuple[PriceEntry, int] | None:
        """(entry, cloud cost in pico-dollars) for the mix, or None without a catalog."""
        key = (input_tokens, output_tokens)
        hit = self._cache.get(key, self)
        if hit is not self:
            return hit  # type: ignore[return-value]
        best: tuple[PriceEntry, int] | None = None
        best_value = 0
        for a, b, entry in self._front:
            value = input_tokens * a + output_tokens * b
            if best is None or value < best_value:
                best, best_value = (entry, 0), value
        if best is not None:
            # cost = value / 10^places / 10^6 dollars = value × 10^(6 - places) pico-dollars
            shift = 6 - self._places
            pico = best_value * 10**shift if shift >= 0 else div_half_even(best_value, 10**-shift)
            best = (best[0], pico)
        if len(self._cache) < 65536:
            self._cache[key] = best
        return best


def _exp(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def pricer_for(catalog: PriceCatalog | None, compare_to: tuple[str, str] | None) -> CloudPricer:
    from ..errors import UsageError

    entries = list(catalog.entries) if catalog is not None else []
    if compare_to is not None:
        provider, model = (part.casefold() for part in compare_to)
        matching = [e for e in entries if e.provider.casefold() == provider and e.model.casefold() == model]
        if not matching:
            known = ", ".join(f"{e.provider}/{e.model}" for e in entries[:12])
            raise UsageError(
                f"--compare-to {compare_to[0]}/{compare_to[1]} is not in the price catalog"
                + (f" (known: {known}{', ...' if len(entries) > 12 else ''})" if known else "")
            )
        standard = [e for e in matching if e.tier.casefold() == "standard"]
        entries = (standard or matching)[:1]
    return CloudPricer(entries)


# ---------------------------------------------------------------------------------------------------
# charges: what a period holds, before formatting

MODEL, UNKNOWN, IDLE = 0, 1, 2


@dataclass(slots=True)
class Charge:
    kind: int  # MODEL, UNKNOWN (no per-model breakdown) or IDLE
    namespace: str
    model: str | None
    input_tokens: int
    output_tokens: int
    cost: Decimal
    hours: Decimal | None  # GPU-hours that carry the cost when there are no tokens
    idle_share: Decimal | None  # x_InferIdleCost on token rows (Proportional); None = unknown

    def part(self, before: int, upto: int, total: int) -> Charge:
        """The share of seconds [before, upto) of ``total``; cumulative rounding, so parts add up."""

        def ints(value: int) -> int:
            return div_half_even(value * upto, total) - div_half_even(value * before, total)

        def decs(value: Decimal | None) -> Decimal | None:
            if value is None:
                return None
            return _CTX.subtract(
                _CTX.divide(_CTX.multiply(value, Decimal(upto)), Decimal(total)),
                _CTX.divide(_CTX.multiply(value, Decimal(before)), Decimal(total)),
            )

        cost = decs(self.cost)
        assert cost is not None
        return Charge(
            self.kind,
            self.namespace,
            self.model,
            ints(self.input_tokens),
            ints(self.output_tokens),
            cost,
            decs(self.hours),
            decs(self.idle_share),
        )


def _nonnegative(value: Decimal, what: str, where: str) -> Decimal:
    if value < 0:
        raise InvalidDataError(f"{where}: {what} is negative ({value})")
    return value


def period_charges(figures: PeriodFigures, report_namespace: str, proportional: bool, where: str) -> list[Charge]:
    """Model rows (merged by namespace and model, sorted), the unknown-model residual, the idle charge.

    The residual is what the period holds beyond Σ byModel and idle: tokens without a per-model
    breakdown, or cost without one (a report with no breakdown at all gives one rollup charge).
    Cost residuals within the 6-dp rounding of the stored figures (10⁻⁶ per entry) are noise.
    """
    merged: dict[tuple[str, str], Charge] = {}
    for entry in figures.by_model:
        merged_charge = merged.get((entry.namespace, entry.model))
        share = _share(entry, proportional)
        cost = _nonnegative(entry.estimated_cost_usd, f"byModel {entry.model!r} estimatedCostUSD", where)
        if merged_charge is None:
            merged[(entry.namespace, entry.model)] = Charge(
                MODEL, entry.namespace, entry.model, entry.input_tokens, entry.output_tokens, cost,
                entry.gpu_hours, share,
            )  # fmt: skip
        else:
            merged_charge.input_tokens += entry.input_tokens
            merged_charge.output_tokens += entry.output_tokens
            merged_charge.cost += cost
            if entry.gpu_hours is not None:
                merged_charge.hours = (merged_charge.hours or _ZERO) + entry.gpu_hours
            merged_charge.idle_share = (
                None if share is None or merged_charge.idle_share is None else merged_charge.idle_share + share
            )
    charges = [merged[key] for key in sorted(merged)]
    total = _nonnegative(figures.estimated_cost_usd, "estimatedCostUSD", where)
    idle = _nonnegative(figures.idle_cost_usd, "idleCostUSD", where)
    in_rest = max(0, figures.input_tokens - sum(c.input_tokens for c in charges))
    out_rest = max(0, figures.output_tokens - sum(c.output_tokens for c in charges))
    cost_rest = total - idle - sum((c.cost for c in charges), _ZERO)
    noise = Decimal(len(charges) + 1).scaleb(-6)
    if in_rest or out_rest or cost_rest > noise:
        modelled_hours = sum((c.hours or _ZERO for c in charges), _ZERO)
        rest_hours = figures.gpu_hours - figures.idle_gpu_hours - modelled_hours
        charges.append(
            Charge(
                UNKNOWN, report_namespace, None, in_rest, out_rest, max(cost_rest, _ZERO),
                rest_hours if rest_hours > 0 else None, _ZERO if not proportional else None,
            )
        )  # fmt: skip
    if idle > 0:
        hours = _nonnegative(figures.idle_gpu_hours, "idleGpuHours", where)
        charges.append(Charge(IDLE, report_namespace, None, 0, 0, idle, hours or None, None))
    return charges


def _share(entry: ModelCost, proportional: bool) -> Decimal | None:
    if not proportional:
        return _ZERO
    return entry.idle_cost_usd


# ---------------------------------------------------------------------------------------------------
# rows


class _Report:
    """Per-report constants, formatted once."""

    def __init__(self, report: UsageReport, profile: CostProfile | None, options: ExportOptions) -> None:
        self.namespace = report.metadata.namespace or "default"
        self.name = report.metadata.name
        self.ref = f"{self.namespace}/{self.name}"
        self.cp_name = report.spec.cost_profile_ref
        self.proportional = report.spec.idle_cost_policy == "Proportional"
        self.where = f"UsageReport {self.ref}"
        hw = profile.spec.hardware if profile is not None else None
        el = profile.spec.electricity if profile is not None else None
        self.gpu_model = hw.gpu_model if hw is not None else None
        self.gpu_count = hw.gpu_count if hw is not None else None
        self.gpu_count_text = str(hw.gpu_count) if hw is not None else None
        self.years_text = _fx6(scaled(hw.amortization_years, 6)) if hw is not None else None
        self.rate_text = _fx6(scaled(el.rate_per_kwh, 6)) if el is not None else None
        self.pue_text = _fx6(scaled(el.pue_factor if el.pue_factor > 0 else Decimal(1), 6)) if el else None
        hourly = profile.status.hourly_cost_usd if profile is not None else None
        # Per-GPU hourly rate, for expressing a cost without tokens or measured hours in GPU-hours.
        self.per_gpu_rate = (hourly / self.gpu_count) if hourly and hourly > 0 and self.gpu_count else None
        base_tags: dict[str, object] = {
            "infercost/report": self.ref,
            "infercost/schedule": report.spec.schedule,
            "infercost/costProfile": self.cp_name,
        }
        if self.gpu_model is not None:
            base_tags["infercost/gpuModel"] = self.gpu_model
        self.base_tags = base_tags
        self.tag_cache: dict[str, str] = {}
        gpu_slug = model_slug(self.gpu_model or "") or "unknown"
        self.idle_sku = f"idle-gpu-hours/{gpu_slug}"
        self.idle_resource = f"{options.billing_account_id}/{self.namespace}/costprofiles/{self.cp_name}"
        guard((self.namespace, self.cp_name, self.idle_sku, self.idle_resource), self.where)

    def tags(self, namespace: str, options: ExportOptions) -> str:
        text = self.tag_cache.get(namespace)
        if text is None:
            tags = dict(self.base_tags)
            labels = options.namespace_labels.get(namespace, {})
            for key in options.tag_labels:
                if key in labels and key not in tags:
                    tags[key] = labels[key] if labels[key] != "" else True
            text = json.dumps(tags, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            self.tag_cache[namespace] = text
        return text


def _hours_for(charge: Charge, figures: PeriodFigures, report: _Report, where: str) -> int:
    """GPU-hours (micro) carrying a cost without tokens: measured hours, else cost ÷ a per-GPU rate.

    The rate is the CostProfile's hourlyCostUSD ÷ gpuCount, else the period's own average
    (estimatedCostUSD ÷ gpuHours). Never below 0.000001, so a unit price always exists.
    """
    if charge.hours is not None and charge.hours > 0:
        hours = charge.hours
    elif report.per_gpu_rate is not None:
        hours = _CTX.divide(charge.cost, report.per_gpu_rate)
    elif figures.gpu_hours > 0 and figures.estimated_cost_usd > 0:
        hours = _CTX.divide(_CTX.multiply(charge.cost, figures.gpu_hours), figures.estimated_cost_usd)
    else:
        raise InvalidDataError(
            f"{where}: cost {charge.cost} without tokens or GPU-hours, and no CostProfile rate to express it"
        )
    return max(1, scaled(hours, 6))


def build_focus_rows(sources: Sequence[Source], catalog: PriceCatalog | None, options: ExportOptions) -> Iterator[Row]:
    layout = options.layout
    assert layout.indices is not None
    project: Callable[[Row], Row] | None = None
    if len(layout.indices) != 60:
        getter = operator.itemgetter(*layout.indices)
        project = getter
    pricer = pricer_for(catalog, options.compare_to)
    slugs = build_slug_map(
        m.model for report, _ in sources for figures, _open in report_periods(report) for m in figures.by_model
    )
    for report, profile in sources:
        ctx = _Report(report, profile, options)
        rows = _report_rows(report, ctx, options, pricer, slugs)
        if project is None:
            yield from rows
        else:
            yield from map(project, rows)


def _report_rows(
    report: UsageReport, ctx: _Report, options: ExportOptions, pricer: CloudPricer, slugs: Mapping[str, str]
) -> Iterator[Row]:
    bill_id = options.billing_account_id
    bill_name = clean_text(options.billing_account_name or bill_id)
    provider = clean_text(options.provider_name)
    region_id = options.region_id
    region_name = clean_text(options.region_name or region_id) if region_id is not None else None
    cp_x, gpu_x = clean_text(ctx.cp_name), clean_text(ctx.gpu_model) if ctx.gpu_model is not None else None
    count_x, years_x, rate_x, pue_x = ctx.gpu_count_text, ctx.years_text, ctx.rate_text, ctx.pue_text
    ur_x = clean_text(ctx.ref)
    sku_price_suffix = f"@{ctx.namespace}/{ctx.cp_name}"
    per_model: dict[tuple[str, str | None], tuple[str, str, str, str | None, str | None, str, str]] = {}
    idle_sku_price = ctx.idle_sku + sku_price_suffix
    for figures, is_open in report_periods(report):
        where = f"{ctx.where} period {figures.period}"
        pieces = slices_of(figures, is_open, where)
        chosen = [p for p in pieces if selected(p, options.selection)]
        if not chosen:
            continue
        charges = period_charges(figures, ctx.namespace, ctx.proportional, where)
        label = single_line(figures.period or "")
        offset = 0
        offsets = {}
        for piece in pieces:
            offsets[piece.index] = offset
            offset += piece.seconds
        for piece in chosen:
            cps, cpe = date_time(piece.start), date_time(piece.end)
            bps, bpe = date_time(piece.billing_start), date_time(piece.billing_end)
            before = offsets[piece.index]
            for whole in charges:
                charge = (
                    whole if piece.count == 1 else whole.part(before, before + piece.seconds, piece.total_seconds)
                )
                tokens = charge.input_tokens + charge.output_tokens
                if charge.kind == IDLE:
                    if charge.cost <= 0:
                        continue
                    qm = _hours_for(charge, figures, ctx, where)
                    price = unit_price(charge.cost, qm)
                    billed = _fx12(price * qm)
                    ps, qs = _fx6(price), _fx6(qm)
                    yield (
                        billed, billed, billed, billed, cps, cpe, bps, bpe, "USD", SERVICE_NAME, SERVICE_CATEGORY,
                        bill_id, ps, ps, ctx.idle_resource, qs, "GPU Pool", region_id, qs, GPU_HOURS, GPU_HOURS,
                        "Standard", "Usage", None, None, "Usage-Based", ctx.idle_sku, idle_sku_price, ctx.namespace,
                        ctx.namespace, ctx.tags(ctx.namespace, options), SERVICE_SUBCATEGORY, None,
                        f"Idle GPU capacity, CostProfile {ctx.namespace}/{cp_x}, {label}", bill_name, provider,
                        provider, provider, provider, provider, cp_x, region_name, "Idle GPU Hours", None, cp_x,
                        gpu_x, count_x, None, None, years_x, rate_x, pue_x, None, None, None, None, None, None,
                        ur_x, billed,
                    )  # fmt: skip
                    continue
                if tokens == 0 and charge.cost <= 0:
                    continue
                key = (charge.namespace, charge.model)
                cached = per_model.get(key)
                if cached is None:
                    cached = _model_strings(charge, slugs, bill_id, sku_price_suffix, ctx.where)
                    per_model[key] = cached
                resource_id, sku, sku_price, name_x, model_x, token_desc, gpu_desc = cached
                ns = charge.namespace
                share = charge.idle_share
                idle_x = ZERO12 if share is not None and not share else (_fx12(scaled(share, 12)) if share else None)
                if tokens:
                    price = unit_price(charge.cost, tokens)
                    billed_pico = price * tokens
                    billed = _fx12(billed_pico)
                    ps, qs = _fx6(price), _fx6(tokens)
                    found = pricer.price(charge.input_tokens, charge.output_tokens)
                    if found is None:
                        c_prov = c_model = c_cost = c_sav = c_pct = None
                    else:
                        entry, cloud = found
                        c_prov, c_model = clean_text(entry.provider), clean_text(entry.model)
                        c_cost, c_sav = _fx12(cloud), _fx12(cloud - billed_pico)
                        c_pct = fixed(div_half_even((cloud - billed_pico) * 10000, cloud), 2) if cloud else None
                    yield (
                        billed, billed, billed, billed, cps, cpe, bps, bpe, "USD", SERVICE_NAME, SERVICE_CATEGORY,
                        bill_id, ps, ps, resource_id, qs, "AI Inference Endpoint", region_id, f"{tokens}.000000",
                        "Tokens", TOKEN_UNIT, "Standard", "Usage", None, None, "Usage-Based", sku, sku_price, ns, ns,
                        ctx.tags(ns, options), SERVICE_SUBCATEGORY, None, f"{token_desc}, {label}", bill_name,
                        provider, provider, provider, provider, provider, name_x, region_name, "Tokens", None, cp_x,
                        gpu_x, count_x, str(charge.input_tokens), str(charge.output_tokens), years_x, rate_x, pue_x,
                        c_prov, c_model, c_cost, c_sav, c_pct, model_x, ur_x, idle_x,
                    )  # fmt: skip
                else:
                    qm = _hours_for(charge, figures, ctx, where)
                    price = unit_price(charge.cost, qm)
                    billed = _fx12(price * qm)
                    ps, qs = _fx6(price), _fx6(qm)
                    yield (
                        billed, billed, billed, billed, cps, cpe, bps, bpe, "USD", SERVICE_NAME, SERVICE_CATEGORY,
                        bill_id, ps, ps, resource_id, qs, "AI Inference Endpoint", region_id, qs, GPU_HOURS,
                        GPU_HOURS, "Standard", "Usage", None, None, "Usage-Based", sku, sku_price, ns, ns,
                        ctx.tags(ns, options), SERVICE_SUBCATEGORY, None, f"{gpu_desc}, {label}", bill_name,
                        provider, provider, provider, provider, provider, name_x, region_name, "GPU Hours", None,
                        cp_x, gpu_x, count_x, "0", "0", years_x, rate_x, pue_x, None, None, None, None, None,
                        model_x, ur_x, idle_x,
                    )  # fmt: skip


def _model_strings(
    charge: Charge, slugs: Mapping[str, str], bill_id: str, sku_price_suffix: str, where: str
) -> tuple[str, str, str, str | None, str | None, str, str]:
    """ResourceId, SkuId, SkuPriceId, ResourceName, x_InferModelName and descriptions of a row's model."""
    ns = charge.namespace
    if charge.model is None:
        slug, name_x, model_x = UNKNOWN_MODEL, UNKNOWN_MODEL, None
        shown = f"{UNKNOWN_MODEL} (no per-model breakdown)"
    else:
        slug = slugs.get(charge.model) or build_slug_map([charge.model])[charge.model]
        name_x = model_x = clean_text(charge.model)
        shown = single_line(charge.model)
    resource_id = f"{bill_id}/{ns}/models/{slug}"
    sku_price = slug + sku_price_suffix
    guard((ns, resource_id, slug, sku_price), f"{where} namespace {ns!r}")
    return (
        resource_id,
        slug,
        sku_price,
        name_x,
        model_x,
        f"LLM inference tokens, {shown} in namespace {ns}",
        f"GPU time without tokens, {shown} in namespace {ns}",
    )


def build_legacy_rows(sources: Sequence[Source], catalog: PriceCatalog | None, options: ExportOptions) -> Iterator[Row]:
    """The 44-column ``infercost-v1`` rows (focus.md §4.2); not FOCUS-conformant."""
    for report, profile in sources:
        for figures, is_open in report_periods(report):
            pieces = slices_of(figures, is_open, f"UsageReport {report.metadata.name} period {figures.period}")
            if pieces and any(selected(p, options.selection) for p in pieces):
                yield from legacy_rows(report, profile, figures, catalog, options)
