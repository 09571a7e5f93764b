"""Real Prometheus servers for the Prometheus metrics source (Debian's prometheus package).

``start_history``: hand-written OpenMetrics -> ``promtool tsdb create-blocks-from openmetrics``
-> a Prometheus with no targets, so what it answers is exactly the samples the test wrote.
``start_live``: a Prometheus scraping the simulated pods, their series labelled as
kube-prometheus' relabelling does (``namespace``, ``pod``).
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import yaml

from .monitoring import MonitoringError, _binary, wait_http

HISTORY_PORT = 19190


def _static_job(name: str, targets: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Static targets carrying the labels a kube-prometheus PodMonitor's relabelling attaches."""
    return {
        "job_name": name,
        "static_configs": [
            {"targets": [address], "labels": {"namespace": namespace, "pod": pod}}
            for address, namespace, pod in targets
        ],
    }


@dataclass
class HistoryPrometheus:
    workdir: Path
    port: int = HISTORY_PORT
    extra_args: list[str] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, openmetrics: str | Path, timeout: float = 120) -> None:
        """History only: blocks from ``openmetrics`` (the text, or a file of it), no scrape targets.

        Every query is logged (:meth:`logged_queries`).
        """
        data = self.workdir / "tsdb"
        data.mkdir(parents=True, exist_ok=True)
        if isinstance(openmetrics, Path):
            source = openmetrics
        else:
            source = self.workdir / "history.om"
            source.write_text(openmetrics)
        made = subprocess.run(
            [_binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        if made.returncode != 0:
            raise MonitoringError(f"promtool create-blocks-from openmetrics failed: {made.stderr[-2000:]}")
        self._run({"global": {"query_log_file": str(self.query_log)}, "scrape_configs": []})

    def start_live(self, inference: list[tuple[str, str, str]], exporters: list[tuple[str, str, str]]) -> None:
        """Scrape every second the given (address, namespace, pod) targets; every query is logged.

        Debian builds Prometheus without Kubernetes service discovery, so the targets are
        static; their labels are those kube-prometheus' relabelling would attach.
        """
        self._run(
            {
                "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "query_log_file": str(self.query_log)},
                "scrape_configs": [_static_job("inference", inference), _static_job("dcgm-exporter", exporters)],
            }
        )

    def _run(self, config: dict[str, Any]) -> None:
        path = self.workdir / "prometheus.yml"
        path.write_text(yaml.safe_dump(config))
        log_path = self.workdir / "prometheus.log"
        proc = subprocess.Popen(
            [
                _binary("prometheus"),
                f"--config.file={path}",
                f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                "--storage.tsdb.retention.time=100y",
                f"--web.listen-address=127.0.0.1:{self.port}",
                *self.extra_args,
            ],
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        try:
            wait_http(f"{self.url}/-/ready", proc=proc)
        except MonitoringError as exc:
            raise MonitoringError(f"prometheus: {exc}; log: {log_path.read_text()[-2000:]}") from exc

    @property
    def query_log(self) -> Path:
        return self.workdir / "queries.log"

    def logged_queries(self) -> list[str]:
        """The PromQL of every query answered so far, oldest first."""
        return [entry["params"]["query"] for entry in self.query_log_entries()]

    def query_log_entries(self, offset: int = 0) -> list[dict[str, Any]]:
        """Prometheus' query log from byte ``offset``: one entry per query (params, stats)."""
        if not self.query_log.exists():
            return []
        with self.query_log.open("rb") as fh:
            fh.seek(offset)
            return [json.loads(line) for line in fh.read().splitlines() if line.strip()]

    def values(self, expr: str) -> list[Decimal]:
        body = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10).json()
        if body.get("status") != "success":
            raise MonitoringError(f"query {expr!r}: {body}")
        return sorted(Decimal(r["value"][1]) for r in body["data"]["result"])

    def wait_for(self, expr: str, expected: list[Decimal], timeout: float = 60.0) -> None:
        """Until the latest samples of ``expr`` are ``expected`` (sorted): the scrapes saw the change."""
        deadline = time.monotonic() + timeout
        got: list[Decimal] = []
        while time.monotonic() < deadline:
            got = self.values(expr)
            if got == sorted(expected):
                return
            time.sleep(0.2)
        log = (self.workdir / "prometheus.log").read_text()[-2000:]
        raise MonitoringError(f"{expr}: {got} after {timeout:g}s, expected {sorted(expected)}; log: {log}")

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
