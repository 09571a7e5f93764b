"""Start and stop a real etcd + kube-apiserver, envtest style (docs/architecture.md#test-tiers).

Binaries are found like envtest finds them: TEST_ASSET_<NAME>, then
$KUBEBUILDER_ASSETS/<name>, then our cache (built by hack/build-test-binaries),
then /usr/local/kubebuilder/bin/<name>.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from .certs import TinyCA

K8S_VERSION = "v1.33.13"
CACHE = Path(os.environ.get("INFERCOST_CACHE_DIR", Path.home() / ".cache" / "kubectl-infercost"))
START_TIMEOUT = float(os.environ.get("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT", "60").rstrip("s"))
STOP_TIMEOUT = float(os.environ.get("KUBEBUILDER_CONTROLPLANE_STOP_TIMEOUT", "20").rstrip("s"))
REPO = Path(__file__).resolve().parent.parent


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class ControlPlaneError(RuntimeError):
    pass


def find_binary(name: str) -> Path:
    env_name = "TEST_ASSET_" + name.upper().replace("-", "_")
    candidates = [os.environ.get(env_name)]
    if os.environ.get("KUBEBUILDER_ASSETS"):
        candidates.append(str(Path(os.environ["KUBEBUILDER_ASSETS"]) / name))
    candidates += [str(CACHE / "bin" / f"k8s-{K8S_VERSION}" / name), f"/usr/local/kubebuilder/bin/{name}"]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return Path(c)
    raise ControlPlaneError(
        f"{name} not found (looked at {', '.join(c for c in candidates if c)}); run hack/build-test-binaries"
    )


def find_kubectl() -> Path:
    out = subprocess.run([str(REPO / "scripts" / "find-kubectl")], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise ControlPlaneError(out.stderr.strip())
    return Path(out.stdout.strip())


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _wait(url: str, deadline: float, what: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    while True:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise ControlPlaneError(f"{what} exited with {proc.returncode} while starting:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2, context=ctx) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise ControlPlaneError(f"{what} not healthy at {url} after {START_TIMEOUT:g}s (log: {log})")
        time.sleep(0.1)


class ControlPlane:
    """etcd + kube-apiserver in a temporary directory; an admin kubeconfig to reach them."""

    def __init__(self, *, advertise_address: str | None = None, workdir: Path | None = None) -> None:
        self.advertise_address = advertise_address
        self._own_dir = workdir is None
        self.dir = workdir or Path(tempfile.mkdtemp(prefix="infercost-cp-"))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.host = "127.0.0.1"
        self.api_port = 0
        self.kubeconfig = self.dir / "kubeconfig"

    @property
    def server(self) -> str:
        return f"https://{self.host}:{self.api_port}"

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        etcd_bin, apiserver_bin = find_binary("etcd"), find_binary("kube-apiserver")
        certs = self.dir / "certs"
        certs.mkdir(parents=True, exist_ok=True)
        self.serving_ca, self.client_ca, sa_ca = TinyCA(), TinyCA("client-cert-auth-ca"), TinyCA("sa-signer")
        ips = ["127.0.0.1"] + ([self.advertise_address] if self.advertise_address else [])
        self.serving_ca.issue("localhost", dns=("localhost",), ips=tuple(ips), server=True).write(
            certs / "apiserver.crt", certs / "apiserver.key"
        )
        # The key too (0600, in the throwaway control-plane dir): tests mint identities from it.
        self.client_ca.pair.write(certs / "client-cert-auth-ca.crt", certs / "client-cert-auth-ca.key")
        sa_ca.pair.write(certs / "sa-signer.crt", certs / "sa-signer.key")

        etcd_port, etcd_peer = free_port(), free_port()
        etcd_log = self.dir / "etcd.log"
        etcd_url = f"http://{self.host}:{etcd_port}"
        self._spawn(
            [
                str(etcd_bin),
                f"--advertise-client-urls={etcd_url}",
                f"--listen-client-urls={etcd_url}",
                f"--listen-peer-urls=http://{self.host}:{etcd_peer}",
                f"--initial-advertise-peer-urls=http://{self.host}:{etcd_peer}",
                f"--initial-cluster=default=http://{self.host}:{etcd_peer}",
                f"--data-dir={self.dir / 'etcd'}",
                "--unsafe-no-fsync=true",
            ],
            etcd_log,
        )
        _wait(f"{etcd_url}/health", time.monotonic() + START_TIMEOUT, "etcd", self.procs[-1], etcd_log)

        self.api_port = free_port()
        api_log = self.dir / "kube-apiserver.log"
        args = [
            str(apiserver_bin),
            "--allow-privileged=true",
            "--authorization-mode=RBAC",
            f"--bind-address={self.host}",
            f"--cert-dir={certs}",
            f"--client-ca-file={certs / 'client-cert-auth-ca.crt'}",
            "--disable-admission-plugins=ServiceAccount",
            f"--etcd-servers={etcd_url}",
            f"--secure-port={self.api_port}",
            f"--service-account-issuer=https://{self.host}:{self.api_port}/",
            f"--service-account-key-file={certs / 'sa-signer.crt'}",
            f"--service-account-signing-key-file={certs / 'sa-signer.key'}",
            "--service-cluster-ip-range=10.0.0.0/24",
        ]
        if self.advertise_address:
            args.append(f"--advertise-address={self.advertise_address}")
        else:
            args += ["--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none"]
        self._api_args, self._api_log = args, api_log
        self._spawn_apiserver()
        self.write_kubeconfig(self.kubeconfig, "admin", ("system:masters",))
        self._wait_default_namespace()

    def _spawn_apiserver(self) -> None:
        self._spawn(self._api_args, self._api_log)
        self.apiserver = self.procs[-1]
        # Atomic, so a test polling the file during a restart never reads it half-written.
        pid_file = self.dir / "kube-apiserver.pid"
        pid_file.with_suffix(".tmp").write_text(str(self.apiserver.pid))
        pid_file.with_suffix(".tmp").replace(pid_file)
        _wait(
            f"{self.server}/healthz", time.monotonic() + START_TIMEOUT, "kube-apiserver", self.apiserver, self._api_log
        )

    def restart_apiserver(self) -> None:
        """Stop kube-apiserver and start it again with the same flags and port (etcd keeps the state)."""
        old = self.apiserver
        old.send_signal(signal.SIGCONT)  # a test may have frozen it
        old.terminate()
        try:
            old.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            old.kill()
            old.wait()
        self.procs.remove(old)
        self._spawn_apiserver()

    def _spawn(self, args: list[str], log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "no_proxy")}
        attach = os.environ.get("KUBEBUILDER_ATTACH_CONTROL_PLANE_OUTPUT") == "true"
        out = None if attach else log.open("ab")
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.procs.append(proc)

    def _wait_default_namespace(self) -> None:
        from kubectl_infercost.errors import ApiError
        from kubectl_infercost.kube.client import KubeClient
        from kubectl_infercost.kube.config import load_config

        deadline = time.monotonic() + 10
        with KubeClient(load_config(str(self.kubeconfig))) as client:
            while True:
                try:
                    client.get("/api/v1/namespaces/default")
                    return
                except ApiError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)

    def write_kubeconfig(self, path: Path, user: str, groups: tuple[str, ...] = ()) -> Path:
        """A kubeconfig for a user whose client certificate carries ``groups`` (for RBAC tests)."""
        pair = self.client_ca.issue(user, orgs=groups)
        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "envtest",
                    "cluster": {
                        "server": self.server,
                        "certificate-authority-data": b64(self.serving_ca.pair.cert_pem()),
                    },
                }
            ],
            "users": [
                {
                    "name": "envtest",
                    "user": {"client-certificate-data": b64(pair.cert_pem()), "client-key-data": b64(pair.key_pem())},
                }
            ],
            "contexts": [{"name": "envtest", "context": {"cluster": "envtest", "user": "envtest"}}],
            "current-context": "envtest",
        }
        path.write_text(yaml.safe_dump(doc))
        path.chmod(0o600)
        return path

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.procs.clear()
        if self._own_dir and os.environ.get("INFERCOST_KEEP_CONTROLPLANE") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
