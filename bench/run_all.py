"""``make bench``: every benchmark, one after the other (inside scripts/with-cluster).

Figures are printed, not asserted; BENCHMARKS.md records them with the command that produced them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    "bench_startup.py",
    "bench_parser.py",
    "bench_reconcile.py",
    "bench_prometheus.py",
    "bench_focus.py",
    "bench_vs_go.py",
    "bench_s3_client.py",
    "bench_soak.py",
]


def main() -> int:
    status = 0
    for name in BENCHES:
        script = HERE / name
        if not script.exists():
            print(f"== {name}: missing", flush=True)
            status = 1
            continue
        print(f"== {name}", flush=True)
        status |= subprocess.run([sys.executable, str(script)], check=False).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
