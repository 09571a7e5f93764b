"""Money goes to the API server exactly, or not at all: figures it would round are named."""

from __future__ import annotations

from decimal import Decimal as D

from kubectl_infercost.kube.client import dumps, loads
from kubectl_infercost.kube.objects import to_wire
from kubectl_infercost.kube.wire import inexact_numbers
from kubectl_infercost.models import CostProfileStatus


def test_decimal_keeps_every_digit_on_the_way_out() -> None:
    # what the client sends; what the API server keeps of it is checked below
    assert dumps({"hourlyCostUSD": D("114155251141552511.735525")}) == b'{"hourlyCostUSD":114155251141552511.735525}'


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
    wired = {
        "hourlyCostUSD": D("114155251141552511.415525"),  # 24 significant digits > 15
        "ok": D("999999999.999999"),  # 15 digits: float64 round-trips it
        "byModel": [{"estimatedCostUSD": D("1.0000000000000001")}],
        "count": 2**63,  # beyond int64
        "small": 7,
    }
    assert inexact_numbers(wired) == ["hourlyCostUSD", "byModel[0].estimatedCostUSD", "count"]


def test_the_one_walk_suspects_every_number_the_api_server_would_round() -> None:
    from kubectl_infercost.kube.objects import _wired

    for value, rounded in [
        (D("999999999.999999"), False),  # 15 significant digits
        (D("1000000000.000001"), True),  # 16
        (D("123456789012345678.5"), True),
        (D("1234567890123456789"), False),  # integral, within int64
        (D(2**63), True),
        (2**63 - 1, False),
        (2**63, True),
        (-(2**63), True),
        (D("0.0000004"), False),  # 0 at 6 dp
    ]:
        wired, suspect = _wired({"a": [{"b": value}]})
        assert bool(inexact_numbers(wired)) is rounded, value
        assert suspect or not rounded, value
