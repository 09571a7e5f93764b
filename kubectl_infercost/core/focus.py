"""FOCUS export, the pure part: options, period selection, month slices, model slugs, safe text.

PURE (no I/O, no clock). The contract is ``shared/reference/focus.md``; the rows themselves are built by
:mod:`.focus_rows`, the layouts live in :mod:`.focus_columns`. Public entry point::

    rows = build_rows(sources, catalog, options)   # Iterator[Row], Row = tuple[str | None, ...]

``sources`` is a sequence of ``(UsageReport, CostProfile | None)``; every value of a row is already
formatted (fixed-point decimals, ``YYYY-MM-DDTHH:MM:SSZ`` date-times, JSON text), ``None`` is null.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from ..errors import InvalidDataError, UsageError
from ..models import CostProfile, PeriodFigures, UsageReport
from .cloud import PriceCatalog
from .focus_columns import Layout, Row, layout_for

__all__ = [
    "IDENTIFIER_RE",
    "ExportOptions",
    "PeriodSelection",
    "Row",
    "Slice",
    "Source",
    "build_rows",
    "build_slug_map",
    "clean_text",
    "guard",
    "layout_for",
    "model_slug",
    "parse_period_label",
    "period_kind",
    "report_periods",
    "single_line",
    "slices_of",
    "validate_identifier",
]

Source = tuple[UsageReport, CostProfile | None]

# ---------------------------------------------------------------------------------------------------
# flag values

#: ``--billing-account-id`` and ``--region`` (focus.md §3.1): no comma, quote or space can reach cols 1-29.
IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$")
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9._:/@-]+")


def validate_identifier(value: str, flag: str) -> str:
    if not IDENTIFIER_RE.fullmatch(value):
        raise UsageError(
            f"{flag} {value!r} is not allowed: use 1-128 characters from A-Z a-z 0-9 . _ : / @ - "
            "starting with a letter or digit"
        )
    return value


def identifier_from(value: str, fallback: str = "cluster") -> str:
    """A default identifier (the kube-context's cluster name) made valid: bad runs become ``-``."""
    cleaned = _NOT_IDENTIFIER.sub("-", value).lstrip("._:/@-")[:128]
    return cleaned or fallback


# ---------------------------------------------------------------------------------------------------
# text safety

_INJECTION_START = ("=", "+", "-", "@", "\t", "\r")
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
_FIELD_BAD = re.compile('[,"\r\n]')


def single_line(value: str) -> str:
    """Control characters (newlines included) become spaces, so one CSV record stays one line."""
    return _LINE_BREAKING.sub(" ", value) if _LINE_BREAKING.search(value) else value


def clean_text(value: str) -> str:
    """A free-text value made safe for spreadsheets and line-based tools (focus.md §3.1).

    A value starting with ``=`` ``+`` ``-`` ``@`` tab or CR gets a leading ``'`` (no formula
    injection when the CSV is opened in a spreadsheet); then control characters become spaces.
    Applied to text columns after column 29 in every format, so CSV, JSON and Parquet agree.
    """
    if value.startswith(_INJECTION_START):
        value = "'" + value
    return single_line(value)


def guard(values: Iterable[str | None], where: str) -> None:
    """Abort if a value bound for columns 1-29 holds ``,`` ``"`` CR or LF (awk -F, field positions)."""
    for value in values:
        if value is not None and _FIELD_BAD.search(value):
            raise InvalidDataError(
                f"{where}: value {value!r} would break the CSV field positions of columns 1-29 "
                "(it holds a comma, quote or line break)"
            )


# ---------------------------------------------------------------------------------------------------
# model slugs

_SLUG_BAD = re.compile(r"[^a-z0-9._-]+")
UNKNOWN_MODEL = "unknown-model"


def model_slug(name: str) -> str:
    """Lowercase; each run outside ``[a-z0-9._-]`` becomes ``-``; edge ``-`` trimmed (no collision check)."""
    return _SLUG_BAD.sub("-", name.lower()).strip("-")


def _hashed(base: str, name: str, length: int) -> str:
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:length]
    return f"{base}-{digest}" if base else f"model-{digest}"


def build_slug_map(names: Iterable[str]) -> dict[str, str]:
    """A unique slug per distinct model name.

    When several names share a base slug, the name that *is* the slug keeps it and every other one
    gets ``-`` and the first 8 hex characters of the SHA-256 of its UTF-8 name. A name whose slug is
    empty becomes ``model-<hash>``; the reserved ``unknown-model`` (the bucket for tokens without a
    per-model breakdown) is never given to a real model. Slugs are stable for a given set of names.
    """
    groups: dict[str, list[str]] = {}
    for name in sorted(set(names)):
        groups.setdefault(model_slug(name), []).append(name)
    result: dict[str, str] = {}
    for base, members in groups.items():
        for name in members:
            keeps = base and base != UNKNOWN_MODEL and (len(members) == 1 or name == base)
            result[name] = base if keeps else _hashed(base, name, 8)
    # A hashed slug could, in theory, equal another model's plain slug: lengthen the hashes until unique.
    counts: dict[str, int] = {}
    for slug in result.values():
        counts[slug] = counts.get(slug, 0) + 1
    for name, slug in list(result.items()):
        if counts[slug] > 1 and slug != model_slug(name):
            result[name] = _hashed(model_slug(name), name, 64)
    return result


# ---------------------------------------------------------------------------------------------------
# periods

_DAILY = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_WEEKLY = re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$")
_MONTHLY = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def period_kind(label: str) -> str | None:
    """``daily`` / ``weekly`` / ``monthly`` from a label's shape, or None."""
    if _DAILY.fullmatch(label):
        return "daily"
    if _WEEKLY.fullmatch(label):
        return "weekly"
    if _MONTHLY.fullmatch(label):
        return "monthly"
    return None


def parse_period_label(label: str) -> str:
    """Validate ``--period``: ``2026-04-20``, ``2026-W17`` or ``2026-04`` (a real date/week)."""
    kind = period_kind(label)
    try:
        if kind == "daily":
            datetime.strptime(label, "%Y-%m-%d")
        elif kind == "weekly":
            datetime.strptime(label + "-1", "%G-W%V-%u")
    except ValueError:
        kind = None
    if kind is None:
        raise UsageError(
            f"--period {label!r} is not a period label: use a day (2026-04-20), an ISO week (2026-W17) "
            "or a month (2026-04)"
        )
    return label


@dataclass(frozen=True)
class PeriodSelection:
    """Which periods to export. All criteria must hold.

    * ``label``: the period's own label; a month label ``YYYY-MM`` also selects the daily periods
      ``YYYY-MM-DD`` and the parts of weekly periods that fall in that (UTC) month.
    * ``start``/``end`` (``--from``/``--to``, UTC): keep the month slices overlapping [start, end).
    * ``include_open``: the current (open) period of each report is exported unless this is False.
    """

    label: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    include_open: bool = True

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise UsageError("--from must be before --to")


class Slice(NamedTuple):
    """The part of one period inside one UTC calendar month (most periods have exactly one)."""

    label: str
    start: datetime  # whole seconds, UTC
    end: datetime  # exclusive
    billing_start: datetime
    billing_end: datetime
    seconds: int  # length of this slice
    total_seconds: int  # length of the whole period
    part: int  # position among the period's slices
    parts: int  # how many slices the period has
    is_open: bool


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(moment: datetime) -> datetime:
    first = _month_start(moment)
    return (first + timedelta(days=32)).replace(day=1)


def _floor_second(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _ceil_second(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment if moment.microsecond == 0 else moment.replace(microsecond=0) + timedelta(seconds=1)


def report_periods(report: UsageReport) -> list[tuple[PeriodFigures, bool]]:
    """(figures, is_open) of a report, oldest first: its closed history, then the current period."""
    status = report.status
    periods: list[tuple[PeriodFigures, bool]] = [(p, False) for p in reversed(status.history)]
    if status.period is not None:
        periods.append((status, True))
    return periods


def slices_of(figures: PeriodFigures, is_open: bool, where: str) -> list[Slice]:
    """Cut a period at UTC month starts. A period never accounted (no start/end) gives no slices.

    Start is floored and end ceiled to whole seconds (FOCUS date-times have no fractions).
    """
    if figures.period is None or figures.period_start is None or figures.period_end is None:
        return []
    start, end = _floor_second(figures.period_start), _ceil_second(figures.period_end)
    if end <= start:
        if figures.estimated_cost_usd or figures.input_tokens or figures.output_tokens:
            raise InvalidDataError(f"{where}: periodEnd is not after periodStart but the period holds usage")
        return []
    month = _month_start(start)
    boundary = _next_month(month)
    total = int((end - start).total_seconds())
    if end <= boundary:  # the common case: one month
        return [Slice(figures.period, start, end, month, boundary, total, total, 0, 1, is_open)]
    cuts = [start]
    while boundary < end:
        cuts.append(boundary)
        boundary = _next_month(boundary)
    cuts.append(end)
    count = len(cuts) - 1
    return [
        Slice(
            figures.period,
            cuts[i],
            cuts[i + 1],
            _month_start(cuts[i]),
            _next_month(cuts[i]),
            int((cuts[i + 1] - cuts[i]).total_seconds()),
            total,
            i,
            count,
            is_open,
        )
        for i in range(count)
    ]


def selected(piece: Slice, selection: PeriodSelection) -> bool:
    if piece.is_open and not selection.include_open:
        return False
    if selection.start is not None and piece.end <= selection.start:
        return False
    if selection.end is not None and piece.start >= selection.end:
        return False
    wanted = selection.label
    if wanted is None or piece.label == wanted:
        return True
    if period_kind(wanted) != "monthly":
        return False
    kind = period_kind(piece.label)
    if kind == "daily":
        return piece.label.startswith(wanted + "-")
    if kind == "weekly":
        return f"{piece.start.year:04d}-{piece.start.month:02d}" == wanted
    return False


# ---------------------------------------------------------------------------------------------------
# options and the entry point


@dataclass(frozen=True)
class ExportOptions:
    """Everything the row builder needs besides the data. Validate flags before building this."""

    layout: Layout = field(default_factory=layout_for)
    billing_account_id: str = "cluster"
    billing_account_name: str | None = None  # default: billing_account_id
    provider_name: str = "Self-Hosted"
    region_id: str | None = None
    region_name: str | None = None  # default: region_id
    compare_to: tuple[str, str] | None = None  # (provider, model); default: cheapest per row
    tag_labels: tuple[str, ...] = ()  # namespace label keys copied into Tags
    namespace_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    selection: PeriodSelection = field(default_factory=PeriodSelection)

    def __post_init__(self) -> None:
        validate_identifier(self.billing_account_id, "--billing-account-id")
        if self.region_id is not None:
            validate_identifier(self.region_id, "--region")
        elif self.region_name is not None:
            raise UsageError("--region-name needs --region (RegionName is null exactly when RegionId is)")
        if not self.provider_name.strip():
            raise UsageError("--provider-name must not be empty")
        if self.billing_account_name is not None and not self.billing_account_name.strip():
            raise UsageError("--billing-account-name must not be empty")


def build_rows(
    sources: Sequence[Source],
    catalog: PriceCatalog | None,
    options: ExportOptions,
    on_skip: Callable[[InvalidDataError], None] | None = None,
) -> Iterator[Row]:
    """The rows of ``options.layout`` for every selected period of every report, in a stable order.

    Reports are ordered by (namespace, name) and periods oldest first; see :mod:`.focus_rows`. A report
    that cannot be exported raises :class:`InvalidDataError`, or, with ``on_skip``, is left out whole
    (none of its rows) and ``on_skip`` gets the error.
    """
    from .focus_rows import build_focus_rows, build_legacy_rows

    ordered = sorted(sources, key=lambda s: (s[0].metadata.namespace or "", s[0].metadata.name))
    if options.layout.conformant:
        return build_focus_rows(ordered, catalog, options, on_skip)
    return build_legacy_rows(ordered, catalog, options, on_skip)
