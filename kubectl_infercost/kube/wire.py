"""What the API server keeps of the numbers we send.

The client writes Decimal as its exact digits, but the API server decodes a custom resource's
JSON numbers into int64 or float64: 114155251141552511.735525 would be stored as
114155251141552510. Such figures are refused before writing instead of being rounded there.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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
