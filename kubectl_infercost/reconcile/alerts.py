"""Warning Events when an object's condition enters a bad state, and conditions on objects we cannot read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..errors import ApiError, ConflictError
from ..kube.client import JSON, KubeClient
from ..kube.events import emit_event
from ..kube.objects import get_object, rfc3339
from ..kube.resources import Resource

# Condition type -> the status that is a warning (one Event when it begins).
WARNING_STATES = {"Ready": "False", "NodesShared": "True", "GPUsOversubscribed": "True"}
MAX_ATTEMPTS = 6


def _state(conditions: Iterable[Mapping[str, Any]], type_: str) -> tuple[Any, Any]:
    old = next((c for c in conditions if c.get("type") == type_), None)
    return (None, None) if old is None else (old.get("status"), old.get("reason"))


def warnings_begun(old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Conditions of ``new`` in a warning state that ``old`` did not already hold (same status and reason)."""
    old = list(old)
    return [
        c
        for c in new
        if WARNING_STATES.get(c.get("type", "")) == c.get("status")
        and _state(old, c["type"]) != (c["status"], c.get("reason"))
    ]


def emit_warnings(
    client: KubeClient, written: JSON, old: Iterable[Mapping[str, Any]], now: datetime, problems: list[str]
) -> None:
    """After a status write that won: one Warning Event per warning state that just began."""
    for cond in warnings_begun(old, (written.get("status") or {}).get("conditions") or []):
        try:
            emit_event(
                client, written, type_="Warning", reason=cond["reason"], message=cond.get("message", ""), now=now
            )
        except ApiError as exc:
            problems.append(f"cannot record Event {cond['reason']}: {exc}")


def mark_not_ready(
    client: KubeClient, resource: Resource, obj: JSON, reason: str, message: str, now: datetime, problems: list[str]
) -> None:
    """Ready=False on an object whose spec or status our models reject (its raw status is kept as it is)."""
    meta = obj["metadata"]
    for _ in range(MAX_ATTEMPTS):
        status = dict(obj.get("status") or {})
        old = list(status.get("conditions") or [])
        ready = next((c for c in old if c.get("type") == "Ready"), None)
        since = ready.get("lastTransitionTime") if ready and ready.get("status") == "False" else rfc3339(now)
        new = {"type": "Ready", "status": "False", "reason": reason, "message": message, "lastTransitionTime": since}
        status["conditions"] = sorted([c for c in old if c.get("type") != "Ready"] + [new], key=lambda c: c["type"])
        body = {**obj, "status": status}
        try:
            written: JSON = client.request(
                "PUT",
                resource.item(meta["name"], meta["namespace"]) + "/status",
                body=body,
                what=f"{resource.kind} {meta['namespace']}/{meta['name']} status",
            )
        except ConflictError:
            obj = get_object(client, resource, meta["namespace"], meta["name"])
            continue
        except ApiError as exc:
            problems.append(f"{resource.kind} {meta['namespace']}/{meta['name']}: cannot write its condition: {exc}")
            return
        emit_warnings(client, written, old, now, problems)
        return
