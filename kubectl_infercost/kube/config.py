"""Kubeconfig loading: contexts, client certs, tokens, exec plugins, in-cluster.

Our own loader (not the ``kubernetes`` package) keeps start-up fast and the
binary small; it covers what kubectl users have in practice.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

IN_CLUSTER_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


@dataclass
class ClusterConfig:
    """Everything needed to talk to one API server as one user."""

    server: str
    context: str
    namespace: str = "default"
    cluster_name: str | None = None
    ca_data: bytes | None = None
    insecure: bool = False
    cert_data: bytes | None = None
    key_data: bytes | None = None
    token: str | None = None
    token_file: str | None = None
    exec_spec: dict[str, Any] | None = None
    proxy_url: str | None = None
    tls_server_name: str | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        if self.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.ca_data:
            ctx.load_verify_locations(cadata=self.ca_data.decode())
        cert, key = self.cert_data, self.key_data
        if self.exec_spec and not self.token:
            cred = run_exec_plugin(self.exec_spec, self.context)
            self.token = cred.get("token")
            if cred.get("clientCertificateData"):
                cert = cred["clientCertificateData"].encode()
                key = cred["clientKeyData"].encode()
        if cert and key:
            # ssl only loads key pairs from files; keep them private and short-lived.
            with tempfile.TemporaryDirectory() as tmp:
                cert_path, key_path = Path(tmp, "c.pem"), Path(tmp, "k.pem")
                cert_path.write_bytes(cert)
                key_path.write_bytes(key)
                os.chmod(key_path, 0o600)
                try:
                    ctx.load_cert_chain(str(cert_path), str(key_path))
                except ssl.SSLError as exc:
                    raise ConfigError(f"context {self.context!r}: unusable client certificate: {exc}") from exc
        return ctx

    def bearer_token(self) -> str | None:
        if self.token:
            return self.token
        if self.token_file:
            try:
                return Path(self.token_file).read_text().strip()
            except OSError as exc:
                raise ConfigError(f"context {self.context!r}: cannot read tokenFile {self.token_file}: {exc}") from exc
        return None


def kubeconfig_paths(explicit: str | None, env: Mapping[str, str]) -> list[Path]:
    if explicit:
        return [Path(explicit).expanduser()]
    if env.get("KUBECONFIG"):
        return [Path(p).expanduser() for p in env["KUBECONFIG"].split(os.pathsep) if p]
    return [Path(env.get("HOME", "~")).expanduser() / ".kube" / "config"]


def _read_kubeconfigs(paths: list[Path], explicit: bool) -> dict[str, Any]:
    """Merge like kubectl: the first file to define a name wins; current-context from the first that sets it."""
    merged: dict[str, Any] = {"clusters": {}, "users": {}, "contexts": {}, "current-context": None}
    found = False
    for path in paths:
        if not path.exists():
            if explicit or len(paths) == 1:
                raise ConfigError(f"kubeconfig {path} does not exist")
            continue
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read kubeconfig {path}: {exc}") from exc
        if not isinstance(doc, dict):
            raise ConfigError(f"kubeconfig {path} is not a kubeconfig mapping")
        found = True
        for kind, key in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            for item in doc.get(kind) or []:
                if isinstance(item, dict) and item.get("name") and item["name"] not in merged[kind]:
                    merged[kind][item["name"]] = (item.get(key) or {}, path)
        if not merged["current-context"] and doc.get("current-context"):
            merged["current-context"] = doc["current-context"]
    if not found:
        raise ConfigError(f"no kubeconfig found (looked at {', '.join(str(p) for p in paths)})")
    return merged


def _data(section: dict[str, Any], key: str, base: Path, what: str) -> bytes | None:
    if section.get(f"{key}-data"):
        try:
            return base64.b64decode("".join(str(section[f"{key}-data"]).split()), validate=True)
        except ValueError as exc:
            raise ConfigError(f"{what}: {key}-data is not base64") from exc
    if section.get(key):
        p = Path(section[key]).expanduser()
        p = p if p.is_absolute() else base.parent / p
        try:
            return p.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{what}: cannot read {key} {p}: {exc}") from exc
    return None


def load_config(
    kubeconfig: str | None = None,
    context: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ClusterConfig:
    env = os.environ if env is None else env
    if not kubeconfig and not env.get("KUBECONFIG") and env.get("KUBERNETES_SERVICE_HOST"):
        default = Path(env.get("HOME", "~")).expanduser() / ".kube" / "config"
        if not default.exists():
            return in_cluster_config(env)
    paths = kubeconfig_paths(kubeconfig, env)
    merged = _read_kubeconfigs(paths, explicit=bool(kubeconfig))
    name = context or merged["current-context"]
    if not name:
        raise ConfigError(f"kubeconfig {paths[0]} has no current-context; pass --context")
    if name not in merged["contexts"]:
        raise ConfigError(f"context {name!r} not found in kubeconfig {', '.join(str(p) for p in paths)}")
    ctx, ctx_path = merged["contexts"][name]
    cluster_name, user_name = ctx.get("cluster"), ctx.get("user")
    if cluster_name not in merged["clusters"]:
        raise ConfigError(f"context {name!r}: cluster {cluster_name!r} not found in {ctx_path}")
    cluster, cluster_path = merged["clusters"][cluster_name]
    user, user_path = merged["users"].get(user_name, ({}, ctx_path))
    server = cluster.get("server")
    if not server:
        raise ConfigError(f"context {name!r}: cluster {cluster_name!r} has no server in {cluster_path}")
    what = f"context {name!r}"
    return ClusterConfig(
        server=str(server).rstrip("/"),
        context=name,
        namespace=ctx.get("namespace") or "default",
        cluster_name=str(cluster_name),
        ca_data=_data(cluster, "certificate-authority", cluster_path, what),
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
        cert_data=_data(user, "client-certificate", user_path, what),
        key_data=_data(user, "client-key", user_path, what),
        token=user.get("token"),
        token_file=user.get("tokenFile"),
        exec_spec=user.get("exec"),
        proxy_url=cluster.get("proxy-url"),
        tls_server_name=cluster.get("tls-server-name"),
        source=str(ctx_path),
    )


def in_cluster_config(env: Mapping[str, str]) -> ClusterConfig:
    host, port = env["KUBERNETES_SERVICE_HOST"], env.get("KUBERNETES_SERVICE_PORT", "443")
    host = f"[{host}]" if ":" in host else host
    try:
        ca = (IN_CLUSTER_DIR / "ca.crt").read_bytes()
        ns = (IN_CLUSTER_DIR / "namespace").read_text().strip()
    except OSError as exc:
        raise ConfigError(f"in-cluster service account files unreadable: {exc}") from exc
    return ClusterConfig(
        server=f"https://{host}:{port}",
        context="in-cluster",
        namespace=ns or "default",
        cluster_name="in-cluster",
        ca_data=ca,
        token_file=str(IN_CLUSTER_DIR / "token"),
        source="in-cluster",
    )


def run_exec_plugin(spec: dict[str, Any], context: str) -> dict[str, Any]:
    """Run a client-go credential plugin and return its ExecCredential status."""
    command = spec.get("command")
    if not command:
        raise ConfigError(f"context {context!r}: exec credential plugin has no command")
    env = dict(os.environ)
    # A frozen binary's loader path must not leak into the plugin (PyInstaller).
    if "LD_LIBRARY_PATH_ORIG" in env:
        env["LD_LIBRARY_PATH"] = env.pop("LD_LIBRARY_PATH_ORIG")
    else:
        env.pop("LD_LIBRARY_PATH", None)
    for item in spec.get("env") or []:
        env[item["name"]] = item["value"]
    api_version = spec.get("apiVersion", "client.authentication.k8s.io/v1")
    env["KUBERNETES_EXEC_INFO"] = json.dumps(
        {"apiVersion": api_version, "kind": "ExecCredential", "spec": {"interactive": False}}
    )
    try:
        done = subprocess.run(
            [command, *(spec.get("args") or [])], env=env, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"context {context!r}: exec credential plugin {command!r} failed: {exc}") from exc
    if done.returncode != 0:
        raise ConfigError(
            f"context {context!r}: exec credential plugin {command!r} exited {done.returncode}: "
            f"{done.stderr.strip()[:300]}"
        )
    try:
        status = json.loads(done.stdout)["status"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"context {context!r}: exec credential plugin {command!r} gave no ExecCredential") from exc
    if not isinstance(status, dict):
        raise ConfigError(f"context {context!r}: exec credential plugin {command!r} gave no ExecCredential")
    return status
