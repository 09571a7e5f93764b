"""Kubernetes Events about our objects (core/v1, so ``kubectl describe`` lists them).

Events are written only on a state change, by the writer whose status update won the
optimistic-concurrency race, so concurrent reconcilers never emit the same transition twice.
"""

from __future__ import annotations

import socket
from datetime import datetime

from .client import JSON, KubeClient
from .objects import rfc3339
from .resources import EVENTS

REPORTING_COMPONENT = "kubectl-infercost"
MAX_MESSAGE = 1024


def event_body(obj: JSON, *, type_: str, reason: str, message: str, now: datetime) -> JSON:
    """A core/v1 Event about ``obj``; the uid is what lets ``kubectl describe`` find it."""
    meta = obj["metadata"]
    stamp = rfc3339(now.replace(microsecond=0))
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
        "involvedObject": {
            "apiVersion": obj.get("apiVersion", ""),
            "kind": obj.get("kind", ""),
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta.get("uid", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        },
        "type": type_,
        "reason": reason,
        "message": message[:MAX_MESSAGE],
        "source": {"component": REPORTING_COMPONENT},
        "reportingComponent": REPORTING_COMPONENT,
        "reportingInstance": f"{REPORTING_COMPONENT}-{socket.gethostname()}"[:128],
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


def emit_event(client: KubeClient, obj: JSON, *, type_: str, reason: str, message: str, now: datetime) -> JSON:
    """Create one Event (``type_`` is Normal or Warning) in the object's namespace."""
    body = event_body(obj, type_=type_, reason=reason, message=message, now=now)
    namespace = obj["metadata"]["namespace"]
    created: JSON = client.request(
        "POST", EVENTS.collection(namespace), body=body, what=f"create event {reason} in namespace {namespace}"
    )
    return created
