"""Real kube-state-metrics, Prometheus and Alertmanager for the alerting tests (inside with-cluster).

kube-state-metrics is the pinned build from hack/build-kube-state-metrics, run with the shipped
deploy/kube-state-metrics config against the local API server; Prometheus and Alertmanager
are Debian's packages. Each listens on loopback of the private network namespace.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from .hackbuild import BuildError, cached_binary
from .ksmseries import CONFIG

KSM_PORT, PROMETHEUS_PORT, ALERTMANAGER_PORT = 18080, 19090, 19093


class MonitoringError(RuntimeError):
    pass


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MonitoringError(
            f"{name} not found: install Debian's prometheus and prometheus-alertmanager (.ci/run does)"
        )
    return path


def kube_state_metrics_binary() -> str:
    """The cached build (built now, about 2 minutes, if absent)."""
    try:
        return cached_binary("build-kube-state-metrics")
    except BuildError as exc:
        raise MonitoringError(str(exc)) from exc


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise MonitoringError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise MonitoringError(f"{url} not ready after {timeout:g}s")


@dataclass
class Monitoring:
    workdir: Path
    kubeconfig: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def rules_dir(self) -> Path:
        return self.workdir / "rules"

    def start(self) -> None:
        self.rules_dir.mkdir(parents=True, exist_ok=True)
        ksm = kube_state_metrics_binary()
        self._spawn(
            "kube-state-metrics",
            [
                ksm,
                f"--kubeconfig={self.kubeconfig}",
                "--custom-resource-state-only",
                f"--custom-resource-state-config-file={CONFIG}",
                "--host=127.0.0.1",
                f"--port={KSM_PORT}",
                "--telemetry-host=127.0.0.1",
                f"--telemetry-port={KSM_PORT + 1}",
            ],
            f"http://127.0.0.1:{KSM_PORT}/healthz",
        )
        am_config = self.workdir / "alertmanager.yml"
        am_config.write_text(
            yaml.safe_dump(
                {
                    "route": {"receiver": "null", "group_wait": "0s", "group_interval": "1s"},
                    "receivers": [{"name": "null"}],
                }
            )
        )
        self._spawn(
            "alertmanager",
            [
                _binary("prometheus-alertmanager"),
                f"--config.file={am_config}",
                f"--storage.path={self.workdir / 'alertmanager'}",
                f"--web.listen-address=127.0.0.1:{ALERTMANAGER_PORT}",
                "--cluster.listen-address=",
            ],
            f"http://127.0.0.1:{ALERTMANAGER_PORT}/-/ready",
        )
        prom_config = self.workdir / "prometheus.yml"
        prom_config.write_text(
            yaml.safe_dump(
                {
                    "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                    "rule_files": [str(self.rules_dir / "*.yaml")],
                    "scrape_configs": [
                        {"job_name": "kube-state-metrics", "static_configs": [{"targets": [f"127.0.0.1:{KSM_PORT}"]}]}
                    ],
                    "alerting": {
                        "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{ALERTMANAGER_PORT}"]}]}]
                    },
                }
            )
        )
        self._spawn(
            "prometheus",
            [
                _binary("prometheus"),
                f"--config.file={prom_config}",
                f"--storage.tsdb.path={self.workdir / 'prometheus'}",
                f"--web.listen-address=127.0.0.1:{PROMETHEUS_PORT}",
            ],
            f"http://127.0.0.1:{PROMETHEUS_PORT}/-/ready",
        )

    def _spawn(self, name: str, argv: list[str], ready: str) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        try:
            wait_http(ready, proc=proc)
        except MonitoringError as exc:
            raise MonitoringError(f"{name}: {exc}; log: {(self.workdir / f'{name}.log').read_text()[-2000:]}") from exc

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    def load_rules(self, name: str, rule_spec: dict[str, Any]) -> None:
        """A PrometheusRule's spec is a rules file; Prometheus rereads its rules on SIGHUP."""
        (self.rules_dir / f"{name}.yaml").write_text(yaml.safe_dump(rule_spec))
        self.procs[-1].send_signal(signal.SIGHUP)

    def ksm_metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{KSM_PORT}/metrics", timeout=10).text

    def query(self, expr: str) -> list[dict[str, Any]]:
        body = httpx.get(f"http://127.0.0.1:{PROMETHEUS_PORT}/api/v1/query", params={"query": expr}, timeout=10).json()
        if body.get("status") != "success":
            raise MonitoringError(f"query {expr!r}: {body}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def rule_groups(self) -> list[dict[str, Any]]:
        body = httpx.get(f"http://127.0.0.1:{PROMETHEUS_PORT}/api/v1/rules", timeout=10).json()
        groups: list[dict[str, Any]] = body["data"]["groups"]
        return groups

    def prometheus_alerts(self) -> list[dict[str, Any]]:
        body = httpx.get(f"http://127.0.0.1:{PROMETHEUS_PORT}/api/v1/alerts", timeout=10).json()
        alerts: list[dict[str, Any]] = body["data"]["alerts"]
        return alerts

    def alertmanager_alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = httpx.get(
            f"http://127.0.0.1:{ALERTMANAGER_PORT}/api/v2/alerts", timeout=10
        ).json()
        return alerts
