"""FOCUS column layouts: the four version profiles and the legacy ``infercost-v1`` layout.

PURE. docs/export-focus.md#layouts describes them: the 60 columns of ``focus-1.3``, the drop-only
profiles 1.2, 1.1, 1.0 (1.4 drops the columns it removed) and the 44 columns of the old exporter's
``infercost-v1``. A row is a tuple of already-formatted values (``str`` or ``None`` for null) in the
layout's column order; the column *kind* tells a writer how to type a value (JSON number or string, Parquet type).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

Row = tuple[str | None, ...]


class Kind(enum.Enum):
    """How a column's text is typed by the JSON and Parquet writers (docs/export-focus.md#formats)."""

    COST = "cost"  # fixed-point, 12 dp; Parquet decimal128(38,12)
    PRICE = "price"  # fixed-point, 6 dp; Parquet decimal128(38,6)
    QUANTITY = "quantity"  # fixed-point, 6 dp; Parquet decimal128(38,6)
    PERCENT = "percent"  # fixed-point, 2 dp; Parquet decimal128(38,2)
    COUNT = "count"  # integer; Parquet int64
    DATETIME = "datetime"  # YYYY-MM-DDTHH:MM:SSZ; Parquet timestamp[us, tz=UTC]
    STRING = "string"  # Parquet string
    JSON = "json"  # a compact JSON object; a nested object in JSON output, text in Parquet
    NUMBER = "number"  # legacy free-form number (%.4f, shortest form); JSON number, no Parquet type

    @property
    def numeric(self) -> bool:
        return self in _NUMERIC


_NUMERIC = frozenset({Kind.COST, Kind.PRICE, Kind.QUANTITY, Kind.PERCENT, Kind.COUNT, Kind.NUMBER})

#: Decimal places written for each fixed-point kind.
SCALE = {Kind.COST: 12, Kind.PRICE: 6, Kind.QUANTITY: 6, Kind.PERCENT: 2}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind


@dataclass(frozen=True)
class Layout:
    """A column layout. ``indices`` are positions in the full ``focus-1.3`` row (None for legacy)."""

    name: str  # focus-1.3 | focus-1.2 | focus-1.1 | focus-1.0 | infercost-v1
    focus_version: str | None  # "1.3" ... "1.0"; None for the legacy layout (not FOCUS-conformant)
    columns: tuple[Column, ...]
    indices: tuple[int, ...] | None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def conformant(self) -> bool:
        return self.focus_version is not None

    def index(self, name: str) -> int:
        return self.names.index(name)


C, P, Q, PCT, N, T, S, J = (
    Kind.COST,
    Kind.PRICE,
    Kind.QUANTITY,
    Kind.PERCENT,
    Kind.COUNT,
    Kind.DATETIME,
    Kind.STRING,
    Kind.JSON,
)

#: The default layout, docs/export-focus.md#values-in-detail, in order. Columns 1-31 are common to every profile.
FOCUS_13_COLUMNS: tuple[Column, ...] = tuple(
    Column(name, kind)
    for name, kind in (
        ("BilledCost", C),  # 1
        ("EffectiveCost", C),
        ("ListCost", C),
        ("ContractedCost", C),
        ("ChargePeriodStart", T),  # 5
        ("ChargePeriodEnd", T),
        ("BillingPeriodStart", T),
        ("BillingPeriodEnd", T),
        ("BillingCurrency", S),
        ("ServiceName", S),  # 10
        ("ServiceCategory", S),
        ("BillingAccountId", S),
        ("ListUnitPrice", P),
        ("ContractedUnitPrice", P),
        ("ResourceId", S),  # 15
        ("PricingQuantity", Q),
        ("ResourceType", S),
        ("RegionId", S),
        ("ConsumedQuantity", Q),
        ("ConsumedUnit", S),  # 20
        ("PricingUnit", S),
        ("PricingCategory", S),
        ("ChargeCategory", S),
        ("ChargeClass", S),
        ("CommitmentDiscountStatus", S),  # 25
        ("ChargeFrequency", S),
        ("SkuId", S),
        ("SkuPriceId", S),
        ("SubAccountId", S),  # 29
        ("SubAccountName", S),  # 30
        ("Tags", J),
        ("ServiceSubcategory", S),
        ("InvoiceId", S),
        ("ChargeDescription", S),
        ("BillingAccountName", S),  # 35
        ("ProviderName", S),
        ("PublisherName", S),
        ("InvoiceIssuerName", S),
        ("ServiceProviderName", S),
        ("HostProviderName", S),  # 40
        ("ResourceName", S),
        ("RegionName", S),
        ("SkuMeter", S),
        ("SkuPriceDetails", J),
        ("x_InferCostProfile", S),  # 45
        ("x_InferGpuModel", S),
        ("x_InferGpuCount", N),
        ("x_InferTokensInput", N),
        ("x_InferTokensOutput", N),
        ("x_InferAmortizationYears", Q),  # 50
        ("x_InferElectricityRatePerKWh", P),
        ("x_InferPUEFactor", Q),
        ("x_InferCloudEquivalentProvider", S),
        ("x_InferCloudEquivalentModel", S),
        ("x_InferCloudEquivalentCostUSD", C),  # 55
        ("x_InferSavingsUSD", C),
        ("x_InferSavingsPercent", PCT),
        ("x_InferModelName", S),
        ("x_InferUsageReport", S),
        ("x_InferIdleCost", C),  # 60
    )
)

#: Columns each older profile drops (cumulatively), docs/export-focus.md#focus-profiles---focus-version.
_DROPS: dict[str, tuple[str, ...]] = {
    # 1.4 (ratified June 2026) removes ProviderName and PublisherName and makes InvoiceId conditional:
    # there are no invoices on-prem, so the column is left out rather than written all null.
    "1.4": ("ProviderName", "PublisherName", "InvoiceId"),
    "1.3": (),
    "1.2": ("ServiceProviderName", "HostProviderName"),
    "1.1": ("ServiceProviderName", "HostProviderName", "InvoiceId"),
    "1.0": (
        "ServiceProviderName",
        "HostProviderName",
        "InvoiceId",
        "ServiceSubcategory",
        "SkuMeter",
        "SkuPriceDetails",
    ),
}
FOCUS_VERSIONS: tuple[str, ...] = ("1.0", "1.1", "1.2", "1.3", "1.4")
#: The newest profile the official validator passes (its 1.2 rule model: 1.4 has no ProviderName).
DEFAULT_FOCUS_VERSION = "1.3"
LEGACY = "infercost-v1"



def _profile(version: str) -> Layout:
    dropped = set(_DROPS[version])
    keep = tuple(i for i, c in enumerate(FOCUS_13_COLUMNS) if c.name not in dropped)
    return Layout(f"focus-{version}", version, tuple(FOCUS_13_COLUMNS[i] for i in keep), keep)


# The legacy layout (docs/export-focus.md#legacy-infercost-v1---columns-infercost-v1):
# names and order exactly as the old tool wrote them.
NUM = Kind.NUMBER
LEGACY_COLUMNS: tuple[Column, ...] = tuple(
    Column(name, kind)
    for name, kind in (
        ("BilledCost", NUM),
        ("EffectiveCost", NUM),
        ("ListCost", NUM),
        ("ContractedCost", NUM),
        ("ChargePeriodStart", T),
        ("ChargePeriodEnd", T),
        ("BillingPeriodStart", T),
        ("BillingPeriodEnd", T),
        ("Currency", S),
        ("ServiceName", S),
        ("ServiceCategory", S),
        ("ProviderName", S),
        ("PublisherName", S),
        ("InvoiceIssuerName", S),
        ("ResourceId", S),
        ("ResourceName", S),
        ("ResourceType", S),
        ("Region", S),
        ("UsageQuantity", N),
        ("UsageUnit", S),
        ("PricingUnit", S),
        ("PricingCategory", S),
        ("ChargeCategory", S),
        ("ChargeClass", S),
        ("ChargeDescription", S),
        ("ChargeFrequency", S),
        ("SkuId", S),
        ("SkuPriceId", S),
        ("SubAccountId", S),
        ("SubAccountName", S),
        ("Tags", J),
        ("x-InferCostProfile", S),
        ("x-InferGpuModel", S),
        ("x-InferGpuCount", N),
        ("x-InferTokensInput", N),
        ("x-InferTokensOutput", N),
        ("x-InferAmortizationYears", NUM),
        ("x-InferElectricityRatePerKWh", NUM),
        ("x-InferPUEFactor", NUM),
        ("x-InferCloudEquivalentProvider", S),
        ("x-InferCloudEquivalentModel", S),
        ("x-InferCloudEquivalentCostUSD", NUM),
        ("x-InferSavingsUSD", NUM),
        ("x-InferSavingsPercent", NUM),
    )
)

LAYOUTS: dict[str, Layout] = {f"focus-{v}": _profile(v) for v in reversed(FOCUS_VERSIONS)}
LAYOUTS[LEGACY] = Layout(LEGACY, None, LEGACY_COLUMNS, None)


def layout_for(focus_version: str = DEFAULT_FOCUS_VERSION, columns: str | None = None) -> Layout:
    """The layout of ``--focus-version`` / ``--columns`` (``infercost-v1`` wins over the version)."""
    if columns is not None:
        if columns != LEGACY:
            raise ValueError(f"unknown column layout {columns!r} (known: {LEGACY})")
        return LAYOUTS[LEGACY]
    if focus_version not in FOCUS_VERSIONS:
        raise ValueError(f"unknown FOCUS version {focus_version!r} (known: {', '.join(FOCUS_VERSIONS)})")
    return LAYOUTS[f"focus-{focus_version}"]
