"""The one read path of our kinds: list, validate each object, keep the problems per object.

Every command lists CostProfiles, UsageReports and TokenBudgets through here, so a bad object is
reported the same way everywhere (kind, namespace/name, the field, what is wrong) and never hides
the others, and a cluster without our CRDs gets the same "run `kubectl infercost install`".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import CrdsNotInstalledError, NotFoundError
from .client import JSON, KubeClient
from .resources import INFERCOST_RESOURCES, Resource

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ObjectProblem:
    """Why one object cannot be used, naming the field as the API path users edit."""

    kind: str
    namespace: str
    name: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}: {self.field}: {self.message}"


@dataclass
class Listing(Generic[M]):
    items: list[tuple[JSON, M]] = field(default_factory=list)
    problems: list[ObjectProblem] = field(default_factory=list)

    @property
    def models(self) -> list[M]:
        return [model for _, model in self.items]


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(object)"


def problem_of(kind: str, obj: JSON, exc: ValidationError) -> ObjectProblem:
    meta = obj.get("metadata") or {}
    first = exc.errors()[0]
    return ObjectProblem(
        kind, str(meta.get("namespace") or ""), str(meta.get("name") or "?"), _field_path(first["loc"]), first["msg"]
    )


def validate(kind: str, model: type[M], obj: JSON) -> M | ObjectProblem:
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        return problem_of(kind, obj, exc)


def list_raw(client: KubeClient, resource: Resource, namespace: str | None) -> list[JSON]:
    """The objects of one kind; our kinds' 404 means our CRDs are not installed."""
    try:
        # Our kinds are small objects, and all of them are kept anyway: one request, no pages.
        return client.list_items(resource.collection(namespace), what=f"list {resource.plural}", page_size=None)
    except NotFoundError as exc:
        if resource in INFERCOST_RESOURCES:
            raise CrdsNotInstalledError(resource.kind) from exc
        raise


def list_valid(client: KubeClient, resource: Resource, model: type[M], namespace: str | None) -> Listing[M]:
    return validate_all(resource, model, list_raw(client, resource, namespace))


def validate_all(resource: Resource, model: type[M], objects: list[JSON]) -> Listing[M]:
    listing: Listing[M] = Listing()
    for obj in objects:
        result = validate(resource.kind, model, obj)
        if isinstance(result, ObjectProblem):
            listing.problems.append(result)
        else:
            listing.items.append((obj, result))
    return listing
