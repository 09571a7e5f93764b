"""The Event body: what ``kubectl describe`` needs to list it under the object."""

from __future__ import annotations

from datetime import UTC, datetime

from kubectl_infercost.kube.events import event_body

BUDGET = {
    "apiVersion": "finops.infercost.ai/v1alpha1",
    "kind": "TokenBudget",
    "metadata": {"name": "team-a", "namespace": "team-a", "uid": "u-1", "resourceVersion": "42"},
}


def test_event_names_the_object_with_its_uid_in_its_namespace() -> None:
    body = event_body(
        BUDGET,
        type_="Warning",
        reason="BudgetWarning",
        message="spend $850.00 is 85% of $1000.00",
        now=datetime(2026, 4, 20, 12, 0, 0, 123456, tzinfo=UTC),
    )
    assert body["metadata"] == {"generateName": "team-a.", "namespace": "team-a"}
    assert body["involvedObject"] == {
        "apiVersion": "finops.infercost.ai/v1alpha1",
        "kind": "TokenBudget",
        "name": "team-a",
        "namespace": "team-a",
        "uid": "u-1",
        "resourceVersion": "42",
    }
    assert (body["type"], body["reason"], body["count"]) == ("Warning", "BudgetWarning", 1)
    assert body["firstTimestamp"] == body["lastTimestamp"] == "2026-04-20T12:00:00Z"
    assert body["source"] == {"component": "kubectl-infercost"}


def test_long_messages_are_cut_to_the_api_limit() -> None:
    body = event_body(BUDGET, type_="Normal", reason="X", message="m" * 5000, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert len(body["message"]) == 1024
