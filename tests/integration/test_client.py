"""The client against the real API server: credentials that expire and rotate, impersonation, and a
``--watch`` that outlives a frozen and a restarted kube-apiserver without losing or doubling a token."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_infercost.errors import ApiError
from kubectl_infercost.kube.client import KubeClient
from testenv import metricsgen

from .conftest import REPO, NewIp, Sim, run_cli
from .identities import bind, service_account, user
from .world import create, new_world, status_of

T0 = "2026-04-20T10:00:00Z"


def _admin() -> dict[str, Any]:
    doc = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
    ctx = next(c["context"] for c in doc["contexts"] if c["name"] == doc["current-context"])
    cluster: dict[str, Any] = next(c["cluster"] for c in doc["clusters"] if c["name"] == ctx["cluster"])
    return cluster


def _service_account(kube: KubeClient, namespace: str, name: str) -> None:
    kube.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts", body={"metadata": {"name": name}})
    bind(kube, "cluster-admin", service_account(namespace, name))


def _token(kube: KubeClient, namespace: str, name: str) -> str:
    minted = kube.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
        body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 600}},
    )
    return str(minted["status"]["token"])


def _small_world(kube: KubeClient, sim: Sim, namespace: str, ip: str, prompt: int) -> None:
    w = new_world(kube, sim, namespace)
    w.pool_profile()
    w.inference_pod("vllm", namespace, ip, "m")
    sim.write(ip, 8000, metricsgen.vllm("m", prompt, prompt // 2))
    create(kube, "usagereports", namespace, "daily", {"costProfileRef": "h100", "namespaces": [namespace]})


def _exec_kubeconfig(path: Path, plugin: Path) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "envtest", "cluster": _admin()}],
        "users": [
            {
                "name": "exec-user",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "command": f"./{plugin.name}",  # relative to this kubeconfig's folder, as client-go
                        "env": [{"name": "KUBECONFIG", "value": os.environ["KUBECONFIG"]}],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": "exec", "context": {"cluster": "envtest", "user": "exec-user"}}],
        "current-context": "exec",
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def _plugin(folder: Path, namespace: str, account: str, *, first_invalid: bool = False) -> tuple[Path, Path]:
    """An exec credential plugin minting a TokenRequest token that it says expires in 20 s; logs each run."""
    log = folder / "plugin.log"
    script = folder / "plugin.sh"
    invalid = (
        f"if [ ! -s {log} ]; then echo run >> {log}; TOKEN=not-a-valid-token; else echo run >> {log}; "
        f"TOKEN=$(kubectl create token {account} -n {namespace} --duration=10m); fi"
        if first_invalid
        else f"echo run >> {log}; TOKEN=$(kubectl create token {account} -n {namespace} --duration=10m)"
    )
    script.write_text(
        "#!/bin/sh\nset -e\n"
        f"{invalid}\n"
        'EXP=$(date -u -d "+20 seconds" +%Y-%m-%dT%H:%M:%SZ)\n'
        'printf \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
        '"status":{"token":"%s","expirationTimestamp":"%s"}}\' "$TOKEN" "$EXP"\n'
    )
    script.chmod(0o755)
    return script, log


def _watch(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    full = dict(os.environ)
    full.update(env)
    return subprocess.Popen(
        ["kubectl", "infercost", "reconcile", "--watch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full,
    )


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out, err


def _passes(out: str) -> list[str]:
    return [line for line in out.splitlines() if " reports " in line and " endpoints " in line]


def _exec_world(
    kube: KubeClient, sim: Sim, namespace: str, ip: str, folder: Path, *, first_invalid: bool = False
) -> tuple[Path, Path]:
    """A service account, a small world, and a kubeconfig whose exec plugin mints that account's tokens."""
    _service_account(kube, namespace, "exec-sa")
    _small_world(kube, sim, namespace, ip, 1000)
    plugin, log = _plugin(folder, namespace, "exec-sa", first_invalid=first_invalid)
    return _exec_kubeconfig(folder / "kubeconfig", plugin), log


@pytest.mark.usefixtures("installed")
def test_exec_plugin_tokens_expire_and_are_renewed_during_watch(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
    tmp_path: Path,
) -> None:
    config, log = _exec_world(kube, sim, namespace, new_ip(), tmp_path)
    proc = _watch(["-n", namespace, "--interval", "5s"], {"KUBECONFIG": str(config)})
    time.sleep(60)
    out, err = _stop(proc)
    assert len(_passes(out)) >= 10, out
    assert "error:" not in err, err
    # 20 s credentials over 60 s: renewed at least twice after the first run.
    assert log.read_text().count("run") >= 3


@pytest.mark.usefixtures("installed")
def test_a_rejected_first_token_is_fetched_again_once(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
    tmp_path: Path,
) -> None:
    config, log = _exec_world(kube, sim, namespace, new_ip(), tmp_path, first_invalid=True)
    done = run_cli("reconcile", "-n", namespace, "--now", T0, env={"KUBECONFIG": str(config)})
    assert done.returncode == 0, done.stderr
    assert "accountingSince" in status_of(kube, "usagereports", namespace, "daily")
    assert log.read_text().count("run") == 2  # the 401 re-ran the plugin once


@pytest.mark.usefixtures("installed")
def test_in_cluster_token_rotation_and_a_deleted_account(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
    tmp_path: Path,
) -> None:
    for account in ("first", "second"):
        _service_account(kube, namespace, account)
    _small_world(kube, sim, namespace, new_ip(), 1000)
    sa_dir = tmp_path / "serviceaccount"
    sa_dir.mkdir()
    (sa_dir / "ca.crt").write_bytes(base64.b64decode(_admin()["certificate-authority-data"]))
    (sa_dir / "namespace").write_text(namespace)
    (sa_dir / "token").write_text(_token(kube, namespace, "first"))
    host_port = _admin()["server"].removeprefix("https://")
    host, port = host_port.rsplit(":", 1)
    env = {
        "KUBECONFIG": "",
        "HOME": str(tmp_path),
        "KUBERNETES_SERVICE_HOST": host,
        "KUBERNETES_SERVICE_PORT": port,
        "INFERCOST_SERVICE_ACCOUNT_DIR": str(sa_dir),
    }
    proc = _watch(["--interval", "2s"], env)  # -n defaults to the service account's namespace
    time.sleep(5)
    # The kubelet rotates the projected token; then the first account goes away entirely.
    (sa_dir / "token").write_text(_token(kube, namespace, "second"))
    kube.request("DELETE", f"/api/v1/namespaces/{namespace}/serviceaccounts/first")
    time.sleep(8)
    out, err = _stop(proc)
    passes = _passes(out)
    assert len(passes) >= 5, out
    assert "error:" not in err, err


@pytest.mark.usefixtures("installed")
def test_as_viewer_from_the_admin_identity(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
) -> None:
    viewer = f"viewer-{namespace}"
    bind(kube, "infercost-viewer", user(viewer))
    roles = subprocess.run(
        ["kubectl", "apply", "-f", str(REPO / "deploy" / "rbac" / "roles.yaml")], capture_output=True, text=True
    )
    assert roles.returncode == 0, roles.stderr
    ip = new_ip()
    _small_world(kube, sim, namespace, ip, 1000)
    assert run_cli("reconcile", "-n", namespace, "--now", T0).returncode == 0
    sim.write(ip, 8000, metricsgen.vllm("m", 4000, 2000))
    assert run_cli("reconcile", "-n", namespace, "--now", "2026-04-20T11:00:00Z").returncode == 0

    refused = run_cli("reconcile", "-n", namespace, "--now", "2026-04-20T12:00:00Z", "--as", viewer)
    assert refused.returncode == 4
    [line] = refused.stderr.splitlines()
    assert line.startswith("error: ") and 'cannot list resource "nodes"' in line and viewer in line, line

    admin = run_cli("report", "-A", "-o", "json")
    as_viewer = run_cli("report", "-A", "-o", "json", "--as", viewer)
    assert admin.returncode == as_viewer.returncode == 0, as_viewer.stderr
    assert json.loads(as_viewer.stdout) == json.loads(admin.stdout)
    mine = [r for r in json.loads(admin.stdout)["usageReports"] if r["namespace"] == namespace]
    assert (mine[0]["inputTokens"], mine[0]["outputTokens"]) == (3000, 1500)  # 4000 - 1000, 2000 - 500


def _apiserver_pid() -> int:
    return int((Path(os.environ["INFERCOST_CONTROLPLANE_DIR"]) / "kube-apiserver.pid").read_text())


def _wait_ready(kube: KubeClient, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            kube.get("/api/v1/namespaces/default")
            return
        except ApiError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _wait_tokens(kube: KubeClient, namespace: str, expected: int, seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while True:
        got = int(status_of(kube, "usagereports", namespace, "daily").get("inputTokens", -1))
        if got == expected or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


@pytest.mark.usefixtures("installed")
def test_watch_outlives_a_frozen_and_a_restarted_api_server(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
) -> None:
    ip = new_ip()
    _small_world(kube, sim, namespace, ip, 1000)
    proc = _watch(["-n", namespace, "--interval", "1s", "--request-timeout", "5s"], {})
    try:
        assert _wait_tokens(kube, namespace, 0) == 0  # baselined at 1000
        sim.write(ip, 8000, metricsgen.vllm("m", 3000, 1500))
        assert _wait_tokens(kube, namespace, 2000) == 2000

        pid = _apiserver_pid()
        os.kill(pid, signal.SIGSTOP)
        sim.write(ip, 8000, metricsgen.vllm("m", 6000, 3000))  # served while the API server is frozen
        time.sleep(10)
        os.kill(pid, signal.SIGCONT)
        _wait_ready(kube)
        assert _wait_tokens(kube, namespace, 5000) == 5000

        os.kill(int(os.environ["INFERCOST_CONTROLPLANE_PID"]), signal.SIGUSR1)  # restart kube-apiserver
        deadline = time.monotonic() + 30
        while _apiserver_pid() == pid and time.monotonic() < deadline:
            time.sleep(0.2)
        sim.write(ip, 8000, metricsgen.vllm("m", 10000, 5000))  # served across the restart
        _wait_ready(kube)
        assert _wait_tokens(kube, namespace, 9000) == 9000
        time.sleep(3)  # more passes over an unchanged counter add nothing
    finally:
        out, err = _stop(proc)
    status = status_of(kube, "usagereports", namespace, "daily")
    # Every token served once: 10000 - 1000 in, 5000 - 500 out.
    assert (status["inputTokens"], status["outputTokens"]) == (9000, 4500)
    assert len(_passes(out)) >= 5, err
