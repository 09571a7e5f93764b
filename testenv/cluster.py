"""Inside a private network namespace: bring up the control plane and the simulator, run a command.

Used by scripts/with-cluster, which creates the namespace. CMD runs with KUBECONFIG,
INFERCOST_SIM_ROOT and PATH set; its exit status is passed through.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from .controlplane import REPO, ControlPlane, ControlPlaneError, find_kubectl
from .simulator import Simulator

ADVERTISE = "192.0.2.1"


def setup_network() -> None:
    """192.0.2.0/24 all local on lo (the API server refuses to proxy to loopback pod IPs)."""
    for cmd in (
        ["ip", "link", "set", "lo", "up"],
        ["ip", "addr", "add", f"{ADVERTISE}/32", "dev", "lo"],
        ["ip", "route", "add", "local", "192.0.2.0/24", "dev", "lo"],
    ):
        subprocess.run(cmd, check=True)


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: with-cluster CMD [ARG...]", file=sys.stderr)
        return 2
    if os.environ.get("INFERCOST_IN_NETNS") != "1":
        print("with-cluster: must run inside the namespace made by scripts/with-cluster", file=sys.stderr)
        return 2
    setup_network()
    sim_root = Path(os.environ.get("INFERCOST_SIM_ROOT") or tempfile.mkdtemp(prefix="infercost-sim-"))
    sim_root.mkdir(parents=True, exist_ok=True)
    sim = Simulator(sim_root)
    sim.start()
    cp = ControlPlane(advertise_address=ADVERTISE)
    try:
        cp.start()
        kubectl = find_kubectl()
    except ControlPlaneError as exc:
        print(f"with-cluster: {exc}", file=sys.stderr)
        sim.stop()
        return 1
    bindir = cp.dir / "bin"
    bindir.mkdir(exist_ok=True)
    (bindir / "kubectl").symlink_to(kubectl)
    env = dict(os.environ)
    env.update(
        KUBECONFIG=str(cp.kubeconfig),
        INFERCOST_SIM_ROOT=str(sim_root),
        INFERCOST_CONTROLPLANE_DIR=str(cp.dir),
        # SIGUSR1 to this process restarts kube-apiserver (tests of clients that must survive it).
        INFERCOST_CONTROLPLANE_PID=str(os.getpid()),
        PATH=f"{bindir}{os.pathsep}{REPO / 'scripts'}{os.pathsep}{env.get('PATH', '')}",
    )
    proc = subprocess.Popen(argv, env=env)
    forward = lambda signum, _frame: proc.send_signal(signum)  # noqa: E731
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGUSR1, lambda _s, _f: threading.Thread(target=cp.restart_apiserver, daemon=True).start())
    try:
        return proc.wait()
    finally:
        cp.stop()
        sim.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
