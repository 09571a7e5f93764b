"""Cloud comparison (docs/report.md#cloud-prices): the price catalog, cloud-equivalent cost, savings, break-even.

PURE: the catalog arrives as an already-parsed mapping (``pricing.py`` reads files and ConfigMaps).
Every price is a :class:`~decimal.Decimal` parsed from its text; cost arithmetic is exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal, InvalidOperation, localcontext
from typing import Any

from ..errors import InvalidDataError

MILLION = Decimal(1_000_000)
DEFAULT_TIER = "standard"
CURRENCY = "USD"
# Enough digits that token counts (up to ~1e20) times prices stay exact.
_PREC = 60


@dataclass(frozen=True)
class PriceEntry:
    """One cloud model's public list price, USD per 1,000,000 tokens."""

    provider: str
    model: str
    tier: str
    input_per_million: Decimal
    output_per_million: Decimal
    source: str
    last_verified: date


@dataclass(frozen=True)
class PriceCatalog:
    """A validated catalog: entries sorted by (provider, model, tier); ``source`` says where it came from."""

    entries: tuple[PriceEntry, ...]
    last_verified: date
    source: str
    currency: str = CURRENCY

    def age_days(self, today: date) -> int:
        """Whole days between the catalog's lastVerified date and ``today`` (never negative)."""
        return max(0, (today - self.last_verified).days)


@dataclass(frozen=True)
class Comparison:
    """The same token volume priced at one cloud model, against the on-prem cost."""

    provider: str
    model: str
    tier: str
    cloud_cost_usd: Decimal
    onprem_cost_usd: Decimal
    savings_usd: Decimal
    savings_percent: Decimal
    entry: PriceEntry


# ---------------------------------------------------------------------------------------------------
# parsing and validation


def _fail(source: str, where: str, message: str) -> InvalidDataError:
    return InvalidDataError(f"price catalog {source}: {where}: {message}")


def _date(value: Any, source: str, where: str, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _fail(source, where, f"{field} must be a date (YYYY-MM-DD), got {value!r}")


def _price(value: Any, source: str, where: str, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise _fail(source, where, f"{field} must be a decimal number, got {value!r}")
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        raise _fail(source, where, f"{field} must be a decimal number, got {value!r}") from None
    if not price.is_finite():
        raise _fail(source, where, f"{field} must be a finite number, got {value!r}")
    if price < 0:
        raise _fail(source, where, f"{field} must not be negative, got {value!r}")
    return price


def _text(entry: Mapping[str, Any], field: str, source: str, where: str, default: str | None = None) -> str:
    value = entry.get(field)
    if value is None and default is not None:
        return default
    if value is None:
        raise _fail(source, where, f"missing required field {field}")
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, where, f"{field} must be a non-empty string, got {value!r}")
    return value.strip()


def parse_catalog(doc: Mapping[str, Any], source: str) -> PriceCatalog:
    """Validate a catalog document (the YAML of ``data/cloud-pricing.yaml``, already parsed).

    Top level: ``lastVerified`` (date, required), ``currency`` (``USD`` if given), ``entries`` (list).
    Per entry: ``provider``, ``model``, ``inputPerMillion``, ``outputPerMillion``, ``source`` are
    required; ``tier`` defaults to ``standard`` and ``lastVerified`` to the top-level date. Prices are
    non-negative finite decimals (parsed as ``Decimal(str(v))``); (provider, model, tier) is unique,
    compared case-insensitively. Errors raise :class:`InvalidDataError` naming ``source``, the entry
    (index, provider, model) and the field.
    """
    if not isinstance(doc, Mapping):
        raise InvalidDataError(f"price catalog {source}: expected a mapping at the top level")
    if "lastVerified" not in doc:
        raise _fail(source, "top level", "missing required field lastVerified")
    catalog_date = _date(doc["lastVerified"], source, "top level", "lastVerified")
    currency = doc.get("currency", CURRENCY)
    if currency != CURRENCY:
        raise _fail(source, "top level", f"currency must be {CURRENCY}, got {currency!r}")
    raw_entries = doc.get("entries")
    if raw_entries is None:
        raise _fail(source, "top level", "missing required field entries")
    if not isinstance(raw_entries, list):
        raise _fail(source, "top level", "entries must be a list")

    entries: list[PriceEntry] = []
    seen: dict[tuple[str, str, str], int] = {}
    for index, raw in enumerate(raw_entries):
        where = f"entries[{index}]"
        if not isinstance(raw, Mapping):
            raise _fail(source, where, "must be a mapping")
        provider = _text(raw, "provider", source, where)
        model = _text(raw, "model", source, where)
        where = f"entries[{index}] ({provider}/{model})"
        tier = _text(raw, "tier", source, where, default=DEFAULT_TIER)
        prices = []
        for field in ("inputPerMillion", "outputPerMillion"):
            if raw.get(field) is None:
                raise _fail(source, where, f"missing required field {field}")
            prices.append(_price(raw[field], source, where, field))
        url = _text(raw, "source", source, where)
        verified = (
            _date(raw["lastVerified"], source, where, "lastVerified")
            if raw.get("lastVerified") is not None
            else catalog_date
        )
        key = (provider.casefold(), model.casefold(), tier.casefold())
        if key in seen:
            raise _fail(
                source,
                where,
                f"duplicate of entries[{seen[key]}]: provider, model and tier ({provider}, {model}, {tier}) "
                "must be unique",
            )
        seen[key] = index
        entries.append(PriceEntry(provider, model, tier, prices[0], prices[1], url, verified))
    entries.sort(key=_entry_key)
    return PriceCatalog(tuple(entries), catalog_date, source)


#: LiteLLM's ``model_prices_and_context_window.json`` (github.com/BerriAI/litellm), the community price map.
LITELLM_SOURCE = "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json"
_LITELLM_MODES = (None, "chat", "completion", "responses")


def is_litellm_map(doc: Any) -> bool:
    """A mapping of model name -> {input_cost_per_token, output_cost_per_token, ...} (no ``entries``)."""
    return (
        isinstance(doc, Mapping)
        and "entries" not in doc
        and any(isinstance(v, Mapping) and "input_cost_per_token" in v for v in doc.values())
    )


def litellm_document(doc: Mapping[str, Any], last_verified: date) -> dict[str, Any]:
    """LiteLLM's price map as a catalog document of our shape, for :func:`parse_catalog`.

    Text models only (``mode`` chat, completion, responses or unset) with both per-token costs; the
    provider is ``litellm_provider`` and a ``<provider>/`` prefix of the key is dropped. Costs per
    token become prices per million exactly (read the JSON with ``parse_float=Decimal``). The first
    of several keys naming the same (provider, model) wins. The map has no dates: the caller says
    when it was obtained (``last_verified``).
    """
    entries: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for key, spec in doc.items():
        if not isinstance(spec, Mapping) or key == "sample_spec" or spec.get("mode") not in _LITELLM_MODES:
            continue
        inp, out = spec.get("input_cost_per_token"), spec.get("output_cost_per_token")
        if inp is None or out is None:
            continue
        provider = str(spec.get("litellm_provider") or "litellm")
        model = str(key).removeprefix(f"{provider}/")
        if (provider.casefold(), model.casefold()) in seen:
            continue
        seen.add((provider.casefold(), model.casefold()))
        entries.append(
            {
                "provider": provider,
                "model": model,
                "inputPerMillion": _per_million(inp),
                "outputPerMillion": _per_million(out),
                "source": LITELLM_SOURCE,
            }
        )
    return {"lastVerified": last_verified.isoformat(), "currency": CURRENCY, "entries": entries}


def _per_million(per_token: Any) -> Any:
    """Cost per token -> per million tokens, exactly; anything not a number is left for parse_catalog."""
    if isinstance(per_token, bool) or not isinstance(per_token, int | float | Decimal):
        return per_token
    return format((Decimal(str(per_token)) * MILLION).normalize(), "f")


def _entry_key(entry: PriceEntry) -> tuple[str, str, str]:
    return (entry.provider, entry.model, entry.tier)


# ---------------------------------------------------------------------------------------------------
# arithmetic


def _check_tokens(input_tokens: int, output_tokens: int) -> None:
    if input_tokens < 0 or output_tokens < 0:
        raise ValueError(f"token counts must not be negative (input {input_tokens}, output {output_tokens})")


def cloud_cost(entry: PriceEntry, input_tokens: int, output_tokens: int) -> Decimal:
    """in / 1e6 × inputPerMillion + out / 1e6 × outputPerMillion, exact (no rounding)."""
    _check_tokens(input_tokens, output_tokens)
    with localcontext() as ctx:
        ctx.prec = _PREC
        total = Decimal(input_tokens) * entry.input_per_million + Decimal(output_tokens) * entry.output_per_million
        return total / MILLION


def compare(
    catalog: PriceCatalog | Iterable[PriceEntry], input_tokens: int, output_tokens: int, onprem_cost: Decimal
) -> list[Comparison]:
    """One :class:`Comparison` per catalog entry, sorted by (provider, model, tier).

    savings = cloud − on-prem (negative when on-prem is dearer); savings percent = savings / cloud × 100,
    0 when the cloud cost is 0. Cloud cost and savings are exact; the percent is a quotient, computed
    to 28 significant digits (round it when writing).
    """
    entries = catalog.entries if isinstance(catalog, PriceCatalog) else tuple(catalog)
    result: list[Comparison] = []
    for entry in sorted(entries, key=_entry_key):
        cloud = cloud_cost(entry, input_tokens, output_tokens)
        with localcontext() as ctx:
            ctx.prec = _PREC
            savings = cloud - onprem_cost
        percent = Decimal(0) if cloud == 0 else savings / cloud * 100
        result.append(Comparison(entry.provider, entry.model, entry.tier, cloud, onprem_cost, savings, percent, entry))
    return result


def break_even_tokens_per_day(
    entry: PriceEntry, input_tokens: int, output_tokens: int, onprem_daily_cost: Decimal
) -> int | None:
    """Daily token volume at which the cloud model costs as much as running on-prem for a day.

    Definition: the token mix is the period's (``input_tokens`` : ``output_tokens``). The cloud price
    per token at that mix is p = cloud_cost(entry, in, out) / (in + out). The on-prem side is a fixed
    daily cost D (``onprem_daily_cost``: the caller passes the CostProfile's hourly cost × 24 — the
    GPUs cost that whether they serve tokens or not). Break-even = D / p tokens per day, rounded UP to a
    whole token: above it the cloud would cost more than on-prem, below it less.

    Returns ``None`` when there is no token mix (in + out = 0) or the cloud price per token is 0
    (the cloud is never dearer). D = 0 gives 0.
    """
    _check_tokens(input_tokens, output_tokens)
    total = input_tokens + output_tokens
    if total == 0:
        return None
    cloud = cloud_cost(entry, input_tokens, output_tokens)
    if cloud == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = _PREC
        tokens = onprem_daily_cost * Decimal(total) / cloud
        return max(0, int(tokens.to_integral_value(rounding=ROUND_CEILING)))


def cheapest(catalog: PriceCatalog | Iterable[PriceEntry], input_tokens: int, output_tokens: int) -> PriceEntry | None:
    """The entry with the lowest cloud cost for this token mix (ties: provider, model, tier), or None."""
    entries = catalog.entries if isinstance(catalog, PriceCatalog) else tuple(catalog)
    best: tuple[Decimal, tuple[str, str, str]] | None = None
    best_entry: PriceEntry | None = None
    for entry in entries:
        key = (cloud_cost(entry, input_tokens, output_tokens), _entry_key(entry))
        if best is None or key < best:
            best, best_entry = key, entry
    return best_entry
