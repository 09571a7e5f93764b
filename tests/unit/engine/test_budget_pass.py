"""The budget step of a pass over the fake API: the Event comes only from the writer whose status write won."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any
from urllib.parse import urlsplit

from kubectl_infercost.kube.client import dumps, loads
from kubectl_infercost.reconcile import PassOptions, run_pass

from .fakeapi import FakeApi, Reply

NOW = datetime(2026, 4, 20, 12, tzinfo=UTC)
WARNING_STATE = [
    {"type": "BudgetExceeded", "status": "False"},
    {"type": "BudgetOK", "status": "False"},
    {"type": "BudgetWarning", "status": "True"},
]


@dataclass
class BudgetApi(FakeApi):
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (type, reason, message)
    rival: list[dict[str, Any]] | None = None  # conditions another reconciler writes just before our write

    def __call__(self, method: str, url: str, *, body: bytes | None = None, **kw: Any) -> Reply:
        path = urlsplit(url).path
        if method == "POST" and re.fullmatch(r"/api/v1/namespaces/[^/]+/events", path):
            event = loads(body or b"{}")
            self.events.append((event["type"], event["reason"], event["message"]))
            return Reply(201, dumps(event))
        if method == "PUT" and path.endswith("/tokenbudgets/team-a/status") and self.rival is not None:
            obj = self.objects[("tokenbudgets", "finance", "team-a")]
            obj["status"] = {"conditions": self.rival}
            self.version += 1
            obj["metadata"]["resourceVersion"] = str(self.version)  # so our write is stale: 409
            self.rival = None
        return super().__call__(method, url, body=body, **kw)


def _world(team_cost: str) -> BudgetApi:
    api = BudgetApi()
    # A report of a pool this pass does not scrape (no such CostProfile): its status is the spend.
    api.create("usagereports", "pools", "monthly", {"costProfileRef": "elsewhere", "schedule": "monthly"})
    set_spend(api, team_cost)
    api.create(
        "tokenbudgets",
        "finance",
        "team-a",
        {"scope": {"namespace": "team-a"}, "monthlyLimitUSD": 1000, "alertThresholds": []},
    )
    return api


def set_spend(api: BudgetApi, team_cost: str) -> None:
    api.objects[("usagereports", "pools", "monthly")]["status"] = {
        "period": "2026-04",
        "periodStart": "2026-04-01T00:00:00Z",
        "periodEnd": "2026-04-20T12:00:00Z",
        "byNamespace": [{"namespace": "team-a", "estimatedCostUSD": D(team_cost), "tokenCount": 1}],
    }


def budget_events(api: BudgetApi) -> list[tuple[str, str, str]]:
    """Events about budgets (the report without its CostProfile gets its own CostProfileNotFound)."""
    return [e for e in api.events if e[1].startswith("Budget")]


def _state(api: BudgetApi) -> list[str]:
    status = api.status("tokenbudgets", "finance", "team-a")
    return [c["type"] for c in status["conditions"] if c["status"] == "True" and c["type"].startswith("Budget")]


def test_the_winning_writer_emits_the_event() -> None:
    api = _world("500")
    with api.client() as client:
        run_pass(client, PassOptions(now=NOW, namespace=None, catalog=None))
        assert budget_events(api) == [] and _state(api) == ["BudgetOK"]  # starts OK: no Event
        set_spend(api, "850")
        run_pass(client, PassOptions(now=NOW, namespace=None, catalog=None))
        run_pass(client, PassOptions(now=NOW, namespace=None, catalog=None))  # unchanged: nothing new
    # Defaults (no thresholds given): 80 % warning, 100 % critical; 850 / 1000 = 85 %.
    assert budget_events(api) == [
        (
            "Warning",
            "BudgetWarning",
            "spend $850.00 is 85% of the $1,000.00 monthly limit, past the 80% (warning) threshold; "
            "$150.00 left before 100%",
        )
    ]
    assert _state(api) == ["BudgetWarning"]
    # the report whose CostProfile does not exist: Ready=False with an Event when that state begins; set_spend
    # replaced its whole status (conditions too) before pass 2, so it began twice; pass 3 adds none
    assert [e[1] for e in api.events if e not in budget_events(api)] == ["CostProfileNotFound"] * 2


def test_a_writer_that_lost_the_race_to_the_same_state_emits_nothing() -> None:
    api = _world("500")
    with api.client() as client:
        run_pass(client, PassOptions(now=NOW, namespace=None, catalog=None))
        set_spend(api, "850")
        api.rival = WARNING_STATE  # another reconciler records Warning first; our write gets 409
        summary = run_pass(client, PassOptions(now=NOW, namespace=None, catalog=None))
    assert budget_events(api) == []  # the rival announced it; we re-read, recomputed Warning and wrote quietly
    assert _state(api) == ["BudgetWarning"]
    assert any(
        line.startswith("tokenbudget finance/team-a: $850.00 of $1,000.00 (85%), Warning") for line in summary.results
    )
    assert not any("event" in line for line in summary.results)


def test_the_rule_is_skipped_with_a_condition_when_the_crd_is_absent() -> None:
    api = _world("100")
    with api.client() as client:
        summary = run_pass(client, PassOptions(now=NOW, namespace=None, catalog=None))
    status = api.status("tokenbudgets", "finance", "team-a")
    rule = next(c for c in status["conditions"] if c["type"] == "PrometheusRuleReady")
    assert (rule["status"], rule["reason"]) == ("False", "CRDNotInstalled")
    assert not any("PrometheusRule" in p for p in summary.problems)  # a condition, not an error
