"""Least privilege: each command as a non-admin user holding the shipped roles (deploy/rbac/roles.yaml)
works; with any one permission taken away it either fails naming that permission and writes no
accounting at all, or (for permissions that only serve an optional step) goes on and names what it
could not do.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_infercost.kube.client import KubeClient
from testenv import metricsgen

from .budgetworld import budget
from .conftest import REPO, NewIp, Sim, run_cli
from .flat import flat_world, total_tokens
from .identities import grant_cluster_role, user_kubeconfig
from .world import GROUP, reconcile, status_of

Atom = tuple[str, str, str]  # (API group, resource, verb)


def _roles() -> dict[str, dict[str, Any]]:
    docs = yaml.safe_load_all((REPO / "deploy" / "rbac" / "roles.yaml").read_text())
    return {d["metadata"]["name"]: d for d in docs}


def _atoms(role: dict[str, Any]) -> list[Atom]:
    return [
        (g, r, v) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]
    ]


def _without(role: dict[str, Any], atom: Atom) -> list[dict[str, Any]]:
    group, resource, verb = atom
    rules = []
    for rule in copy.deepcopy(role["rules"]):
        if group in rule["apiGroups"] and resource in rule["resources"] and verb in rule["verbs"]:
            others = [r for r in rule["resources"] if r != resource]
            if others:
                rules.append({**rule, "resources": others})
            verbs = [v for v in rule["verbs"] if v != verb]
            if verbs:
                rules.append({**rule, "resources": [resource], "verbs": verbs})
        else:
            rules.append(rule)
    return rules


def _baselined(kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp, prompt_tokens: int) -> str:
    """The flat world with a TokenBudget and a vLLM pod serving ``prompt_tokens``, baselined at 10:00 (as
    admin); the pod's IP."""
    w = flat_world(kube, sim, namespace, 1)
    budget(kube, namespace)
    ip = new_ip()
    w.inference_pod("vllm", namespace, ip, "m", gpus=1)
    sim.write(ip, 8000, metricsgen.vllm("m", prompt_tokens, 0))
    reconcile(namespace, "2026-04-20T10:00:00Z")
    return ip


def _as(kube: KubeClient, tmp_path: Path, name: str, rules: list[dict[str, Any]], namespace: str) -> dict[str, str]:
    """A user holding exactly ``rules`` (cluster-wide, pods/proxy included) and its kubeconfig."""
    grant_cluster_role(kube, name, name, rules)
    return {"KUBECONFIG": str(user_kubeconfig(tmp_path / f"{name}.kubeconfig", name, namespace=namespace))}


def _versions(kube: KubeClient, namespace: str) -> dict[str, str]:
    out = {}
    for plural in ("costprofiles", "usagereports", "tokenbudgets"):
        for obj in kube.list_items(f"{GROUP}/namespaces/{namespace}/{plural}"):
            out[f"{plural}/{obj['metadata']['name']}"] = obj["metadata"]["resourceVersion"]
    return out


def _name(verb: str, resource: str) -> str:
    return f"{verb}-{resource.replace('/', '-').replace('.', '-')}"


# Permissions whose loss a reconcile pass survives, and what it says instead (in stderr).
OPTIONAL = {
    ("monitoring.coreos.com", "prometheusrules", "get"): 'resource "prometheusrules"',
    ("", "pods/proxy", "get"): "may not get pods/proxy",
}


@pytest.mark.usefixtures("installed", "prometheus_rule_crd")
def test_reconcile_under_the_shipped_roles_and_with_each_permission_removed(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
    tmp_path: Path,
) -> None:
    roles = _roles()
    reconciler, proxy = roles["infercost-reconciler"], roles["infercost-pod-proxy"]
    ip = _baselined(kube, sim, namespace, new_ip, 1_000)  # as admin
    tokens = 1_000
    hour = 0  # minutes after the baseline, one pass each
    full = reconciler["rules"] + proxy["rules"]
    results: dict[Atom, str] = {}
    for atom in _atoms(reconciler) + _atoms(proxy):
        _, resource, verb = atom
        hour += 1
        tokens += 1_000
        sim.write(ip, 8000, metricsgen.vllm("m", tokens, 0))
        rules = _without(reconciler, atom) + proxy["rules"] if resource != "pods/proxy" else reconciler["rules"]
        env = _as(kube, tmp_path, _name(verb, resource) + f"-{namespace}", rules, namespace)
        before = _versions(kube, namespace)
        out = run_cli("reconcile", "--now", f"2026-04-20T10:{hour:02d}:00Z", env=env)
        if out.returncode == 0:
            named = OPTIONAL.get(atom, "\0") in out.stdout + out.stderr
            results[atom] = "pass goes on" + (", names it" if named else "")
            continue
        assert out.returncode == 4, (atom, out.stdout, out.stderr)
        [line] = out.stderr.splitlines()
        # the one error line names the verb and the resource
        assert line.startswith("error: ") and f'cannot {verb} resource "{resource}"' in line, (atom, line)
        # ... and nothing at all was written: every object of ours is at the version it was
        assert _versions(kube, namespace) == before, (atom, line)
        results[atom] = "fails naming it, writes nothing"
    fails = "fails naming it, writes nothing"
    assert results == {
        ("", "nodes", "get"): "pass goes on",  # nodes and pods are listed, never fetched one by one
        ("", "nodes", "list"): fails,
        ("", "pods", "get"): "pass goes on",
        ("", "pods", "list"): fails,
        ("", "configmaps", "get"): "pass goes on",  # no infercost-pricing ConfigMap: the bundled catalog
        ("finops.infercost.ai", "costprofiles", "get"): "pass goes on",  # fetched only after a 409
        ("finops.infercost.ai", "usagereports", "get"): "pass goes on",
        ("finops.infercost.ai", "tokenbudgets", "get"): "pass goes on",
        ("finops.infercost.ai", "costprofiles", "list"): fails,
        ("finops.infercost.ai", "usagereports", "list"): fails,
        ("finops.infercost.ai", "tokenbudgets", "list"): fails,
        ("finops.infercost.ai", "costprofiles/status", "get"): "pass goes on",  # never read through /status
        ("finops.infercost.ai", "usagereports/status", "get"): "pass goes on",
        ("finops.infercost.ai", "tokenbudgets/status", "get"): "pass goes on",
        ("finops.infercost.ai", "costprofiles/status", "update"): fails,
        ("finops.infercost.ai", "usagereports/status", "update"): fails,
        ("finops.infercost.ai", "tokenbudgets/status", "update"): fails,
        ("", "events", "create"): "pass goes on",  # no warning began in this pass: no Event to create
        ("monitoring.coreos.com", "prometheusrules", "get"): "pass goes on, names it",
        ("monitoring.coreos.com", "prometheusrules", "create"): "pass goes on",  # made by the baseline pass
        ("monitoring.coreos.com", "prometheusrules", "update"): "pass goes on",  # the rule is as it should be
        ("monitoring.coreos.com", "prometheusrules", "patch"): "pass goes on",
        ("", "namespaces", "get"): "pass goes on",  # read only for namespaceSelector and "reports elsewhere"
        ("", "namespaces", "list"): "pass goes on",
        ("apiextensions.k8s.io", "customresourcedefinitions", "get"): "pass goes on",
        ("", "pods/proxy", "get"): "pass goes on, names it",  # the scrape fails, named, for that endpoint
    }, results
    # with every permission: the same world as the shipped roles see it, every hour's token once
    env = _as(kube, tmp_path, f"all-{namespace}", full, namespace)
    hour += 1
    done = run_cli("reconcile", "--now", f"2026-04-20T10:{hour:02d}:00Z", env=env)
    assert done.returncode == 0 and "forbidden" not in done.stderr.lower(), done.stderr
    st = status_of(kube, "usagereports", namespace, "daily")
    # the counter went 1,000 -> 1,000 + 1,000 x (the number of runs); whatever pass counted a step, once
    assert total_tokens(st)[0] == tokens - 1_000


@pytest.mark.usefixtures("installed")
def test_viewer_commands_under_the_shipped_role_and_with_each_permission_removed(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
    tmp_path: Path,
) -> None:
    viewer = _roles()["infercost-viewer"]
    ip = _baselined(kube, sim, namespace, new_ip, 0)
    sim.write(ip, 8000, metricsgen.vllm("m", 1_000, 0))
    reconcile(namespace, "2026-04-20T11:00:00Z")
    commands = [
        ("report", "-n", namespace, "-o", "json"),
        ("report", "budgets", "-n", namespace),
        ("export", "focus", "-n", namespace),
        ("report", "board", "-n", namespace, "--format", "html", "--out", str(tmp_path / "board.html")),
    ]
    env = _as(kube, tmp_path, f"viewer-{namespace}", viewer["rules"], namespace)
    for command in commands:
        out = run_cli(*command, env=env)
        assert out.returncode == 0, (command, out.stderr)
    failures: dict[Atom, list[str]] = {}
    for atom in _atoms(viewer):
        _group, resource, verb = atom
        env = _as(kube, tmp_path, f"{_name(verb, resource)}-{namespace}", _without(viewer, atom), namespace)
        for command in commands[:3:2]:  # report and export focus (board and budgets read the same)
            out = run_cli(*command, env=env)
            if out.returncode != 0:
                assert out.returncode == 4, (atom, command, out.stderr)
                assert f'cannot {verb} resource "{resource}"' in out.stderr, (atom, command, out.stderr)
                failures.setdefault(atom, []).append(command[0] + (f" {command[1]}" if command[1] != "-n" else ""))
    # each list the command needs fails it, named; the gets, the pricing ConfigMap (none here: the bundled
    # catalog) and the namespaces (read for --tag-label only) are not needed by these two commands
    assert failures == {
        ("finops.infercost.ai", "costprofiles", "list"): ["report", "export focus"],
        ("finops.infercost.ai", "usagereports", "list"): ["report", "export focus"],
        ("finops.infercost.ai", "tokenbudgets", "list"): ["report"],
    }
