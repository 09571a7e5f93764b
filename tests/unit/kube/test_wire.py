"""Decimal goes to the API server as its exact digits."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from kubectl_infercost.kube.client import loads
from kubectl_infercost.kube.objects import to_wire
from kubectl_infercost.kube.wire import dumps
from kubectl_infercost.models import CostProfileStatus


def test_decimal_keeps_every_digit() -> None:
    # 1e12 / (1e-9 years x 8760 h) = 114155251141552511.415525... $/h: a float would write ...510
    assert dumps({"hourlyCostUSD": D("114155251141552511.735525")}) == b'{"hourlyCostUSD":114155251141552511.735525}'
    assert float(D("114155251141552511.735525")) == 114155251141552512.0  # what float would have kept


@pytest.mark.parametrize(
    ("value", "text"),
    [(D("1E+3"), b"1000"), (D("0.000001"), b"0.000001"), (D("-0"), b"0"), (D("-2.50"), b"-2.50"), (D("7"), b"7")],
)
def test_decimal_as_plain_digits(value: D, text: bytes) -> None:
    assert dumps(value) == text


def test_everything_else_as_json_does() -> None:
    obj = {"a": [1, True, None, 'é"\n', 2.5], "b": {}, "c": []}
    assert json.loads(dumps(obj)) == obj
    assert dumps(obj) == json.dumps(obj, separators=(",", ":")).encode()


@pytest.mark.parametrize("bad", [D("NaN"), D("Infinity"), float("nan")])
def test_no_nan_or_infinity(bad: object) -> None:
    with pytest.raises(ValueError):
        dumps({"x": bad})


def test_round_trip_through_to_wire_is_exact() -> None:
    status = CostProfileStatus.model_validate({"hourlyCostUSD": "114155251141552511.7355251141"})
    wired = to_wire(status)
    assert loads(dumps(wired))["hourlyCostUSD"] == D("114155251141552511.735525")  # rounded once, to 6 dp


def test_to_wire_rounds_values_wider_than_the_default_context() -> None:
    # 31 digits before the point: quantize to 6 dp needs 37 digits of precision (default 28)
    big = D("1234567890123456789012345678901.1234567")
    assert to_wire(CostProfileStatus(hourly_cost_usd=big))["hourlyCostUSD"] == D(
        "1234567890123456789012345678901.123457"
    )


def test_numbers_the_api_server_would_round_are_named() -> None:
    from kubectl_infercost.kube.wire import inexact_numbers

    wired = {
        "hourlyCostUSD": D("114155251141552511.415525"),  # 24 significant digits > 15
        "ok": D("999999999.999999"),  # 15 digits: float64 round-trips it
        "byModel": [{"estimatedCostUSD": D("1.0000000000000001")}],
        "count": 2**63,  # beyond int64
        "small": 7,
    }
    assert inexact_numbers(wired) == ["hourlyCostUSD", "byModel[0].estimatedCostUSD", "count"]
