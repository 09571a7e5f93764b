"""Integration tier: a real kube-apiserver + etcd and the file-backed simulator.

Run under ``scripts/with-cluster`` (``make test`` does). Outside it the tier FAILS:
a test run that silently skipped the real API server would prove nothing.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kubectl_infercost.kube.client import KubeClient
from kubectl_infercost.kube.config import load_config
from testenv.simpod import ensure_namespace

REPO = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def kubeconfig() -> str:
    path = os.environ.get("KUBECONFIG")
    if os.environ.get("INFERCOST_IN_NETNS") != "1" or not path:
        pytest.fail("integration tests need the local control plane: run them under scripts/with-cluster")
    return path


@pytest.fixture(scope="session")
def kube(kubeconfig: str) -> Iterator[KubeClient]:
    with KubeClient(load_config(kubeconfig)) as client:
        yield client


@pytest.fixture(scope="session")
def installed(kubeconfig: str) -> None:  # noqa: ARG001, V107 -- for its side effect
    """The CRDs, installed once per session through the real CLI."""
    result = run_cli("install")
    assert result.returncode == 0, result.stderr


@dataclass
class Sim:
    """Writes the files the simulator serves: $INFERCOST_SIM_ROOT/<ip>/<port>/<path>."""

    root: Path

    def path(self, ip: str, port: int, path: str = "/metrics") -> Path:
        return self.root / ip / str(port) / path.lstrip("/")

    def write(self, ip: str, port: int, text: str | bytes, path: str = "/metrics") -> Path:
        target = self.path(ip, port, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(text.encode() if isinstance(text, str) else text)
        tmp.replace(target)
        return target

    def _sidecar(self, ip: str, port: int, path: str, suffix: str, value: float | None) -> None:
        target = self.path(ip, port, path)
        side = target.with_name(target.name + suffix)
        side.parent.mkdir(parents=True, exist_ok=True)
        if value is None:
            side.unlink(missing_ok=True)
        else:
            side.write_text(f"{value}\n")

    def set_status(self, ip: str, port: int, status: int | None, path: str = "/metrics") -> None:
        """Make the endpoint answer with this HTTP status (None: back to normal)."""
        self._sidecar(ip, port, path, ".status", status)

    def set_delay(self, ip: str, port: int, seconds: float | None, path: str = "/metrics") -> None:
        """Make the endpoint wait this long before answering (None: no delay)."""
        self._sidecar(ip, port, path, ".delay", seconds)

    def set_trickle(self, ip: str, port: int, seconds: float | None, path: str = "/metrics") -> None:
        """Make the endpoint send one byte every ``seconds`` (None: all at once)."""
        self._sidecar(ip, port, path, ".trickle", seconds)

    def set_close(self, ip: str, port: int, after_bytes: int | None, path: str = "/metrics") -> None:
        """Make the endpoint close the connection after this many bytes of its body (None: whole body)."""
        self._sidecar(ip, port, path, ".close", after_bytes)

    def clear(self, ip: str) -> None:
        shutil.rmtree(self.root / ip, ignore_errors=True)


@pytest.fixture(scope="session")
def sim(kubeconfig: str) -> Sim:  # noqa: ARG001, V107 -- for its side effect
    return Sim(Path(os.environ["INFERCOST_SIM_ROOT"]))


_ips = itertools.count(10)


NewIp = Callable[[], str]


@pytest.fixture
def new_ip(sim: Sim) -> NewIp:  # noqa: ARG001, V107 -- for its side effect
    """Call it to get a fresh simulated pod IP (192.0.2.10 ... .254), unique within the session."""

    def allocate() -> str:
        n = next(_ips)
        if n > 254:
            pytest.fail("out of simulated pod IPs in 192.0.2.0/24")
        return f"192.0.2.{n}"

    return allocate


@pytest.fixture
def namespace(kube: KubeClient) -> str:
    """A fresh namespace for one test."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    ensure_namespace(kube, name)
    return name


def run_cli(
    *args: str, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the plugin as users do: ``kubectl infercost ...`` (kubectl's plugin dispatch)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        ["kubectl", "infercost", *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=input,
        timeout=300,
        check=False,
    )


PROMETHEUS_RULE_CRD = "prometheusrules.monitoring.coreos.com"


@pytest.fixture
def prometheus_rule_crd(kube: KubeClient) -> str:
    """prometheus-operator's real PrometheusRule CRD (tests/fixtures/crds), installed and Established."""
    import time

    import yaml

    manifest = yaml.safe_load((REPO / "tests/fixtures/crds/monitoring.coreos.com_prometheusrules.yaml").read_text())
    path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{PROMETHEUS_RULE_CRD}"
    kube.apply(path, manifest)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        conditions = (kube.get(path).get("status") or {}).get("conditions") or []
        if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
            return PROMETHEUS_RULE_CRD
        time.sleep(0.2)
    pytest.fail(f"{PROMETHEUS_RULE_CRD} not Established after 60 s")
