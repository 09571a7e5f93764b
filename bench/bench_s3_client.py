"""S3 client candidates for ``export focus --to s3://``: import time, first-client time, installed size.

Each figure is the median of fresh interpreters (``-X importtime`` would count the shared modules once
per run as well). Candidates that are not installed are reported as such; ``--path DIR`` adds a
``pip install --target DIR`` tree to look in (e.g. for minio, which is not a dependency).
Usage: python bench/bench_s3_client.py [--path DIR] [--runs N]
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import statistics
import subprocess
import sys
from pathlib import Path

# module to import, code that makes a ready client (no network), distributions it brings
CANDIDATES = {
    "boto3": (
        "boto3",
        "boto3.session.Session(aws_access_key_id='a', aws_secret_access_key='b')"
        ".client('s3', endpoint_url='http://127.0.0.1:9', region_name='us-east-1')",
        ["boto3", "botocore", "s3transfer", "jmespath"],
    ),
    "minio": (
        "minio",
        "minio.Minio('127.0.0.1:9', access_key='a', secret_key='b', secure=False)",
        ["minio", "argon2-cffi", "argon2-cffi-bindings", "pycryptodome", "cffi", "pycparser"],
    ),
    "pyarrow.fs": (
        "pyarrow.fs",
        "pyarrow.fs.S3FileSystem(access_key='a', secret_key='b', endpoint_override='127.0.0.1:9', scheme='http')",
        [],  # pyarrow is already a dependency
    ),
}


def timed(code: str, extra: list[str], runs: int) -> float | None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([*extra, os.environ.get("PYTHONPATH", "")]))
    script = f"import time\nt = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)\n"
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False)
        if out.returncode != 0:
            return None
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def size_mb(dists: list[str], extra: list[str]) -> float | None:
    total = 0
    for name in dists:
        found = list(md.distributions(name=name, path=[*extra, *sys.path]))
        if not found:
            return None
        for file in found[0].files or []:
            path = Path(str(found[0].locate_file(file)))
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", action="append", default=[], help="extra site directory (pip install --target)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}; median of {args.runs} fresh interpreters")
    print(f"{'client':<12}{'version':<10}{'import':>10}{'import+client':>16}{'installed':>12}")
    for label, (module, make, dists) in CANDIDATES.items():
        imported = timed(f"import {module}", args.path, args.runs)
        if imported is None:
            print(f"{label:<12}not installed")
            continue
        ready = timed(f"import {module}\n{make}", args.path, args.runs)
        top = dists[0] if dists else "pyarrow"
        version = next(iter(md.distributions(name=top, path=[*args.path, *sys.path]))).version
        size = size_mb(dists, args.path) if dists else 0.0
        size_text = f"{size:.1f} MB" if size is not None else "?"
        ready_text = f"{ready * 1000:.0f} ms" if ready is not None else "?"
        print(f"{label:<12}{version:<10}{imported * 1000:>7.0f} ms{ready_text:>16}{size_text:>12}")
    startup = timed(
        "from kubectl_infercost.__main__ import main\nimport contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['version'])\n"
        "import sys\nassert 'boto3' not in sys.modules",
        [],
        args.runs,
    )
    print(f"kubectl-infercost version (boto3 not imported): {startup * 1000:.0f} ms" if startup else "version failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
