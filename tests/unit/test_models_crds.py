"""The pydantic models and the CRD schemas must name exactly the same fields."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from kubectl_infercost.models import CostProfile, TokenBudget, UsageReport

CRDS = Path(__file__).resolve().parents[2] / "crds"


def _schema(kind_file: str) -> dict[str, Any]:
    doc = yaml.safe_load((CRDS / kind_file).read_text())
    schema: dict[str, Any] = doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel inside an annotation such as ``list[X] | None``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None


def _diff(schema: dict[str, Any], model: type[BaseModel], where: str) -> list[str]:
    props = schema.get("properties") or {}
    fields = {(f.alias or name): f for name, f in model.model_fields.items()}
    problems = [f"{where}.{k}: in the CRD, not in {model.__name__}" for k in props.keys() - fields.keys()]
    problems += [f"{where}.{k}: in {model.__name__}, not in the CRD" for k in fields.keys() - props.keys()]
    for key in props.keys() & fields.keys():
        sub = props[key]
        if sub.get("type") == "array":
            sub = sub.get("items") or {}
        nested = _model_of(fields[key].annotation)
        if "properties" in sub:
            if nested is None:
                problems.append(f"{where}.{key}: an object in the CRD, not a model")
            else:
                problems += _diff(sub, nested, f"{where}.{key}")
        elif nested is not None and key != "metadata":
            problems.append(f"{where}.{key}: a model, but the CRD declares no properties")
    return problems


@pytest.mark.parametrize(
    ("crd_file", "model"),
    [
        ("finops.infercost.ai_costprofiles.yaml", CostProfile),
        ("finops.infercost.ai_usagereports.yaml", UsageReport),
        ("finops.infercost.ai_tokenbudgets.yaml", TokenBudget),
    ],
)
def test_model_fields_match_crd(crd_file: str, model: type[BaseModel]) -> None:
    assert _diff(_schema(crd_file), model, model.__name__) == []


def test_diff_notices_a_missing_field() -> None:
    class Tiny(BaseModel):
        a: int

    schema = {"properties": {"a": {"type": "integer"}, "b": {"type": "string"}}}
    assert _diff(schema, Tiny, "Tiny") == ["Tiny.b: in the CRD, not in Tiny"]


def test_seed_samples_validate_with_defaults() -> None:
    samples = CRDS.parent / "samples"
    cp = CostProfile.model_validate(yaml.safe_load((samples / "costprofile-h100.yaml").read_text()))
    assert cp.spec.hardware.gpu_count == 8
    assert str(cp.spec.hardware.purchase_price_usd) == "280000"
    assert str(cp.spec.electricity.pue_factor) == "1.4"
    assert cp.spec.dcgm.port == 9400
    ur = UsageReport.model_validate(yaml.safe_load((samples / "usagereport-engineering.yaml").read_text()))
    assert (ur.spec.schedule, ur.spec.time_zone, ur.spec.idle_cost_policy, ur.spec.history_limit) == (
        "daily",
        "UTC",
        "Separate",
        31,
    )
    tb = TokenBudget.model_validate(yaml.safe_load((samples / "tokenbudget-engineering.yaml").read_text()))
    assert [t.percent for t in tb.spec.alert_thresholds] == [80, 100]


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("hardware", "gpuCount"), 0, "gpuCount"),
        (("hardware", "purchasePriceUSD"), -1, "purchasePriceUSD"),
        (("electricity", "pueFactor"), 0.5, "pueFactor"),
        (("hardware", "amortizationYears"), 0, "amortizationYears"),
        (("hardware", "maintenancePercentPerYear"), 1.5, "maintenancePercentPerYear"),
    ],
)
def test_client_side_validation_names_the_field(path: tuple[str, str], value: float, field: str) -> None:
    doc = yaml.safe_load((CRDS.parent / "samples" / "costprofile-h100.yaml").read_text())
    doc["spec"][path[0]][path[1]] = value
    with pytest.raises(ValueError, match=field):
        CostProfile.model_validate(doc)
