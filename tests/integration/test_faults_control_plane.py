"""Faults in the control plane, through a real HTTP proxy in front of kube-apiserver (testenv/apiproxy.py):
409 on every status write for a while, an object deleted between the pass's list and its update, a
referenced CostProfile deleted and recreated; a kubeconfig whose exec credential plugin fails; export --out
with the API gone. Money from the flat $3.60/h profile (tests/integration/flat.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest
import yaml

from kubectl_infercost.kube.client import KubeClient
from testenv import metricsgen
from testenv.apiproxy import ApiProxy

from .conftest import NewIp, Sim, run_cli
from .flat import flat_profile, total_tokens
from .world import GROUP, check_invariants, create, new_world, reconcile, status_of

T0, T1, T2, T3 = (f"2026-04-20T{h:02d}:00:00Z" for h in (10, 11, 12, 13))


@pytest.fixture
def proxy() -> Iterator[ApiProxy]:
    with ApiProxy() as p:
        yield p


def _baselined(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp, tokens: tuple[int, int], *reports: str
) -> str:
    """A flat profile of one GPU, a vLLM pod on it serving ``tokens`` and ``reports`` (default ``daily``)
    of the namespace, baselined by a pass at T0; the pod's IP."""
    w = new_world(kube, sim, namespace)
    create(kube, "costprofiles", namespace, "flat", flat_profile(1, {"infercost.test/pool": namespace}))
    ip = new_ip()
    w.inference_pod("vllm", namespace, ip, "m", gpus=1)
    for name in reports or ("daily",):
        create(kube, "usagereports", namespace, name, {"costProfileRef": "flat", "namespaces": [namespace]})
    sim.write(ip, 8000, metricsgen.vllm("m", *tokens))
    reconcile(namespace, T0)
    return ip


def _delete_before_its_status_write(proxy: ApiProxy, path: str) -> None:
    """The object at ``path`` is deleted when the pass's status PUT for it reaches the proxy."""

    def delete_first(put_path: str) -> bool:
        if put_path != path + "/status":
            return False
        code, body = proxy.upstream_request("DELETE", path)
        assert code == 200, body
        return True

    proxy.before_status_put(delete_first)


def _via(proxy: ApiProxy, tmp_path: Path, namespace: str, now: str) -> tuple[int, str, str]:
    config = proxy.write_kubeconfig(tmp_path / "proxy.kubeconfig")
    out = run_cli("reconcile", "-n", namespace, "--now", now, env={"KUBECONFIG": str(config)})
    return out.returncode, out.stdout, out.stderr


@pytest.mark.usefixtures("installed")
def test_conflicts_on_every_status_write_for_a_while_lose_and_double_nothing(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
    proxy: ApiProxy,
    tmp_path: Path,
) -> None:
    ip = _baselined(kube, sim, namespace, new_ip, (1_000, 500))  # baseline at 1,000 / 500

    sim.write(ip, 8000, metricsgen.vllm("m", 3_000, 1_500))
    proxy.conflicts(1_000)  # every status write of this pass is refused
    code, _, err = _via(proxy, tmp_path, namespace, T1)
    assert code == 0, err
    assert f"UsageReport {namespace}/daily: status write kept conflicting; will retry next pass" in err, err
    assert f"CostProfile {namespace}/flat: status write kept conflicting; will retry next pass" in err, err
    # 6 attempts per object (the first and 5 re-reads), 2 objects; none reached the API server
    assert proxy.answered_409 == 12 and proxy.upstream_409 == 0
    st = status_of(kube, "usagereports", namespace, "daily")
    assert st["checkpoint"]["time"] == T0 and total_tokens(st) == (0, 0)

    sim.write(ip, 8000, metricsgen.vllm("m", 6_000, 3_000))
    proxy.conflicts(5)  # the profile's first 5 writes conflict, its 6th wins; the report's first wins
    code, _out, err = _via(proxy, tmp_path, namespace, T2)
    assert code == 0, err
    assert "kept conflicting" not in err, err
    st = status_of(kube, "usagereports", namespace, "daily")
    # every token since the baseline once: 6,000 - 1,000 = 5,000 in, 3,000 - 500 = 2,500 out
    assert total_tokens(st) == (5_000, 2_500)
    # 10:00 -> 12:00 at $3.60/h = $7.20, all on the pod that holds the one GPU
    assert st["checkpoint"]["time"] == T2 and D(str(st["estimatedCostUSD"])) == D("7.2")
    assert [(m["model"], D(str(m["estimatedCostUSD"]))) for m in st["byModel"]] == [("m", D("7.2"))]
    assert D(str(st["idleCostUSD"])) == 0
    check_invariants(st)
    assert D(str(status_of(kube, "costprofiles", namespace, "flat")["hourlyCostUSD"])) == D("3.6")


@pytest.mark.usefixtures("installed")
def test_a_report_deleted_between_list_and_update_does_not_stop_the_pass(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
    proxy: ApiProxy,
    tmp_path: Path,
) -> None:
    ip = _baselined(kube, sim, namespace, new_ip, (1_000, 0), "a-doomed", "b-kept")
    sim.write(ip, 8000, metricsgen.vllm("m", 4_000, 0))
    # listed, computed, then deleted just before its write
    _delete_before_its_status_write(proxy, f"{GROUP}/namespaces/{namespace}/usagereports/a-doomed")
    code, out, err = _via(proxy, tmp_path, namespace, T1)
    assert code == 0, err + out
    assert f"usagereport {namespace}/a-doomed: deleted during the pass; nothing written" in out, out
    assert [r["metadata"]["name"] for r in kube.list_items(f"{GROUP}/namespaces/{namespace}/usagereports")] == [
        "b-kept"
    ]
    st = status_of(kube, "usagereports", namespace, "b-kept")
    # the other report is accounted as ever: 4,000 - 1,000 tokens, one hour at $3.60
    assert total_tokens(st) == (3_000, 0) and D(str(st["estimatedCostUSD"])) == D("3.6")


@pytest.mark.usefixtures("installed")
def test_a_profile_deleted_between_list_and_update_does_not_stop_the_pass(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
    proxy: ApiProxy,
    tmp_path: Path,
) -> None:
    ip = _baselined(kube, sim, namespace, new_ip, (1_000, 0))
    sim.write(ip, 8000, metricsgen.vllm("m", 2_000, 0))
    _delete_before_its_status_write(proxy, f"{GROUP}/namespaces/{namespace}/costprofiles/flat")
    code, out, err = _via(proxy, tmp_path, namespace, T1)
    assert code == 0, err + out
    assert f"costprofile {namespace}/flat: deleted during the pass; nothing written" in out, out
    # the profile existed when the pass listed it: the hour up to T1 is accounted with it, $3.60
    st = status_of(kube, "usagereports", namespace, "daily")
    assert total_tokens(st) == (1_000, 0) and D(str(st["estimatedCostUSD"])) == D("3.6")
    # the next pass finds it gone
    reconcile(namespace, T2)
    st = status_of(kube, "usagereports", namespace, "daily")
    ready = next(c for c in st["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "CostProfileNotFound")


@pytest.mark.usefixtures("installed")
def test_referenced_profile_deleted_then_recreated_counts_every_token_and_hour_once(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
) -> None:
    ip = _baselined(kube, sim, namespace, new_ip, (1_000, 100))
    sim.write(ip, 8000, metricsgen.vllm("m", 2_000, 200))
    reconcile(namespace, T1)
    kube.request("DELETE", f"{GROUP}/namespaces/{namespace}/costprofiles/flat")
    sim.write(ip, 8000, metricsgen.vllm("m", 5_000, 500))  # served while the profile is gone
    out = reconcile(namespace, T2)["stdout"]
    assert (
        f"not ready: usagereport {namespace}/daily: CostProfileNotFound: "
        f"spec.costProfileRef: CostProfile {namespace}/flat not found" in out
    ), out
    st = status_of(kube, "usagereports", namespace, "daily")
    assert st["checkpoint"]["time"] == T1 and total_tokens(st) == (1_000, 100)  # kept as it was
    create(kube, "costprofiles", namespace, "flat", flat_profile(1, {"infercost.test/pool": namespace}))
    sim.write(ip, 8000, metricsgen.vllm("m", 9_000, 900))
    reconcile(namespace, T3)
    st = status_of(kube, "usagereports", namespace, "daily")
    # 9,000 - 1,000 = 8,000 in and 900 - 100 = 800 out in all; 10:00 -> 13:00 = 3 h x $3.60 = $10.80
    assert total_tokens(st) == (8_000, 800)
    assert D(str(st["estimatedCostUSD"])) == D("10.8")
    assert next(c for c in st["conditions"] if c["type"] == "Ready")["status"] == "True"


@pytest.mark.usefixtures("installed")
def test_a_failing_exec_plugin_is_one_clear_error_and_writes_nothing(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
    tmp_path: Path,
) -> None:
    _baselined(kube, sim, namespace, new_ip, (1_000, 0))
    before = status_of(kube, "usagereports", namespace, "daily")
    plugin = tmp_path / "plugin.sh"
    plugin.write_text("#!/bin/sh\necho 'token service: 503 \"unavailable\"' >&2\nexit 9\n")
    plugin.chmod(0o755)
    admin = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
    ctx = next(c["context"] for c in admin["contexts"] if c["name"] == admin["current-context"])
    cluster = next(c["cluster"] for c in admin["clusters"] if c["name"] == ctx["cluster"])
    exec_user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin)}}
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "envtest", "cluster": cluster}],
        "users": [{"name": "sso", "user": exec_user}],
        "contexts": [{"name": "corp", "context": {"cluster": "envtest", "user": "sso"}}],
        "current-context": "corp",
    }
    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump(doc))
    for args in (("reconcile", "-n", namespace, "--now", T1), ("report", "-n", namespace), ("export", "focus")):
        out = run_cli(*args, env={"KUBECONFIG": str(config)})
        assert out.returncode == 3, (args, out.stderr)
        [line] = out.stderr.splitlines()
        assert line.startswith("error: ") and "context 'corp'" in line and "user 'sso'" in line, line
        assert str(plugin) in line and "returned 9" in line and 'token service: 503 "unavailable"' in line, line
    assert status_of(kube, "usagereports", namespace, "daily") == before


@pytest.mark.usefixtures("installed")
def test_export_out_never_leaves_a_partial_file(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
    proxy: ApiProxy,
    tmp_path: Path,
) -> None:
    ip = _baselined(kube, sim, namespace, new_ip, (0, 0))
    sim.write(ip, 8000, metricsgen.vllm("m", 1_000, 0))
    reconcile(namespace, T1)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "focus.csv"
    target.write_text("last month's export\n")
    config = proxy.write_kubeconfig(tmp_path / "proxy.kubeconfig")
    proxy.stop()  # the API goes away: nothing can be read, so nothing may be written
    failed = run_cli("export", "focus", "-n", namespace, "--out", str(target), env={"KUBECONFIG": str(config)})
    assert failed.returncode == 4, failed.stderr
    assert target.read_text() == "last month's export\n"
    assert sorted(p.name for p in out_dir.rglob("*")) == ["focus.csv"]  # no temporary file left behind
    done = run_cli("export", "focus", "-n", namespace, "--out", str(target))
    assert done.returncode == 0, done.stderr
    # the header and one row, the hour's $3.60 on the one model
    rows = target.read_text().splitlines()
    assert len(rows) == 2 and rows[1].startswith("3.600000000000,3.600000000000,")
