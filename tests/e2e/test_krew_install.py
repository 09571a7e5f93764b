"""The release as users get it: ``kubectl krew install``, then every command through kubectl's plugin discovery.

Tests run in file order against one krew installation; the last one uninstalls it.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import stat
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from kubectl_infercost.kube.client import KubeClient
from kubectl_infercost.kube.config import load_config
from testenv import metricsgen
from testenv.simpod import ensure_namespace
from tests.integration.conftest import Sim
from tests.integration.world import create, new_world, reconcile, status_of

from .conftest import REPO, TAG, Krew, run

NS = "e2e-pool"
TEAM_A, TEAM_B = "e2e-team-a", "e2e-team-b"
T0, T1 = "2026-04-20T10:00:00Z", "2026-04-20T11:00:00Z"


def plugin(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run("kubectl", "infercost", *args, env=env)


def source_tree(*args: str) -> subprocess.CompletedProcess[str]:
    """The same command from the source tree (python -m), for side-by-side comparisons."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return run(sys.executable, "-m", "kubectl_infercost", *args, env=env)


@pytest.fixture(scope="module")
def kube() -> KubeClient:
    return KubeClient(load_config())


def test_plugin_list_shows_the_krew_binary(krew: Krew) -> None:
    out = run("kubectl", "plugin", "list")
    assert out.returncode == 0, out.stderr
    assert str(krew.bin("kubectl-infercost")) in out.stdout.splitlines()
    assert "warning" not in out.stderr.lower(), out.stderr  # not shadowed, executable
    assert os.path.realpath(krew.bin("kubectl-infercost")) == str(
        krew.store / "kubectl-infercost" / "kubectl-infercost"
    )


@pytest.mark.usefixtures("krew")
def test_version_is_the_release() -> None:
    text = plugin("version")
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[0] == f"kubectl-infercost {TAG}"
    info = json.loads(plugin("version", "-o", "json").stdout)
    commit = run("git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD").stdout.strip()
    assert info["pluginVersion"] == TAG.removeprefix("v")
    assert info["gitCommit"].removesuffix("-dirty") == commit
    assert info["buildDate"].endswith("Z") and info["frozen"] == "true"


def test_archive_carries_license_and_completion_helper(krew: Krew) -> None:
    assert "Apache License" in (krew.store / "LICENSE").read_text()
    helper = krew.store / "kubectl_complete-infercost"
    assert helper.stat().st_mode & stat.S_IXUSR


@pytest.mark.usefixtures("krew")
def test_install_creates_the_crds(kube: KubeClient) -> None:
    out = plugin("install")
    assert out.returncode == 0, out.stderr
    names = {
        item["metadata"]["name"] for item in kube.list_items("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
    }
    assert {
        "costprofiles.finops.infercost.ai",
        "usagereports.finops.infercost.ai",
        "tokenbudgets.finops.infercost.ai",
    } <= names


@pytest.mark.usefixtures("krew")
def test_reconcile_report_and_export(kube: KubeClient, tmp_path: Path) -> None:
    """The integration tier's worked example (token mode), now through the frozen binary."""
    sim = Sim(Path(os.environ["INFERCOST_SIM_ROOT"]))
    for ns in (NS, TEAM_A, TEAM_B):
        ensure_namespace(kube, ns)
    world = new_world(kube, sim, NS)
    world.add_exporter("192.0.2.20")
    world.pool_profile()
    world.inference_pod("vllm-a", TEAM_A, "192.0.2.21", "llama-3-8b")
    world.inference_pod("llama-b", TEAM_B, "192.0.2.22", "qwen2.5-7b", backend="llamacpp")
    create(kube, "usagereports", NS, "daily", {"costProfileRef": "h100", "namespaces": [TEAM_A, TEAM_B]})
    sim.write("192.0.2.21", 8000, metricsgen.vllm("llama-3-8b", 1_000_000, 400_000))
    sim.write("192.0.2.22", 8080, metricsgen.llamacpp(50_000, 20_000))
    world.set_energy(5_000_000_000)
    assert "baseline taken" in reconcile(NS, T0)["stdout"]
    sim.write("192.0.2.21", 8000, metricsgen.vllm("llama-3-8b", 1_600_000, 600_000))
    sim.write("192.0.2.22", 8080, metricsgen.llamacpp(150_000, 120_000))
    world.set_energy(6_800_000_000)  # +1.8e9 mJ = 0.5 kWh per GPU, 4 kWh for 8
    # One hour: $240,000 x 1.2 (4 years of 5 % maintenance) / 4 years / 8760 h = 8.219178 + 4 kWh x 1.5 x
    # $0.10 = 0.60 -> $8.819178 for 1,000,000 tokens: A 800,000 (80 % = 7.055342), B 200,000 (1.763836).
    assert "+$8.819178, +1,000,000 tokens" in reconcile(NS, T1)["stdout"]
    st = status_of(kube, "usagereports", NS, "daily")
    assert D(str(st["estimatedCostUSD"])) == D("8.819178")

    frozen = plugin("report", "-n", NS, "-o", "json")
    assert frozen.returncode == 0, frozen.stderr
    report = json.loads(frozen.stdout)
    assert report == json.loads(source_tree("report", "-n", NS, "-o", "json").stdout)
    usage = next(r for r in report["usageReports"] if r["name"] == "daily")
    assert D(str(usage["estimatedCostUSD"])) == D("8.819178")
    models = {m["model"]: D(str(m["estimatedCostUSD"])) for m in report["topModels"]}
    assert models == {"llama-3-8b": D("7.055342"), "qwen2.5-7b": D("1.763836")}

    focus = plugin("export", "focus", "-n", NS)
    assert focus.returncode == 0, focus.stderr
    assert focus.stdout == source_tree("export", "focus", "-n", NS).stdout
    # BilledCost is the attributed cost; ListCost = the 6-dp price per 1M tokens x quantity
    # (docs/export-focus.md): A 7.055342 / 0.8 = 8.8191775 -> 8.819178 x 0.8 = 7.0553424.
    focus_rows = list(csv.DictReader(io.StringIO(focus.stdout)))
    rows = {r["x_InferModelName"]: D(r["BilledCost"]) for r in focus_rows}
    assert rows == {"llama-3-8b": D("7.055342"), "qwen2.5-7b": D("1.763836")}
    assert sum(rows.values()) == D("8.819178")
    list_costs = {r["x_InferModelName"]: D(r["ListCost"]) for r in focus_rows}
    assert list_costs["llama-3-8b"] == D("7.0553424")
    parquet = tmp_path / "focus.parquet"
    out = plugin("export", "focus", "-n", NS, "--format", "parquet", "--out", str(parquet))
    assert out.returncode == 0, out.stderr
    table = pq.read_table(parquet, columns=["BilledCost", "x_InferModelName"]).to_pylist()
    costs = {r["x_InferModelName"]: D(str(r["BilledCost"])) for r in table}
    assert costs == rows

    # The board report renders its charts with the bundled matplotlib, in both formats.
    for suffix, magic in (("pdf", b"%PDF-"), ("html", b"<!DOCTYPE html>")):
        board = tmp_path / f"board.{suffix}"
        out = plugin("report", "board", "-n", NS, "--period", "2026-04-20", "--out", str(board))
        assert out.returncode == 0, out.stderr
        assert board.read_bytes().startswith(magic), board.read_bytes()[:40]


def _cobra(answer: str) -> tuple[list[str], str]:
    lines = answer.splitlines()
    return [line.split("\t")[0] for line in lines[:-1]], lines[-1]


def test_kubectl_plugin_completion(krew: Krew) -> None:
    """kubectl >= 1.26 completes ``kubectl infercost ...`` with kubectl_complete-infercost (linked as caveats say)."""
    link = krew.bin("kubectl_complete-infercost")
    link.symlink_to(krew.store / "kubectl_complete-infercost")
    values, directive = _cobra(run("kubectl", "__complete", "infercost", "rep").stdout)
    assert (values, directive) == (["report"], ":4")
    values, _ = _cobra(run("kubectl", "__complete", "infercost", "report", "").stdout)
    assert values == ["board", "budgets", "compare", "history", "models", "namespaces"]
    values, _ = _cobra(run("kubectl", "__complete", "infercost", "export", "focus", "--fo").stdout)
    assert values == ["--format", "--focus-version"]
    # dynamic: namespaces and period labels from the API server, through the binary
    values, _ = _cobra(run("kubectl", "__complete", "infercost", "report", "-n", "e2e-").stdout)
    assert values == [NS, TEAM_A, TEAM_B]
    values, _ = _cobra(run("kubectl", "__complete", "infercost", "export", "focus", "-n", NS, "--period", "").stdout)
    assert values == ["2026-04-20", "2026-04"]
    values, directive = _cobra(
        run("kubectl", "__complete", "infercost", "-n", "x", "--context", "nope", "-n", "").stdout
    )
    assert (values, directive) == ([], ":4")  # a bad context completes nothing, silently


@pytest.mark.usefixtures("krew")
def test_exec_credential_plugin_gets_the_users_environment(tmp_path: Path) -> None:
    """The frozen binary runs exec plugins with the user's LD_LIBRARY_PATH, not the bundle's."""
    config = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
    user = config["users"][0]["user"]
    seen = tmp_path / "seen"
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {
            "clientCertificateData": base64.b64decode(user.pop("client-certificate-data")).decode(),
            "clientKeyData": base64.b64decode(user.pop("client-key-data")).decode(),
        },
    }
    script = tmp_path / "get-token"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "LD_LIBRARY_PATH=${{LD_LIBRARY_PATH-<unset>}} PYI=$(env | grep -c ^_PYI_)" >> {seen}\n'
        f"cat <<'EOF'\n{json.dumps(credential)}\nEOF\n"
    )
    script.chmod(0o755)
    user["exec"] = {"apiVersion": "client.authentication.k8s.io/v1", "command": str(script), "interactiveMode": "Never"}
    exec_config = tmp_path / "kubeconfig"
    exec_config.write_text(yaml.safe_dump(config))
    env = {key: value for key, value in os.environ.items() if key != "LD_LIBRARY_PATH"}
    with_path = plugin(
        "report", "-n", NS, "--kubeconfig", str(exec_config), env={**env, "LD_LIBRARY_PATH": "/opt/user-libs"}
    )
    assert with_path.returncode == 0, with_path.stderr
    without = plugin("report", "-n", NS, "--kubeconfig", str(exec_config), env=env)
    assert without.returncode == 0, without.stderr
    assert seen.read_text().splitlines() == ["LD_LIBRARY_PATH=/opt/user-libs PYI=0", "LD_LIBRARY_PATH=<unset> PYI=0"]


def test_zz_krew_uninstall(krew: Krew) -> None:
    krew.bin("kubectl_complete-infercost").unlink(missing_ok=True)
    out = run("kubectl", "krew", "uninstall", "infercost")
    assert out.returncode == 0, out.stderr
    assert not krew.bin("kubectl-infercost").exists() and not krew.store.exists()
    listed = run("kubectl", "plugin", "list").stdout.splitlines()
    assert not [line for line in listed if line.endswith("/kubectl-infercost")], listed
