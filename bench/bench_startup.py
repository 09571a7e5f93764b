"""Start-up of the krew-installed binary (BENCHMARKS.md target: ``kubectl infercost version`` median <= 0.25 s).

Installs dist/'s release archive with krew into a throw-away KREW_ROOT (``make bench`` builds
both first), then times, interleaved round by round in the same run: the binary's ``version``
and ``--help`` (directly and through kubectl's plugin dispatch), ``python -c pass`` and
``kubectl version --client``. ``--also PATH`` adds another build (the one-file variant).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kubectl_infercost import __version__  # noqa: E402

TAG = f"v{__version__}"
ARCHIVE = REPO / "dist" / f"kubectl-infercost_{TAG}_linux_amd64.tar.gz"
MANIFEST = REPO / "krew" / "infercost.yaml"
TARGET = 0.25


def krew_dir() -> Path:
    cache = Path(os.environ.get("INFERCOST_CACHE_DIR") or Path.home() / ".cache" / "kubectl-infercost")
    return cache / "bin" / "krew-v0.4.3"


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--also", action="append", default=[], metavar="PATH", help="another binary to time")
    args = parser.parse_args()
    for needed in (ARCHIVE, MANIFEST, krew_dir() / "kubectl-krew"):
        if not needed.exists():
            print(f"{needed} is missing: run `make release` first", file=sys.stderr)
            return 1
    with tempfile.TemporaryDirectory(prefix="krew-bench-") as root:
        env = {
            **os.environ,
            "KREW_ROOT": root,
            "KREW_NO_UPGRADE_CHECK": "1",
            "PATH": f"{root}/bin{os.pathsep}{krew_dir()}{os.pathsep}{os.environ['PATH']}",
        }
        install = ["kubectl", "krew", "install", f"--manifest={MANIFEST}", f"--archive={ARCHIVE}"]
        subprocess.run(install, env=env, check=True, capture_output=True)
        binary = f"{root}/bin/kubectl-infercost"
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "kubectl version --client": ["kubectl", "version", "--client"],
            "kubectl-infercost version (krew)": [binary, "version"],
            "kubectl-infercost --help (krew)": [binary, "--help"],
            "kubectl infercost version": ["kubectl", "infercost", "version"],
            "kubectl infercost --help": ["kubectl", "infercost", "--help"],
        }
        for path in args.also:
            cases[f"{path} version"] = [path, "version"]
        for cmd in cases.values():  # warm the page cache
            timed(cmd, env)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, cmd in cases.items():
                times[name].append(timed(cmd, env))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"start-up, median of {args.rounds} interleaved runs ({TAG}, python {sys.version.split()[0]}, load {load})")
    for name, samples in times.items():
        print(f"  {name:<44} median {statistics.median(samples):.3f} s   min {min(samples):.3f} s")
    version = statistics.median(times["kubectl infercost version"])
    verdict = "met" if version <= TARGET else "NOT met"
    print(f"target `kubectl infercost version` median <= {TARGET} s: {verdict} ({version:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
