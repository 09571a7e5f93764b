"""Read our custom resources and write their status with optimistic concurrency."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, getcontext, localcontext
from typing import Any

from pydantic import BaseModel

from ..core.money import MICRO
from ..errors import InvalidDataError
from .client import JSON, KubeClient
from .resources import Resource
from .wire import FLOAT64_EXACT_DIGITS, INT64_MAX, inexact_numbers


class InexactNumberError(InvalidDataError):
    """Status figures the API server would round (it holds JSON numbers as float64)."""

    def __init__(self, paths: list[str]) -> None:
        shown = ", ".join(f"status.{p}" for p in paths[:3]) + (" ..." if len(paths) > 3 else "")
        super().__init__(
            f"{shown}: more than {FLOAT64_EXACT_DIGITS} significant digits; the API server stores numbers as "
            "float64 and would round them, so nothing was written"
        )
        self.paths = paths



def rfc3339(value: datetime) -> str:
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def _rounded(value: Decimal) -> int | Decimal:
    """Money and measures are written rounded to 6 dp; integral values stay integers."""
    if value.adjusted() + 8 <= getcontext().prec:
        rounded = value.quantize(MICRO, rounding=ROUND_HALF_EVEN)
    else:
        with localcontext() as ctx:  # enough digits for any finite value the schema allows
            ctx.prec = value.adjusted() + 8
            rounded = value.quantize(MICRO, rounding=ROUND_HALF_EVEN)
    return int(rounded) if rounded == rounded.to_integral_value() else rounded


def _wired(value: Any) -> tuple[Any, bool]:
    """The value as the API server stores it, and whether a number in it may not be stored exactly.

    One walk of the exact types first: a status holds tens of thousands of values, most of them
    strings and the same few instants.
    """
    instants: dict[datetime, str] = {}
    suspect = False

    def wire(v: Any) -> Any:
        nonlocal suspect
        kind = type(v)
        if kind is str or kind is bool or v is None:
            return v
        if kind is dict:
            return {k: wire(x) for k, x in v.items()}
        if kind is list:
            return [wire(x) for x in v]
        if kind is int:
            suspect = suspect or not -INT64_MAX <= v <= INT64_MAX
            return v
        if kind is datetime:
            text = instants.get(v)
            if text is None:
                text = instants[v] = rfc3339(v)
            return text
        if kind is Decimal:
            rounded = _rounded(v)
            # A fraction of 6 dp with 9 digits or fewer before the point has at most 15 significant digits.
            suspect = suspect or (
                rounded.adjusted() > 8 if type(rounded) is Decimal else not -INT64_MAX <= rounded <= INT64_MAX
            )
            return rounded
        return _other(v, wire)

    return wire(value), suspect


def _other(value: Any, wire: Any) -> Any:
    """Subclasses of the types above, and anything else as it is."""
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire(v) for v in value]
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return wire(Decimal(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return wire(int(value))
    return value


def _wire(value: Any) -> Any:
    return _wired(value)[0]


def to_wire(model: BaseModel) -> JSON:
    """A model as the JSON the API server stores (camelCase, no nulls, RFC 3339, 6-dp numbers)."""
    wired: JSON = _wire(model.model_dump(by_alias=True, exclude_none=True))
    return wired


def get_object(client: KubeClient, resource: Resource, namespace: str, name: str) -> JSON:
    obj: JSON = client.get(resource.item(name, namespace), what=f"{resource.kind} {namespace}/{name}")
    return obj


def replace_status(client: KubeClient, resource: Resource, obj: JSON, status: BaseModel) -> JSON:
    """PUT the status subresource carrying the resourceVersion we read: 409 if anyone wrote since.

    Raises InexactNumberError (nothing written) when a figure would not be stored exactly.
    """
    meta = obj["metadata"]
    body = dict(obj)
    body["status"], suspect = _wired(status.model_dump(by_alias=True, exclude_none=True))
    inexact = inexact_numbers(body["status"]) if suspect else []
    if inexact:
        raise InexactNumberError(inexact)
    result: JSON = client.request(
        "PUT",
        resource.item(meta["name"], meta["namespace"]) + "/status",
        body=body,
        what=f"{resource.kind} {meta['namespace']}/{meta['name']} status",
    )
    return result
