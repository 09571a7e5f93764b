"""-o json / -o yaml: Decimals written from their text, never through float."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import yaml

from kubectl_infercost.output.structured import decimal_text, dumps_json, dumps_yaml, write_json, write_yaml

D = Decimal

DOC = {
    "kind": "BudgetList",
    "namespace": None,
    "items": [
        {
            "spend": D("412.345678"),
            "tiny": D("0.00000015"),
            "big": D("12345678901234567890.123456"),
            "exp": D("1E+1"),
            "negzero": D("-0.000"),
            "tokens": 1_234_567,
            "ok": True,
            "at": datetime(2026, 4, 20, 10, 15, tzinfo=UTC),
            "day": date(2025, 6, 1),
            "name": 'quote " and ü',
            "list": [],
            "map": {},
        }
    ],
}


def test_decimal_text() -> None:
    assert decimal_text(D("8.823456")) == "8.823456"
    assert decimal_text(D("1E+1")) == "10"
    assert decimal_text(D("1.5E-7")) == "0.00000015"
    assert decimal_text(D("-0.00")) == "0.00"
    assert decimal_text(D("-1.26")) == "-1.26"
    with pytest.raises(ValueError):
        decimal_text(D("NaN"))


def test_json_golden_and_exact() -> None:
    text = dumps_json(DOC)
    assert text == (
        "{\n"
        '  "kind": "BudgetList",\n'
        '  "namespace": null,\n'
        '  "items": [\n'
        "    {\n"
        '      "spend": 412.345678,\n'
        '      "tiny": 0.00000015,\n'
        '      "big": 12345678901234567890.123456,\n'
        '      "exp": 10,\n'
        '      "negzero": 0.000,\n'
        '      "tokens": 1234567,\n'
        '      "ok": true,\n'
        '      "at": "2026-04-20T10:15:00Z",\n'
        '      "day": "2025-06-01",\n'
        '      "name": "quote \\" and ü",\n'
        '      "list": [],\n'
        '      "map": {}\n'
        "    }\n"
        "  ]\n"
        "}\n"
    )
    back = json.loads(text, parse_float=Decimal)["items"][0]
    assert back["big"] == D("12345678901234567890.123456")  # a float would have lost this
    assert back["tiny"] == D("0.00000015")


def test_json_refuses_floats_and_naive_times() -> None:
    with pytest.raises(TypeError):
        dumps_json({"x": 1.5})
    with pytest.raises(ValueError):
        dumps_json({"x": datetime(2026, 4, 20)})


def test_yaml_exact_numbers() -> None:
    text = dumps_yaml(DOC)
    assert "- spend: 412.345678\n" in text
    assert "  tiny: 0.00000015\n" in text
    assert "  big: 12345678901234567890.123456\n" in text
    assert "  exp: 10\n" in text
    assert "  tokens: 1234567\n" in text
    assert "  at: '2026-04-20T10:15:00Z'\n" in text
    assert "  day: '2025-06-01'\n" in text
    back = yaml.safe_load(text)["items"][0]
    assert back["tokens"] == 1_234_567 and back["exp"] == 10 and back["spend"] == 412.345678
    assert back["day"] == "2025-06-01" and back["ok"] is True


def test_writers_take_a_stream() -> None:
    out = io.StringIO()
    write_json(out, {"a": D("1.5")})
    write_yaml(out, {"b": D("2.50")})
    assert out.getvalue() == '{\n  "a": 1.5\n}\nb: 2.50\n'
