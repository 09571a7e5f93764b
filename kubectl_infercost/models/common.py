"""Shared pieces of the CR models: base config, metadata, conditions, number types."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

GROUP = "finops.infercost.ai"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    return value


# Money and other measured quantities: Decimal end to end (JSON is parsed with parse_float=Decimal).
Number = Annotated[Decimal, AfterValidator(_finite)]
NonNegative = Annotated[Decimal, AfterValidator(_finite), Field(ge=0)]
Timestamp = AwareDatetime


class KubeModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields are kept out, not fatal."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=False,
    )


class ObjectMeta(KubeModel):
    name: str
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: int | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    creation_timestamp: datetime | None = None
    owner_references: list[dict[str, Any]] = Field(default_factory=list)


ConditionStatus = Literal["True", "False", "Unknown"]


class Condition(KubeModel):
    type: str
    status: ConditionStatus
    reason: str | None = None
    message: str | None = None
    last_transition_time: Timestamp | None = None
    observed_generation: int | None = None
