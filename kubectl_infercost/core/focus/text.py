"""Safe text for FOCUS rows: identifiers, spreadsheet-safe text, the comma guard, model slugs (docs/export-focus.md).

PURE.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from ...errors import InvalidDataError

#: ``--billing-account-id`` and ``--region`` (docs/export-focus.md): no comma, quote or space can reach cols 1-29.
IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$")
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9._:/@-]+")


def is_identifier(value: str) -> bool:
    return IDENTIFIER_RE.fullmatch(value) is not None


def identifier_from(value: str, fallback: str = "cluster") -> str:
    """A default identifier (the kube-context's cluster name) made valid: bad runs become ``-``."""
    cleaned = _NOT_IDENTIFIER.sub("-", value).lstrip("._:/@-")[:128]
    return cleaned or fallback


_INJECTION_START = ("=", "+", "-", "@", "\t", "\r")
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
_FIELD_BAD = re.compile('[,"\r\n]')


def single_line(value: str) -> str:
    """Control characters (newlines included) become spaces, so one CSV record stays one line."""
    return _LINE_BREAKING.sub(" ", value) if _LINE_BREAKING.search(value) else value


def clean_text(value: str) -> str:
    """A free-text value made safe for spreadsheets and line-based tools (docs/export-focus.md).

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
