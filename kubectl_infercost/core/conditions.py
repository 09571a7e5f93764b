"""Kubernetes-style conditions: lastTransitionTime moves only when the status changes."""

from __future__ import annotations

from datetime import datetime

from ..models import Condition


def set_condition(
    conditions: list[Condition], type_: str, status: str, reason: str, message: str, now: datetime
) -> list[Condition]:
    old = next((c for c in conditions if c.type == type_), None)
    since = old.last_transition_time if old is not None and old.status == status else now
    new = Condition(type=type_, status=status, reason=reason, message=message, last_transition_time=since)
    return sorted([c for c in conditions if c.type != type_] + [new], key=lambda c: c.type)
