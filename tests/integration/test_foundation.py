"""Issue: foundation. The CRDs, install/uninstall, the harness and the pod proxy, against a real API server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from kubectl_infercost.kube.client import KubeClient
from testenv.simpod import make_node, make_pod

from .conftest import REPO, NewIp, Sim, run_cli

SAMPLES = REPO / "samples"
FIXTURES = REPO / "tests" / "fixtures" / "metrics"


def kubectl(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, input=input, check=False, timeout=60)


def test_server_reports_a_real_version() -> None:
    out = kubectl("version", "-o", "json")
    assert out.returncode == 0, out.stderr
    server = json.loads(out.stdout)["serverVersion"]
    assert server["gitVersion"] == "v1.33.13"
    assert json.loads(out.stdout)["clientVersion"]["minor"] == "33"


@pytest.mark.usefixtures("installed")
def test_install_is_idempotent() -> None:
    again = run_cli("install")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count(".finops.infercost.ai unchanged") == 3
    assert "CRDs unchanged: nothing to do" in again.stdout


def test_install_dry_run_prints_the_manifests() -> None:
    out = run_cli("install", "--dry-run")
    assert out.returncode == 0
    docs = list(yaml.safe_load_all(out.stdout))
    assert sorted(d["metadata"]["name"] for d in docs) == [
        "costprofiles.finops.infercost.ai",
        "tokenbudgets.finops.infercost.ai",
        "usagereports.finops.infercost.ai",
    ]


@pytest.mark.usefixtures("installed")
def test_crd_names_categories_and_printer_columns(kube: KubeClient) -> None:
    crd = kube.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/costprofiles.finops.infercost.ai")
    assert crd["spec"]["names"]["shortNames"] == ["cp"]
    assert crd["spec"]["names"]["categories"] == ["infercost"]
    kubectl("create", "namespace", "engineering")
    for sample in sorted(SAMPLES.glob("*.yaml")):
        applied = kubectl("apply", "-f", str(sample))
        assert applied.returncode == 0, applied.stderr
    table = kubectl("get", "cp,ur,tb", "-A")
    assert table.returncode == 0, table.stderr
    header_lines = [line for line in table.stdout.splitlines() if line.startswith("NAMESPACE")]
    assert [h.split() for h in header_lines] == [
        ["NAMESPACE", "NAME", "GPU", "MODEL", "GPUS", "$/HR", "POWER", "W", "SOURCE", "DCGM", "AGE"],
        [
            "NAMESPACE",
            "NAME",
            "PROFILE",
            "SCHEDULE",
            "PERIOD",
            "COST",
            "USD",
            "$/MTOK",
            "INPUT",
            "TOKENS",
            "OUTPUT",
            "TOKENS",
            "AGE",
        ],
        ["NAMESPACE", "NAME", "SCOPE", "LIMIT", "USD", "SPEND", "USD", "UTILIZATION", "%", "EXCEEDED", "AGE"],
    ]
    assert "h100-node-01" in table.stdout and "NVIDIA H100 SXM5" in table.stdout
    by_category = kubectl("get", "infercost", "-n", "engineering", "-o", "name")
    assert sorted(by_category.stdout.split()) == [
        "costprofile.finops.infercost.ai/h100-node-01",
        "tokenbudget.finops.infercost.ai/engineering-monthly",
        "usagereport.finops.infercost.ai/engineering-daily",
    ]
    # defaults are filled in by the API server
    ur = json.loads(kubectl("get", "ur", "engineering-daily", "-n", "engineering", "-o", "json").stdout)
    assert ur["spec"]["timeZone"] == "UTC" and ur["spec"]["idleCostPolicy"] == "Separate"
    assert ur["spec"]["historyLimit"] == 31 and ur["spec"]["outputTokenWeight"] == 1


def _set(doc: dict, path: str, value: object) -> dict:  # type: ignore[type-arg]
    node = doc
    *parents, last = path.split(".")
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    node[int(last) if last.isdigit() else last] = value
    return doc


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize(
    ("sample", "path", "value", "field"),
    [
        ("costprofile-h100.yaml", "spec.hardware.gpuCount", 0, "spec.hardware.gpuCount"),
        ("costprofile-h100.yaml", "spec.hardware.purchasePriceUSD", -1, "spec.hardware.purchasePriceUSD"),
        ("costprofile-h100.yaml", "spec.electricity.pueFactor", 0.5, "spec.electricity.pueFactor"),
        ("costprofile-h100.yaml", "spec.hardware.amortizationYears", 0, "spec.hardware.amortizationYears"),
        (
            "costprofile-h100.yaml",
            "spec.hardware.maintenancePercentPerYear",
            1.5,
            "spec.hardware.maintenancePercentPerYear",
        ),
        ("usagereport-engineering.yaml", "spec.schedule", "hourly", "spec.schedule"),
        ("tokenbudget-engineering.yaml", "spec.alertThresholds.0.percent", 300, "spec.alertThresholds[0].percent"),
        ("tokenbudget-engineering.yaml", "spec.alertThresholds.1.severity", "info", "spec.alertThresholds[1].severity"),
    ],
)
def test_api_server_rejects_bad_values_naming_the_field(
    namespace: str, sample: str, path: str, value: object, field: str
) -> None:
    doc = yaml.safe_load((SAMPLES / sample).read_text())
    doc["metadata"]["namespace"] = namespace
    doc["metadata"]["name"] = "bad"
    out = kubectl("apply", "-f", "-", input=yaml.safe_dump(_set(doc, path, value)))
    assert out.returncode != 0
    assert "Invalid value" in out.stderr or "Unsupported value" in out.stderr
    assert field in out.stderr, out.stderr


def test_pod_proxy_serves_the_simulator_byte_for_byte(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp
) -> None:
    ip = new_ip()
    body = (FIXTURES / "vllm-v1-kops-2026-03.prom").read_bytes()
    sim.write(ip, 8000, body)
    make_node(kube, "proxy-node", {"pool": "test"}, 8)
    make_pod(kube, "vllm-0", namespace, ip, node="proxy-node", labels={"infercost.ai/model": "qwen"}, gpus=1)
    path = f"/api/v1/namespaces/{namespace}/pods/vllm-0:8000/proxy/metrics"
    out = subprocess.run(["kubectl", "get", "--raw", path], capture_output=True, check=False, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == body
    sim.set_status(ip, 8000, 503)
    failed = kubectl("get", "--raw", path)
    assert failed.returncode != 0
    assert "ServiceUnavailable" in failed.stderr or "503" in failed.stderr
    sim.set_status(ip, 8000, None)
    assert kubectl("get", "--raw", path).returncode == 0


def test_sim_pod_script_creates_running_pods(kube: KubeClient, namespace: str, new_ip: NewIp) -> None:
    ip = new_ip()
    node = subprocess.run(
        ["sim-pod", "node", "script-node", "--gpus", "4", "--label", "pool=l4"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert node.returncode == 0, node.stderr
    pod = subprocess.run(
        [
            "sim-pod",
            "pod",
            "p1",
            "-n",
            namespace,
            "--ip",
            ip,
            "--node",
            "script-node",
            "--gpus",
            "2",
            "--label",
            "infercost.ai/model=m",
            "--annotation",
            "infercost.ai/backend=vllm",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert pod.returncode == 0, pod.stderr
    obj = kube.get(f"/api/v1/namespaces/{namespace}/pods/p1")
    assert obj["status"]["phase"] == "Running" and obj["status"]["podIP"] == ip
    assert obj["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert obj["metadata"]["annotations"]["infercost.ai/backend"] == "vllm"
    n = kube.get("/api/v1/nodes/script-node")
    assert n["status"]["capacity"]["nvidia.com/gpu"] == "4" and n["metadata"]["labels"]["pool"] == "l4"


def test_api_down_exit_4(tmp_path: Path, kubeconfig: str) -> None:
    doc = yaml.safe_load(Path(kubeconfig).read_text())
    doc["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    cfg = tmp_path / "down"
    cfg.write_text(yaml.safe_dump(doc))
    out = run_cli("install", env={"KUBECONFIG": str(cfg)})
    assert out.returncode == 4
    assert out.stderr.splitlines() == [
        "error: cannot reach the Kubernetes API at https://127.0.0.1:1: connection refused"
    ]


def test_missing_kubeconfig_exit_3(tmp_path: Path) -> None:
    out = run_cli("install", env={"KUBECONFIG": str(tmp_path / "missing")})
    assert out.returncode == 3
    assert out.stderr.splitlines() == [f"error: kubeconfig {tmp_path / 'missing'} does not exist"]
