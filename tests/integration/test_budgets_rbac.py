"""The reconciler role (deploy/rbac/roles.yaml) covers the budget step; without one rule the warning names it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_infercost.kube.client import KubeClient

from .budgetworld import budget, budget_events, conditions, source_report
from .conftest import REPO, run_cli
from .identities import user_kubeconfig
from .world import status_of

RBAC = "/apis/rbac.authorization.k8s.io/v1"


def _reconciler_role() -> dict[str, Any]:
    docs = list(yaml.safe_load_all((REPO / "deploy" / "rbac" / "roles.yaml").read_text()))
    role: dict[str, Any] = next(d for d in docs if d["metadata"]["name"] == "infercost-reconciler")
    return role


def _grant(kube: KubeClient, user: str, role: dict[str, Any]) -> None:
    role = copy.deepcopy(role)
    role["metadata"] = {"name": f"role-{user}"}
    kube.request("POST", f"{RBAC}/clusterroles", body=role)
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": f"bind-{user}"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": f"role-{user}"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }
    kube.request("POST", f"{RBAC}/clusterrolebindings", body=binding)


def _without(role: dict[str, Any], resource: str) -> dict[str, Any]:
    trimmed = copy.deepcopy(role)
    trimmed["rules"] = [r for r in trimmed["rules"] if resource not in r["resources"]]
    assert len(trimmed["rules"]) == len(role["rules"]) - 1
    return trimmed


@pytest.mark.usefixtures("installed", "prometheus_rule_crd")
def test_reconciler_role_suffices_for_budgets(
    kube: KubeClient, namespace: str, tmp_path: Path
) -> None:
    user = f"rec-{namespace}"
    _grant(kube, user, _reconciler_role())
    env = {"KUBECONFIG": str(user_kubeconfig(tmp_path / "kubeconfig", user))}
    source_report(kube, namespace, "850")
    budget(kube, namespace)
    out = run_cli("reconcile", "-n", namespace, "--now", "2026-04-20T12:00:00Z", env=env)
    assert out.returncode == 0 and "forbidden" not in out.stderr, out.stderr
    assert conditions(status_of(kube, "tokenbudgets", namespace, "team-x"))["PrometheusRuleReady"][0] == "True"
    assert budget_events(kube, namespace) == [("Warning", "BudgetWarning")]


@pytest.mark.usefixtures("installed", "prometheus_rule_crd")
@pytest.mark.parametrize(
    ("resource", "spend", "message"),
    [
        # the rule is skipped with a condition; the state is still written
        ("prometheusrules", "100", 'cannot get resource "prometheusrules" in API group "monitoring.coreos.com"'),
        # $850 of $1,000 is a change to Warning: its Event is refused, the status written
        ("events", "850", "event BudgetWarning not recorded: create event BudgetWarning in namespace"),
    ],
)
def test_a_missing_permission_is_named(
    kube: KubeClient,
    namespace: str,
    tmp_path: Path,
    resource: str,
    spend: str,
    message: str,
) -> None:
    user = f"no{resource}-{namespace}"
    _grant(kube, user, _without(_reconciler_role(), resource))
    env = {"KUBECONFIG": str(user_kubeconfig(tmp_path / "kubeconfig", user))}
    source_report(kube, namespace, spend)
    budget(kube, namespace)
    out = run_cli("reconcile", "-n", namespace, "--now", "2026-04-20T12:00:00Z", env=env)
    assert out.returncode == 0, out.stderr
    assert message in out.stderr and f'resource "{resource}"' in out.stderr, out.stderr
    state = conditions(status_of(kube, "tokenbudgets", namespace, "team-x"))
    assert state["PrometheusRuleReady"][0] == ("False" if resource == "prometheusrules" else "True")
    assert state["BudgetWarning" if spend == "850" else "BudgetOK"][0] == "True"


@pytest.mark.usefixtures("installed")
def test_missing_tokenbudget_status_permission_fails_the_pass_naming_it(
    kube: KubeClient, namespace: str, tmp_path: Path
) -> None:
    user = f"nostatus-{namespace}"
    role = _reconciler_role()
    for rule in role["rules"]:
        if "tokenbudgets/status" in rule["resources"]:
            rule["resources"] = [r for r in rule["resources"] if r != "tokenbudgets/status"]
    _grant(kube, user, role)
    env = {"KUBECONFIG": str(user_kubeconfig(tmp_path / "kubeconfig", user))}
    source_report(kube, namespace, "100")
    budget(kube, namespace)
    out = run_cli("reconcile", "-n", namespace, "--now", "2026-04-20T12:00:00Z", env=env)
    assert out.returncode == 4, out.stderr
    assert 'cannot update resource "tokenbudgets/status"' in out.stderr
