"""``-o json`` and ``-o yaml``: exact documents written to a stream.

Decimals are written from their text (never through float): ``Decimal("8.823456")`` becomes the JSON
number ``8.823456`` and the YAML float ``8.823456``. Datetimes are RFC 3339 UTC strings (``...Z``),
dates ``YYYY-MM-DD``. Key order is kept as built (documented in docs/report.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TextIO

import yaml


def decimal_text(value: Decimal) -> str:
    """Plain positional notation (no exponent): ``Decimal('1E+1')`` → ``10``, ``-0`` → ``0``."""
    if not value.is_finite():
        raise ValueError(f"cannot write a non-finite number ({value})")
    text = format(value, "f")
    return text[1:] if text.startswith("-") and value == 0 else text


def rfc3339(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: times must be aware UTC")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def plain(obj: Any) -> Any:
    """Datetimes and dates to strings, tuples to lists, mappings to dicts; numbers untouched."""
    if isinstance(obj, datetime):
        return rfc3339(obj)
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------------------------- JSON


def _json(obj: Any, out: list[str], indent: int, level: int) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, Decimal):
        out.append(decimal_text(obj))
    elif isinstance(obj, int):
        out.append(str(obj))
    elif isinstance(obj, float):
        raise TypeError("floats are not written: money and measurements are Decimal")
    elif isinstance(obj, str):
        out.append(json.dumps(obj, ensure_ascii=False))
    elif isinstance(obj, Mapping):
        keys = [f"{json.dumps(str(key), ensure_ascii=False)}: " for key in obj]
        _container("{}", keys, list(obj.values()), out, indent, level)
    elif isinstance(obj, list):
        _container("[]", [""] * len(obj), obj, out, indent, level)
    else:
        raise TypeError(f"cannot write {type(obj).__name__} as JSON")


def _container(brackets: str, prefixes: list[str], values: list[Any], out: list[str], indent: int, level: int) -> None:
    """An object or array: one member a line, each after its prefix (``"key": `` or nothing)."""
    if not values:
        out.append(brackets)
        return
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    out.append(f"{brackets[0]}\n")
    for i, (prefix, value) in enumerate(zip(prefixes, values, strict=True)):
        out.append(f"{inner}{prefix}")
        _json(value, out, indent, level + 1)
        out.append(",\n" if i < len(values) - 1 else "\n")
    out.append(f"{pad}{brackets[1]}")


def dumps_json(doc: Any, indent: int = 2) -> str:
    out: list[str] = []
    _json(plain(doc), out, indent, 0)
    out.append("\n")
    return "".join(out)


def write_json(stream: TextIO, doc: Any) -> None:
    stream.write(dumps_json(doc))


# ---------------------------------------------------------------------------------------------- YAML


class _Dumper(yaml.SafeDumper):
    pass


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    text = decimal_text(value)
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, text)


_Dumper.add_representer(Decimal, _represent_decimal)


def dumps_yaml(doc: Any) -> str:
    return yaml.dump(plain(doc), Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


def write_yaml(stream: TextIO, doc: Any) -> None:
    stream.write(dumps_yaml(doc))
