"""``--include-namespaces`` / ``--exclude-namespaces``: which namespaces' rows an export keeps."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..errors import UsageError
from .focus.columns import Row

_RFC1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _names(flag: str, value: str) -> frozenset[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise UsageError(f"{flag} needs at least one namespace (NS1,NS2,...)")
    for name in names:
        if not _RFC1123_LABEL.match(name):
            raise UsageError(f"{flag}: {name!r} is not a namespace name (lowercase RFC 1123 label)")
    return frozenset(names)


@dataclass(frozen=True)
class NamespaceFilter:
    include: frozenset[str] | None = None  # None: every namespace
    exclude: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, include: str | None, exclude: str | None) -> NamespaceFilter:
        if include is not None and exclude is not None:
            raise UsageError("--include-namespaces and --exclude-namespaces are mutually exclusive")
        if include is not None:
            return cls(include=_names("--include-namespaces", include))
        if exclude is not None:
            return cls(exclude=_names("--exclude-namespaces", exclude))
        return cls()

    @property
    def active(self) -> bool:
        return self.include is not None or bool(self.exclude)

    def allows(self, namespace: str | None) -> bool:
        if self.include is not None:
            return namespace in self.include
        return namespace not in self.exclude



def filter_rows(rows: Iterable[Row], column: int, keep: NamespaceFilter) -> Iterator[Row]:
    """The rows whose namespace (the value at ``column``, SubAccountId) ``keep`` allows."""
    allows = keep.allows
    return (row for row in rows if allows(row[column]))
