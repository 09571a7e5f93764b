"""FOCUS export, the pure part (docs/export-focus.md): rows of UsageReports in a FOCUS or the legacy layout.

PURE (no I/O, no clock). Public entry point::

    rows = build_rows(sources, catalog, options)   # Iterator[Row], Row = tuple[str | None, ...]

``sources`` is a sequence of ``(UsageReport, CostProfile | None)``; every value of a row is already
formatted (fixed-point decimals, ``YYYY-MM-DDTHH:MM:SSZ`` date-times, JSON text), ``None`` is null.

Modules, bottom to top (an import-linter layers contract keeps the order): ``errors``; ``columns``,
``text``, ``periods``, ``tags``; ``options``; ``pricing``; ``charges``; ``rows`` and ``legacy``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..cloud import PriceCatalog
from .columns import DEFAULT_FOCUS_VERSION, FOCUS_VERSIONS, LAYOUTS, Kind, Layout, Row, layout_for
from .errors import OptionError
from .legacy import build_legacy_rows
from .options import ExportOptions, OnSkip, Source
from .periods import PeriodSelection, is_period_label, period_kind
from .rows import build_focus_rows
from .text import IDENTIFIER_RE, identifier_from, is_identifier

__all__ = [
    "DEFAULT_FOCUS_VERSION",
    "FOCUS_VERSIONS",
    "IDENTIFIER_RE",
    "LAYOUTS",
    "ExportOptions",
    "Kind",
    "Layout",
    "OnSkip",
    "OptionError",
    "PeriodSelection",
    "Row",
    "Source",
    "build_rows",
    "identifier_from",
    "is_identifier",
    "is_period_label",
    "layout_for",
    "period_kind",
]


def build_rows(
    sources: Sequence[Source], catalog: PriceCatalog | None, options: ExportOptions, on_skip: OnSkip | None = None
) -> Iterator[Row]:
    """The rows of ``options.layout`` for every selected period of every report, in a stable order.

    Reports are ordered by (namespace, name) and periods oldest first. A report that cannot be exported
    raises :class:`~kubectl_infercost.errors.InvalidDataError`, or, with ``on_skip``, is left out whole
    (none of its rows) and ``on_skip`` gets the error. A bad ``compare_to`` raises :class:`OptionError`
    before any row.
    """
    ordered = sorted(sources, key=lambda s: (s[0].metadata.namespace or "", s[0].metadata.name))
    if options.layout.conformant:
        return build_focus_rows(ordered, catalog, options, on_skip)
    return build_legacy_rows(ordered, catalog, options, on_skip)
