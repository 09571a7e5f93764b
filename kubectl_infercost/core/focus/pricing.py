"""Exact fixed-point helpers and the cloud-equivalent pricer of the FOCUS rows (docs/export-focus.md#arithmetic-exact).

PURE. Amounts are integers in fixed units: micro (10⁻⁶) for prices and quantities, pico (10⁻¹²) for
costs. Rounding is half-even and happens once, on the unit price; products are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from ..cloud import PriceCatalog, PriceEntry
from .errors import OptionError

MICROS_PER_UNIT = 10**6  # integer micro-units (10⁻⁶) in one unit
PICOS_PER_UNIT = 10**12  # integer pico-units (10⁻¹²) in one unit

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
    whole, frac = divmod(abs(value), 10**scale)
    return f"{'-' if value < 0 else ''}{whole}.{frac:0{scale}d}"


# The formatters below are on the hot path of the row builder: slicing the integer's digits is about
# twice as fast as ``f"{whole}.{frac:012d}"`` and gives the same text.


def fx12(value: int) -> str:
    """Pico-units as fixed-point text with 12 decimals (``fixed(value, 12)``)."""
    if value >= PICOS_PER_UNIT or value <= -PICOS_PER_UNIT:
        text = str(value)
        return f"{text[:-12]}.{text[-12:]}"
    if value >= 0:
        return "0." + str(value + PICOS_PER_UNIT)[1:]
    return "-0." + str(PICOS_PER_UNIT - value)[1:]


def fx6(value: int) -> str:
    """Micro-units as fixed-point text with 6 decimals (``fixed(value, 6)``)."""
    if value >= MICROS_PER_UNIT or value <= -MICROS_PER_UNIT:
        text = str(value)
        return f"{text[:-6]}.{text[-6:]}"
    if value >= 0:
        return "0." + str(value + MICROS_PER_UNIT)[1:]
    return "-0." + str(MICROS_PER_UNIT - value)[1:]


def fx2(value: int) -> str:
    """Hundredths as fixed-point text with 2 decimals (``fixed(value, 2)``)."""
    if value >= 100 or value <= -100:
        text = str(value)
        return f"{text[:-2]}.{text[-2:]}"
    if value >= 0:
        return "0." + str(value + 100)[1:]
    return "-0." + str(100 - value)[1:]


def scaled(value: Decimal, scale: int) -> int:
    """``value`` in 10⁻ˢᶜᵃˡᵉ units, rounded half-even."""
    num, den = value.as_integer_ratio()
    return div_half_even(num * 10**scale, den)


def unit_price(cost: Decimal, quantity_micro: int) -> int:
    """cost ÷ quantity in micro-dollars, half-even, from the exact cost (no double rounding)."""
    num, den = cost.as_integer_ratio()
    return div_half_even(num * PICOS_PER_UNIT, den * quantity_micro)


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
        #: The non-dominated entries as (input price, output price, entry), prices in 10⁻ᵖˡᵃᶜᵉˢ dollars per
        #: million tokens; the row builder inlines :meth:`price` with these.
        self.front: tuple[tuple[int, int, PriceEntry], ...] = tuple(front)
        #: value × ``multiplier`` is the cost in pico-dollars (None: divide by ``divisor``, half-even).
        self.multiplier: int | None = 10 ** (6 - places) if places <= 6 else None
        self.divisor = 10 ** max(0, places - 6)

    def price(self, input_tokens: int, output_tokens: int) -> tuple[PriceEntry, int] | None:
        """(entry, cloud cost in pico-dollars) for the mix, or None without a catalog."""
        best: PriceEntry | None = None
        best_value = 0
        for a, b, entry in self._front:
            value = input_tokens * a + output_tokens * b
            if best is None or value < best_value:
                best, best_value = entry, value
        if best is None:
            return None
        # cost = value / 10^places / 10^6 dollars = value × 10^(6 - places) pico-dollars
        shift = 6 - self._places
        return best, (best_value * 10**shift if shift >= 0 else div_half_even(best_value, 10**-shift))


def _exp(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def pricer_for(catalog: PriceCatalog | None, compare_to: tuple[str, str] | None) -> CloudPricer:
    entries = list(catalog.entries) if catalog is not None else []
    if compare_to is not None:
        provider, model = (part.casefold() for part in compare_to)
        matching = [e for e in entries if e.provider.casefold() == provider and e.model.casefold() == model]
        if not matching:
            known = ", ".join(f"{e.provider}/{e.model}" for e in entries[:12])
            more = ", ..." if len(entries) > 12 else ""
            raise OptionError(
                "compare_to",
                f"{compare_to[0]}/{compare_to[1]}",
                "not in the price catalog" + (f" (known: {known}{more})" if known else ""),
            )
        standard = [e for e in matching if e.tier.casefold() == "standard"]
        entries = (standard or matching)[:1]
    return CloudPricer(entries)
