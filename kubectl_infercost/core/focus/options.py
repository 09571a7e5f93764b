"""What an export needs besides the data, and how a report that cannot be exported is left out.

PURE. Options are checked here and raise :class:`.errors.OptionError`; the CLI words them as flags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ...errors import InvalidDataError
from ...models import CostProfile, UsageReport
from .columns import Layout, Row, layout_for
from .errors import OptionError
from .periods import PeriodSelection
from .text import is_identifier

Source = tuple[UsageReport, CostProfile | None]

#: Called with the reason when a report cannot be exported; its rows are then left out (not half of them).
OnSkip = Callable[[InvalidDataError], None]


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
    tag_labels: tuple[str, ...] = ()  # namespace and pod label keys copied into Tags (.tags)
    namespace_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # by namespace name
    pod_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # by UID: the Pods that exist now
    selection: PeriodSelection = field(default_factory=PeriodSelection)

    def __post_init__(self) -> None:
        if not is_identifier(self.billing_account_id):
            raise OptionError("billing_account_id", self.billing_account_id, "not an identifier")
        if self.region_id is not None:
            if not is_identifier(self.region_id):
                raise OptionError("region_id", self.region_id, "not an identifier")
        elif self.region_name is not None:
            raise OptionError("region_name", self.region_name, "needs a region_id")
        if not self.provider_name.strip():
            raise OptionError("provider_name", self.provider_name, "empty")
        if self.billing_account_name is not None and not self.billing_account_name.strip():
            raise OptionError("billing_account_name", self.billing_account_name, "empty")


def whole_or_skipped(rows_of: Callable[[], Iterable[Row]], on_skip: OnSkip) -> list[Row]:
    """All rows of one report, or none (``on_skip`` hears why): never half a report in a file."""
    try:
        return list(rows_of())
    except InvalidDataError as exc:
        on_skip(exc)
        return []
