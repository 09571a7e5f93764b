"""A real Prometheus serving hand-written history: OpenMetrics text -> promtool TSDB blocks -> prometheus.

No scrape targets: what it answers is exactly the samples the test wrote, so counter
growth can be worked out by hand. Debian's prometheus package provides both binaries.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .monitoring import MonitoringError, _binary, wait_http

HISTORY_PORT = 19190


@dataclass
class HistoryPrometheus:
    workdir: Path
    port: int = HISTORY_PORT
    extra_args: list[str] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, openmetrics: str) -> None:
        data = self.workdir / "tsdb"
        data.mkdir(parents=True, exist_ok=True)
        source = self.workdir / "history.om"
        source.write_text(openmetrics)
        made = subprocess.run(
            [_binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if made.returncode != 0:
            raise MonitoringError(f"promtool create-blocks-from openmetrics failed: {made.stderr[-2000:]}")
        config = self.workdir / "prometheus.yml"
        config.write_text("global: {}\nscrape_configs: []\n")
        log_path = self.workdir / "prometheus.log"
        proc = subprocess.Popen(
            [
                _binary("prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
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

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
