"""Mint kubeconfigs for other users of the test control plane (RBAC tests).

The control plane (testenv/controlplane.py) saves its client CA certificate and key under
``$INFERCOST_CONTROLPLANE_DIR/certs``; a certificate it signs authenticates as CN = user,
O = groups. The cluster entry (server, serving CA) is copied from the admin ``$KUBECONFIG``.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_infercost.kube.client import KubeClient
from testenv.certs import TinyCA

RBAC = "/apis/rbac.authorization.k8s.io/v1"


def _client_ca() -> TinyCA:
    cp_dir = os.environ.get("INFERCOST_CONTROLPLANE_DIR")
    if not cp_dir:
        pytest.fail("INFERCOST_CONTROLPLANE_DIR is not set: run under scripts/with-cluster")
    certs = Path(cp_dir) / "certs"
    key = certs / "client-cert-auth-ca.key"
    if not key.exists():
        pytest.fail(f"{key} missing: the control plane must save its client CA key (testenv/controlplane.py)")
    return TinyCA.from_files(certs / "client-cert-auth-ca.crt", key)


def user_kubeconfig(path: Path, user: str, groups: Sequence[str] = (), namespace: str | None = None) -> Path:
    """Write a kubeconfig at ``path`` authenticating as ``user`` (client certificate) to the test cluster."""
    admin = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
    current = admin["current-context"]
    context = next(c["context"] for c in admin["contexts"] if c["name"] == current)
    cluster = next(c["cluster"] for c in admin["clusters"] if c["name"] == context["cluster"])
    pair = _client_ca().issue(user, orgs=tuple(groups))

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    ctx: dict[str, Any] = {"cluster": "envtest", "user": user}
    if namespace:
        ctx["namespace"] = namespace
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "envtest", "cluster": cluster}],
        "users": [
            {
                "name": user,
                "user": {"client-certificate-data": b64(pair.cert_pem()), "client-key-data": b64(pair.key_pem())},
            }
        ],
        "contexts": [{"name": f"{user}@envtest", "context": ctx}],
        "current-context": f"{user}@envtest",
    }
    path.write_text(yaml.safe_dump(doc))
    path.chmod(0o600)
    return path


def user(name: str) -> dict[str, str]:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}


def service_account(namespace: str, name: str) -> dict[str, str]:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def bind(kube: KubeClient, role: str, subject: dict[str, str], namespace: str | None = None) -> None:
    """Bind ClusterRole ``role`` to ``subject``: cluster-wide, or in ``namespace`` only (a RoleBinding)."""
    kind = "RoleBinding" if namespace else "ClusterRoleBinding"
    binding: dict[str, Any] = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": {
            "name": "-".join([role, *([subject["namespace"]] if "namespace" in subject else []), subject["name"]])
        },
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [subject],
    }
    where = f"{RBAC}/namespaces/{namespace}/rolebindings" if namespace else f"{RBAC}/clusterrolebindings"
    kube.apply(f"{where}/{binding['metadata']['name']}", binding)


def grant_cluster_role(kube: KubeClient, name: str, user_name: str, rules: list[dict[str, Any]]) -> None:
    """Create (or replace) ClusterRole ``name`` with ``rules`` and bind it to ``user_name``."""
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": rules,
    }
    kube.apply(f"{RBAC}/clusterroles/{name}", role)
    bind(kube, name, user(user_name))
