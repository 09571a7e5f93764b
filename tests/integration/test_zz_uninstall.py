"""Runs last in the session (file order): uninstall refuses while CRs exist, then removes all."""

from __future__ import annotations

import pytest

from kubectl_infercost.kube.client import KubeClient

from .conftest import run_cli


@pytest.mark.usefixtures("installed")
def test_uninstall_refuses_then_deletes(kube: KubeClient, namespace: str) -> None:
    cp = {
        "apiVersion": "finops.infercost.ai/v1alpha1",
        "kind": "CostProfile",
        "metadata": {"name": "doomed", "namespace": namespace},
        "spec": {
            "hardware": {"gpuModel": "L4", "gpuCount": 1, "purchasePriceUSD": 2500},
            "electricity": {"ratePerKWh": 0.1},
        },
    }
    kube.request("POST", f"/apis/finops.infercost.ai/v1alpha1/namespaces/{namespace}/costprofiles", body=cp)
    counts = {
        p: len(kube.list_items(f"/apis/finops.infercost.ai/v1alpha1/{p}"))
        for p in ("costprofiles", "usagereports", "tokenbudgets")
    }
    refused = run_cli("uninstall")
    assert refused.returncode == 1
    summary = ", ".join(f"{counts[p]} {p}" for p in ("costprofiles", "usagereports", "tokenbudgets"))
    assert refused.stderr.splitlines() == [
        f"error: refusing to uninstall: {summary} would be deleted with the CRDs; pass --yes to delete them"
    ]
    assert counts["costprofiles"] >= 1
    done = run_cli("uninstall", "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(" deleted") == 3
    crds = kube.list_items("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
    assert [c for c in crds if c["spec"]["group"] == "finops.infercost.ai"] == []
    # Every command says the same thing about the missing CRDs, in one line, with exit 4.
    for args in (("reconcile", "-A"), ("report", "-A"), ("export", "focus"), ("report", "budgets", "-A")):
        missing = run_cli(*args)
        assert missing.returncode == 4, (args, missing.stderr)
        [line] = missing.stderr.splitlines()
        assert line.startswith("error: the infercost CRDs are not installed on this cluster (")
        assert line.endswith("is unknown); run `kubectl infercost install`"), line
    # leave the cluster as the session found it for any later test
    assert run_cli("install").returncode == 0
