"""A strict FOCUS checker for our exports: what the official validator does not check.

docs/export-focus.md#validation lists the checks. Independent of the code under test: the expected
columns, formats and enums are written out here from the FOCUS specification (https://focus.finops.org).
``check_csv(text, version)`` / ``check_json`` / ``check_parquet`` return
the records as dicts (text values, None for null) and raise AssertionError listing every problem.
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

# docs/export-focus.md#values-in-detail: the 60 columns of focus-1.3, in order.
FOCUS_13 = [
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ChargePeriodStart", "ChargePeriodEnd",
    "BillingPeriodStart", "BillingPeriodEnd", "BillingCurrency", "ServiceName", "ServiceCategory",
    "BillingAccountId", "ListUnitPrice", "ContractedUnitPrice", "ResourceId", "PricingQuantity", "ResourceType",
    "RegionId", "ConsumedQuantity", "ConsumedUnit", "PricingUnit", "PricingCategory", "ChargeCategory",
    "ChargeClass", "CommitmentDiscountStatus", "ChargeFrequency", "SkuId", "SkuPriceId", "SubAccountId",
    "SubAccountName", "Tags", "ServiceSubcategory", "InvoiceId", "ChargeDescription", "BillingAccountName",
    "ProviderName", "PublisherName", "InvoiceIssuerName", "ServiceProviderName", "HostProviderName",
    "ResourceName", "RegionName", "SkuMeter", "SkuPriceDetails", "x_InferCostProfile", "x_InferGpuModel",
    "x_InferGpuCount", "x_InferTokensInput", "x_InferTokensOutput", "x_InferAmortizationYears",
    "x_InferElectricityRatePerKWh", "x_InferPUEFactor", "x_InferCloudEquivalentProvider",
    "x_InferCloudEquivalentModel", "x_InferCloudEquivalentCostUSD", "x_InferSavingsUSD", "x_InferSavingsPercent",
    "x_InferModelName", "x_InferUsageReport", "x_InferIdleCost",
]  # fmt: skip
# docs/export-focus.md#focus-profiles---focus-version: drop-only profiles.
DROPPED = {
    "1.4": ["ProviderName", "PublisherName", "InvoiceId"],
    "1.3": [],
    "1.2": ["ServiceProviderName", "HostProviderName"],
    "1.1": ["ServiceProviderName", "HostProviderName", "InvoiceId"],
    "1.0": [
        "ServiceProviderName",
        "HostProviderName",
        "InvoiceId",
        "ServiceSubcategory",
        "SkuMeter",
        "SkuPriceDetails",
    ],
}
COUNTS = {"1.4": 57, "1.3": 60, "1.2": 58, "1.1": 57, "1.0": 54}


def profile_columns(version: str) -> list[str]:
    return [c for c in FOCUS_13 if c not in DROPPED[version]]


COSTS = {"BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "x_InferCloudEquivalentCostUSD",
         "x_InferSavingsUSD", "x_InferIdleCost"}  # fmt: skip
SIX_DP = {"ListUnitPrice", "ContractedUnitPrice", "PricingQuantity", "ConsumedQuantity", "x_InferAmortizationYears",
          "x_InferElectricityRatePerKWh", "x_InferPUEFactor"}  # fmt: skip
TWO_DP = {"x_InferSavingsPercent"}
INTEGERS = {"x_InferGpuCount", "x_InferTokensInput", "x_InferTokensOutput"}
DATETIMES = {"ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd"}
JSONS = {"Tags", "SkuPriceDetails"}
NUMERIC = COSTS | SIX_DP | TWO_DP | INTEGERS
NOT_NULL = {
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ChargePeriodStart", "ChargePeriodEnd",
    "BillingPeriodStart", "BillingPeriodEnd", "BillingCurrency", "ServiceName", "ServiceCategory", "BillingAccountId",
    "ChargeCategory", "ChargeFrequency", "InvoiceIssuerName", "ProviderName", "PublisherName", "ServiceProviderName",
    "HostProviderName", "ServiceSubcategory", "BillingAccountName", "PricingQuantity", "PricingUnit",
    "ChargeDescription", "x_InferUsageReport",
}  # fmt: skip
PROVIDERS = ["ProviderName", "PublisherName", "InvoiceIssuerName", "ServiceProviderName", "HostProviderName"]

DECIMAL_RE = {12: re.compile(r"^-?[0-9]+\.[0-9]{12}$"), 6: re.compile(r"^-?[0-9]+\.[0-9]{6}$"),
              2: re.compile(r"^-?[0-9]+\.[0-9]{2}$")}  # fmt: skip
INTEGER_RE = re.compile(r"^-?[0-9]+$")
DATETIME_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
X_NAME_RE = re.compile(r"^x_[A-Z][A-Za-z0-9]{0,47}$")
# A FOCUS unit: optional whole-number quantity, capitalised words joined by '-', optional '/Time'.
UNIT_RE = re.compile(
    r"^(?:[1-9][0-9]* )?[A-Z][A-Za-z]*(?:-[A-Z][A-Za-z]*)*(?:/(?:Year|Month|Day|Hour|Minute|Second))?$"
)
IDENTIFIER_CHARS = re.compile(r"^[A-Za-z0-9._:/@-]*$")

ENUMS: dict[str, set[str | None]] = {
    "ChargeCategory": {"Usage", "Purchase", "Tax", "Credit", "Adjustment"},
    "ChargeClass": {None, "Correction"},
    "ChargeFrequency": {"One-Time", "Recurring", "Usage-Based"},
    "PricingCategory": {None, "Standard", "Dynamic", "Committed", "Other"},
    "CommitmentDiscountStatus": {None, "Used", "Unused"},
    "ServiceCategory": {
        "AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases", "Developer Tools",
        "Multicloud", "Identity", "Integration", "Internet of Things", "Management and Governance", "Media",
        "Migration", "Mobile", "Networking", "Security", "Storage", "Web", "Other",
    },
    "ServiceSubcategory": {"AI Platforms", "Bots", "Generative AI", "Machine Learning", "Natural Language Processing",
                           "Other (AI and Machine Learning)"},
    "BillingCurrency": {"USD"},
}  # fmt: skip
PLACEHOLDERS = {'""', "NULL", "null", "N/A", "Not Applicable", "None"}
INJECTION = ("=", "+", "-", "@", "\t", "\r")


class FocusCheckError(AssertionError):
    pass


def _dt(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"[0-9]+", text))


def _json_object(text: str, where: str, problems: list[str]) -> None:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        if len(keys) != len(set(keys)):
            problems.append(f"{where}: duplicate JSON keys {keys}")
        return dict(items)

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_float=Decimal)
    except ValueError as exc:
        problems.append(f"{where}: not JSON ({exc}): {text!r}")
        return
    if not isinstance(value, dict):
        problems.append(f"{where}: not a JSON object: {text!r}")
        return
    for key, item in value.items():
        if isinstance(item, dict | list):
            problems.append(f"{where}: key {key!r} holds a non-scalar {item!r}")
    if where.startswith("Tags"):
        ours = {"infercost/report", "infercost/schedule", "infercost/costProfile"}
        if not ours <= set(value):
            problems.append(f"{where}: the infercost/ provider tags are missing: {sorted(value)}")
        for key in ("report", "schedule", "costProfile", "gpuModel", "model"):
            if key in value:
                problems.append(f"{where}: provider tag {key!r} without the infercost/ prefix")


def check_header(header: list[str], version: str) -> list[str]:
    problems = []
    expected = profile_columns(version)
    if header != expected:
        problems.append(f"header is not the focus-{version} profile: {header}")
    if len(header) != COUNTS[version]:
        problems.append(f"{len(header)} columns, focus-{version} has {COUNTS[version]}")
    if header[:1] != ["BilledCost"] or header[28:29] != ["SubAccountId"]:
        problems.append("column 1 must be BilledCost and column 29 SubAccountId")
    for name in header:
        if name.startswith("x") and not X_NAME_RE.fullmatch(name):
            problems.append(f"custom column {name!r} does not match ^x_[A-Z][A-Za-z0-9]{{0,47}}$")
    first_custom = next((i for i, n in enumerate(header) if n.startswith("x_")), len(header))
    if any(not n.startswith("x_") for n in header[first_custom:]):
        problems.append("custom columns must follow all FOCUS columns")
    return problems


TextRecord = dict[str, str | None]


def check_record(rec: TextRecord, where: str) -> list[str]:
    """One record (text values, None = null) of any profile."""
    p: list[str] = []
    for name, value in rec.items():
        w = f"{name} at {where}"
        if value is None:
            if name in NOT_NULL:
                p.append(f"{w}: must not be null")
            continue
        _check_value(name, value, w, p)
    for name in ("ChargeClass",):
        if rec.get(name) not in ENUMS[name]:
            p.append(f"{name} at {where}: {rec.get(name)!r} is not allowed")
    if p:
        return p
    for check in (_check_costs, _check_periods, _check_names_and_units, _check_cloud_and_idle):
        check(rec, where, p)
    return p


def _check_value(name: str, value: str, w: str, p: list[str]) -> None:
    """One non-null value: its format for its column, allowed values, safe text."""
    if value in PLACEHOLDERS or value == "":
        p.append(f"{w}: placeholder null {value!r}")
    if name in COSTS and not DECIMAL_RE[12].fullmatch(value):
        p.append(f"{w}: {value!r} is not a 12-dp fixed-point decimal")
    elif name in SIX_DP and not DECIMAL_RE[6].fullmatch(value):
        p.append(f"{w}: {value!r} is not a 6-dp fixed-point decimal")
    elif name in TWO_DP and not DECIMAL_RE[2].fullmatch(value):
        p.append(f"{w}: {value!r} is not a 2-dp fixed-point decimal")
    elif name in INTEGERS and not INTEGER_RE.fullmatch(value):
        p.append(f"{w}: {value!r} is not an integer")
    elif name in DATETIMES and not DATETIME_RE.fullmatch(value):
        p.append(f"{w}: {value!r} is not YYYY-MM-DDTHH:MM:SSZ")
    elif name in JSONS:
        _json_object(value, w, p)
    elif name not in NUMERIC and value.startswith(INJECTION):
        p.append(f"{w}: text {value!r} starts with a spreadsheet formula character")
    if name in ENUMS and value not in ENUMS[name]:
        p.append(f"{w}: {value!r} is not an allowed value")
    if name in ("PricingUnit", "ConsumedUnit") and not UNIT_RE.fullmatch(value):
        p.append(f"{w}: {value!r} is not a FOCUS unit")
    if name in ("BillingAccountId", "RegionId", "SubAccountId", "ResourceId", "SkuId", "SkuPriceId") and not (
        IDENTIFIER_CHARS.fullmatch(value)
    ):
        p.append(f"{w}: identifier {value!r} has characters outside [A-Za-z0-9._:/@-]")


def _check_costs(rec: TextRecord, where: str, p: list[str]) -> None:
    # BilledCost = EffectiveCost (the exact attributed cost); ListCost = ContractedCost = price x quantity,
    # exactly; the two pairs differ by the rounding of the 6-dp unit price only: <= 0.5e-6 x PricingQuantity
    if rec["BilledCost"] != rec["EffectiveCost"] or rec["ListCost"] != rec["ContractedCost"]:
        p.append(f"{where}: EffectiveCost must equal BilledCost and ContractedCost ListCost")
    qty = rec["PricingQuantity"]
    if qty is not None and rec["ListCost"] is not None and rec["BilledCost"] is not None:
        gap = abs(Decimal(rec["BilledCost"]) - Decimal(rec["ListCost"]))
        if gap * 2 > Decimal(qty).scaleb(-6):
            p.append(f"{where}: BilledCost and ListCost differ by {gap}, more than the unit price's rounding")
    for price, cost in (("ListUnitPrice", "ListCost"), ("ContractedUnitPrice", "ContractedCost")):
        if rec.get(price) is None:
            continue
        assert qty is not None and rec[price] is not None and rec[cost] is not None
        product = Decimal(rec[price]) * Decimal(qty)  # type: ignore[arg-type]
        if product != Decimal(rec[cost]):  # type: ignore[arg-type]
            p.append(f"{where}: {cost} {rec[cost]} != {price} {rec[price]} x PricingQuantity {qty} = {product}")
    if Decimal(rec["BilledCost"] or "0") < 0:
        p.append(f"{where}: negative BilledCost")


def _check_periods(rec: TextRecord, where: str, p: list[str]) -> None:
    cps, cpe, bps, bpe = (rec[c] or "" for c in ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart",
                                                   "BillingPeriodEnd"))  # fmt: skip
    if not cps < cpe:
        p.append(f"{where}: ChargePeriodStart {cps} is not before ChargePeriodEnd {cpe}")
    if not (bps <= cps and cpe <= bpe):
        p.append(f"{where}: charge period {cps}..{cpe} is not within the billing period {bps}..{bpe}")
    y, m = _dt(bps)[:2]
    if bps != f"{y:04d}-{m:02d}-01T00:00:00Z":
        p.append(f"{where}: BillingPeriodStart {bps} is not the 1st of a month")
    ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
    if bpe != f"{ny:04d}-{nm:02d}-01T00:00:00Z":
        p.append(f"{where}: BillingPeriodEnd {bpe} is not the 1st of the next month")


def _check_names_and_units(rec: TextRecord, where: str, p: list[str]) -> None:
    qty = rec["PricingQuantity"]
    providers = {rec[c] for c in PROVIDERS if c in rec}
    if len(providers) != 1:
        p.append(f"{where}: provider names differ: {providers}")
    if (rec.get("RegionId") is None) != (rec.get("RegionName") is None):
        p.append(f"{where}: RegionName must be null exactly when RegionId is")
    if rec.get("SubAccountName") != rec.get("SubAccountId"):
        p.append(f"{where}: SubAccountName differs from SubAccountId")
    units = (rec.get("PricingUnit"), rec.get("ConsumedUnit"))
    if units not in (("1000000 Tokens", "Tokens"), ("GPU-Hours", "GPU-Hours")):
        p.append(f"{where}: unexpected units {units}")
    if units[0] == "1000000 Tokens":
        tokens = int(rec["x_InferTokensInput"] or 0) + int(rec["x_InferTokensOutput"] or 0)
        if Decimal(rec["ConsumedQuantity"] or "0") != tokens or Decimal(qty or "0") * 1000000 != tokens:
            p.append(f"{where}: quantities do not match {tokens} tokens")
    elif rec.get("ConsumedQuantity") != qty:
        p.append(f"{where}: GPU-Hours ConsumedQuantity differs from PricingQuantity")


def _check_cloud_and_idle(rec: TextRecord, where: str, p: list[str]) -> None:
    if rec.get("x_InferCloudEquivalentCostUSD") is not None:
        saving = Decimal(rec["x_InferCloudEquivalentCostUSD"] or "0") - Decimal(rec["BilledCost"] or "0")
        if Decimal(rec["x_InferSavingsUSD"] or "0") != saving:
            p.append(f"{where}: x_InferSavingsUSD is not cloud cost minus BilledCost")
        cloud, saving_text = Decimal(rec["x_InferCloudEquivalentCostUSD"] or "0"), rec["x_InferSavingsUSD"] or "0"
        if cloud and Decimal(rec["x_InferSavingsPercent"] or "0") != (Decimal(saving_text) * 100 / cloud).quantize(
            Decimal("0.01")
        ):
            p.append(f"{where}: x_InferSavingsPercent is not savings / cloud cost x 100 at 2 dp")
    if rec.get("ResourceType") == "GPU Pool":  # idle rows, docs/export-focus.md#idle-rows
        if rec.get("x_InferIdleCost") != rec["BilledCost"]:
            p.append(f"{where}: idle row x_InferIdleCost differs from BilledCost")
        for name in ("x_InferTokensInput", "x_InferTokensOutput", "x_InferModelName", "x_InferCloudEquivalentCostUSD"):
            if rec.get(name) is not None:
                p.append(f"{where}: idle row {name} must be null")


def _raise(problems: list[str]) -> None:
    if problems:
        shown = "\n  ".join(problems[:40])
        raise FocusCheckError(f"{len(problems)} FOCUS problem(s):\n  {shown}")


def check_records(header: list[str], records: list[dict[str, str | None]], version: str) -> None:
    problems = check_header(header, version)
    for i, rec in enumerate(records, start=2):
        if list(rec) != header:
            problems.append(f"record {i}: keys differ from the header")
            continue
        problems += check_record(rec, f"record {i}")
    problems += check_skus(records)
    _raise(problems)


def check_skus(records: list[dict[str, str | None]]) -> list[str]:
    """Across rows: a SkuPriceId has one SkuId (SkuPriceId-C-008-M), one PricingUnit and one SkuMeter."""
    seen: dict[str, tuple[str | None, ...]] = {}
    problems = []
    for rec in records:
        price_id = rec.get("SkuPriceId")
        if price_id is None:
            continue
        shape = (rec.get("SkuId"), rec.get("PricingUnit"), rec.get("SkuMeter"))
        if seen.setdefault(price_id, shape) != shape:
            problems.append(f"SkuPriceId {price_id}: {seen[price_id]} and {shape} (SkuId, PricingUnit, SkuMeter)")
    return problems


def check_csv(text: str, version: str) -> list[dict[str, str | None]]:
    """Check a CSV export byte-level and value-level; returns the records."""
    problems = []
    if text.startswith("\ufeff"):
        problems.append("file starts with a BOM")
    if "\r" in text:
        problems.append("file holds CR characters (line ends must be LF)")
    if not text.endswith("\n"):
        problems.append("file does not end with a line feed")
    lines = text.split("\n")[:-1]
    # Fields 1-29 never need quoting: the raw line split on commas gives the values of columns 1-29.
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if len(lines) != len(rows):
        problems.append(f"{len(lines)} lines but {len(rows)} CSV records: a record spans several lines")
    for number, (line, row) in enumerate(zip(lines, rows, strict=False), start=1):
        raw = line.split(",")[:29]
        if raw != row[:29]:
            problems.append(f"line {number}: fields 1-29 are not comma-safe: {raw} vs {row[:29]}")
        if any('"' in f or "\r" in f or "\n" in f for f in row[:29]):
            problems.append(f"line {number}: a quote or line break in fields 1-29")
    _raise(problems)
    header, body = rows[0], rows[1:]
    records = [{k: (v if v != "" else None) for k, v in zip(header, row, strict=True)} for row in body]
    check_records(header, records, version)
    return records


class _Number(str):
    """The literal text of a JSON number (so numbers and strings stay distinguishable)."""


def _json_record(i: int, raw: dict[str, Any], problems: list[str]) -> TextRecord:
    """A JSON record as text values (nested objects as compact JSON), its type problems added to ``problems``."""
    rec: TextRecord = {}
    for key, value in raw.items():
        if key in JSONS and value is not None:
            if not isinstance(value, dict):
                problems.append(f"record {i}: {key} is not a nested object")
            rec[key] = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        elif key in NUMERIC and value is not None and not isinstance(value, _Number):
            problems.append(f"record {i}: {key} is not a JSON number: {value!r}")
        elif key not in NUMERIC and value is not None and not isinstance(value, str | _Number):
            problems.append(f"record {i}: {key} is not a string: {value!r}")
        elif key not in NUMERIC and isinstance(value, _Number):
            problems.append(f"record {i}: {key} is a number, expected a string: {value!r}")
        else:
            rec[key] = None if value is None else str(value)
    return rec


def check_json(text: str, version: str, csv_text: str | None = None) -> list[dict[str, str | None]]:
    """Check the JSON envelope; numbers must be JSON numbers whose text equals the CSV text."""
    doc = json.loads(text, parse_float=_Number, parse_int=_Number)
    problems = []
    if not isinstance(doc.get("records"), list):
        _raise(["no records list"])
    if doc.get("focus_version") != version or doc.get("layout") != f"focus-{version}":
        problems.append(f"envelope says {doc.get('focus_version')!r} / {doc.get('layout')!r}")
    if not str(doc.get("generator", "")).startswith("kubectl-infercost/"):
        problems.append("generator missing")
    header = profile_columns(version)
    records = [_json_record(i, raw, problems) for i, raw in enumerate(doc["records"])]
    _raise(problems)
    # numbers arrive as their literal text (parse_float=str): compare with CSV text exactly
    if csv_text is not None:
        csv_records = list(csv.DictReader(io.StringIO(csv_text, newline="")))
        assert len(csv_records) == len(records)
        for i, (a, b) in enumerate(zip(records, csv_records, strict=True)):
            for key in header:
                if key in JSONS:
                    continue
                if (a[key] or "") != b[key]:
                    problems.append(f"record {i}: {key} JSON {a[key]!r} != CSV {b[key]!r}")
    _raise(problems)
    check_records(header, records, version)
    return records


def _parquet_expected(name: str) -> str:
    if name in COSTS:
        return "decimal128(38, 12)"
    if name in SIX_DP:
        return "decimal128(38, 6)"
    if name in TWO_DP:
        return "decimal128(38, 2)"
    if name in INTEGERS:
        return "int64"
    if name in DATETIMES:
        return "timestamp[us, tz=UTC]"
    return "string"


def check_parquet(path: str | Path, version: str) -> list[dict[str, str | None]]:
    """Types per docs/export-focus.md#formats (all-null columns keep their type), then the value checks."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    problems = []
    header = table.schema.names
    for field in table.schema:
        if str(field.type) != _parquet_expected(field.name):
            problems.append(f"Parquet column {field.name}: {field.type}, expected {_parquet_expected(field.name)}")
    _raise(problems)
    records: list[dict[str, str | None]] = []
    columns = {name: table.column(name).to_pylist() for name in header}
    for i in range(table.num_rows):
        rec: dict[str, str | None] = {}
        for name in header:
            value = columns[name][i]
            if value is None:
                rec[name] = None
            elif name in DATETIMES:
                rec[name] = value.strftime("%Y-%m-%dT%H:%M:%SZ")
            elif isinstance(value, Decimal):
                rec[name] = format(value, "f")
            else:
                rec[name] = str(value)
        records.append(rec)
    check_records(list(header), records, version)
    return records


# ---------------------------------------------------------------------------------------------------
# sample data shared by the writer, pipeline and validator tests


def sample_sources() -> list[tuple[Any, Any]]:
    """Three reports covering every row kind, hostile model names and a week crossing a month.

    * infercost/daily (Separate idle): history 2026-04-29, 2026-04-30, current 2026-05-01 (open).
    * ml/weekly (Proportional idle): history 2026-W18 (Apr 27 - May 4, split at May 1), current 2026-W19.
    * ops/monthly: current 2026-04 with tokens but no per-model breakdown (one rollup row).
    """
    from kubectl_infercost.models import CostProfile, UsageReport

    def cp(ns: str, hourly: str) -> CostProfile:
        return CostProfile.model_validate(
            {
                "metadata": {"name": "h100", "namespace": ns},
                "spec": {
                    "hardware": {"gpuModel": "NVIDIA H100 80GB HBM3", "gpuCount": 8, "purchasePriceUSD": 240000,
                                 "amortizationYears": 4},
                    "electricity": {"ratePerKWh": "0.10", "pueFactor": "1.5"},
                },
                "status": {"hourlyCostUSD": hourly},
            }
        )  # fmt: skip

    def day(label: str, start: str, end: str, models: list[dict[str, Any]], idle: str, idle_h: str) -> dict[str, Any]:
        cost = sum((Decimal(m["estimatedCostUSD"]) for m in models), Decimal(idle))
        return {
            "period": label, "periodStart": start, "periodEnd": end,
            "inputTokens": sum(m.get("inputTokens", 0) for m in models),
            "outputTokens": sum(m.get("outputTokens", 0) for m in models),
            "estimatedCostUSD": str(cost), "idleCostUSD": idle, "idleGpuHours": idle_h, "gpuHours": "192",
            "byModel": models,
        }  # fmt: skip

    def m(model: str, ns: str, inp: int, out: int, cost: str, **extra: Any) -> dict[str, Any]:
        return {"model": model, "namespace": ns, "inputTokens": inp, "outputTokens": out, "estimatedCostUSD": cost,
                **extra}  # fmt: skip

    daily = UsageReport.model_validate(
        {
            "metadata": {"name": "daily", "namespace": "infercost"},
            "spec": {"costProfileRef": "h100", "schedule": "daily"},
            "status": {
                **day("2026-05-01", "2026-05-01T00:00:00Z", "2026-05-01T09:30:00.400Z", [
                    m("meta-llama/Llama-3.1-8B-Instruct", "team-a", 400000, 400000, "7.055342"),
                    m("Qwen/Qwen2.5-72B", "team-b", 123457, 0, "1.000001"),
                ], "0", "0"),
                "history": [
                    day("2026-04-30", "2026-04-30T00:00:00Z", "2026-05-01T00:00:00Z", [
                        m('evil,"model"\n=HYPERLINK("x")', "team-a", 1000000, 0, "1.25"),
                        m("+cmd|' /C calc'!A0", "team-a", 500000, 500000, "2.5"),
                        m("-2+3", "team-a", 250000, 0, "0.75"),
                        m("@SUM(1,2)", "team-b", 2000000, 2000000, "10"),
                        m("\ttabbed", "team-b", 100000, 0, "0.5"),
                    ], "3", "1.5"),
                    day("2026-04-29", "2026-04-29T00:00:00Z", "2026-04-30T00:00:00Z", [
                        m("meta-llama/Llama-3.1-8B-Instruct", "team-a", 3000000, 1000000, "12.34"),
                        m("warm-pool", "team-b", 0, 0, "3.75", gpuHours="1.5"),
                    ], "10", "3"),
                ],
            },
        }
    )  # fmt: skip
    week18 = day("2026-W18", "2026-04-27T00:00:00Z", "2026-05-04T00:00:00Z", [
        m("mistral-7b", "ml", 700000, 0, "14", idleCostUSD="2.8"),
    ], "0", "0")  # fmt: skip
    weekly = UsageReport.model_validate(
        {
            "metadata": {"name": "weekly", "namespace": "ml"},
            "spec": {"costProfileRef": "h100", "schedule": "weekly", "idleCostPolicy": "Proportional"},
            "status": {
                **day("2026-W19", "2026-05-04T00:00:00Z", "2026-05-05T00:00:00Z", [
                    m("mistral-7b", "ml", 1000000, 0, "2", idleCostUSD="0.5"),
                ], "0", "0"),
                "history": [week18],
            },
        }
    )  # fmt: skip
    monthly = UsageReport.model_validate(
        {
            "metadata": {"name": "monthly", "namespace": "ops"},
            "spec": {"costProfileRef": "missing-profile", "schedule": "monthly"},
            "status": {
                "period": "2026-04", "periodStart": "2026-04-01T00:00:00Z", "periodEnd": "2026-04-03T00:00:00Z",
                "inputTokens": 1500000, "outputTokens": 500000, "estimatedCostUSD": "3", "gpuHours": "384",
            },
        }
    )  # fmt: skip
    return [(daily, cp("infercost", "20")), (weekly, cp("ml", "16")), (monthly, None)]


def sample_rows(
    version: str = "1.3", columns: str | None = None, sources: list[Any] | None = None, **options: Any
) -> tuple[Any, list[Any]]:
    """(layout, rows) of the sample (or ``sources``) with a fixed catalog (two entries) and account ``envtest``."""
    from datetime import date

    from kubectl_infercost.core.cloud import PriceCatalog, PriceEntry
    from kubectl_infercost.core.focus import ExportOptions, build_rows, layout_for

    catalog = PriceCatalog(
        (
            PriceEntry(
                "alpha", "a-1", "standard", Decimal("1.00"), Decimal("2.00"), "https://a.test", date(2026, 1, 1)
            ),
            PriceEntry("beta", "b-1", "standard", Decimal("0.50"), Decimal("4.00"), "https://b.test", date(2026, 1, 1)),
        ),
        date(2026, 1, 1),
        "test",
    )
    opts = ExportOptions(layout=layout_for(version, columns), billing_account_id="envtest", **options)
    return opts.layout, list(build_rows(sample_sources() if sources is None else sources, catalog, opts))
