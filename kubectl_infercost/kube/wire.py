"""JSON for the API server with Decimal written as its exact digits (never through float).

``json`` would need a float for a Decimal, and a float keeps only ~17 significant digits:
114155251141552511.735525 would be written as 114155251141552510.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

_encode_str = json.encoder.encode_basestring_ascii


def decimal_text(value: Decimal) -> str:
    """A finite Decimal as a JSON number: plain digits, exactly (no exponent, no binary rounding)."""
    if not value.is_finite():
        raise ValueError(f"{value} cannot be written as a JSON number")
    text = format(value, "f")
    return "0" if text == "-0" else text


def _write(obj: Any, out: list[str]) -> None:
    if isinstance(obj, str):
        out.append(_encode_str(obj))
    elif obj is None or isinstance(obj, bool | int | float):
        out.append(json.dumps(obj, allow_nan=False))
    elif isinstance(obj, Decimal):
        out.append(decimal_text(obj))
    elif isinstance(obj, dict):
        out.append("{")
        for i, (key, value) in enumerate(obj.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            out.append(("," if i else "") + _encode_str(key) + ":")
            _write(value, out)
        out.append("}")
    elif isinstance(obj, list | tuple):
        out.append("[")
        for i, value in enumerate(obj):
            if i:
                out.append(",")
            _write(value, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


def dumps(obj: Any) -> bytes:
    """Compact JSON of ``obj``; Decimal values keep every digit they have."""
    out: list[str] = []
    _write(obj, out)
    return "".join(out).encode()


# The API server holds a custom resource's JSON numbers as int64 or float64: a fraction keeps
# 15 significant digits exactly (float64 round-trips them), an integer up to 2^63 - 1.
FLOAT64_EXACT_DIGITS = 15
INT64_MAX = 2**63 - 1


def inexact_numbers(obj: Any, path: str = "") -> list[str]:
    """Paths of numbers the API server could not store exactly (``byModel[0].estimatedCostUSD``)."""
    found: list[str] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            found += inexact_numbers(value, f"{path}.{key}" if path else key)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            found += inexact_numbers(value, f"{path}[{i}]")
    elif isinstance(obj, Decimal) and obj.is_finite() and obj != obj.to_integral_value():
        if len(obj.normalize().as_tuple().digits) > FLOAT64_EXACT_DIGITS:
            found.append(path)
    elif isinstance(obj, int | Decimal) and not isinstance(obj, bool) and abs(Decimal(obj)) > INT64_MAX:
        found.append(path)
    return found
