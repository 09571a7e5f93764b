"""Our kubeconfig loader: merging, credentials, exec plugins, clear errors."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_infercost.errors import ConfigError
from kubectl_infercost.kube.config import load_config


def _write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc))
    return path


def _config(
    ctx: str, server: str, user: dict[str, Any], namespace: str | None = None, current: bool = True
) -> dict[str, Any]:
    context: dict[str, Any] = {"cluster": f"{ctx}-c", "user": f"{ctx}-u"}
    if namespace:
        context["namespace"] = namespace
    return {
        "clusters": [{"name": f"{ctx}-c", "cluster": {"server": server}}],
        "users": [{"name": f"{ctx}-u", "user": user}],
        "contexts": [{"name": ctx, "context": context}],
        **({"current-context": ctx} if current else {}),
    }


def test_merge_first_file_wins_and_context_namespace(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", _config("dev", "https://dev:6443/", {"token": "tok-a"}, "team-a"))
    b = _write(tmp_path / "b", _config("prod", "https://prod:6443", {"token": "tok-b"}, current=True))
    cfg = load_config(env={"KUBECONFIG": f"{a}:{b}"})
    assert (cfg.context, cfg.server, cfg.namespace, cfg.bearer_token()) == (
        "dev",
        "https://dev:6443",
        "team-a",
        "tok-a",
    )
    prod = load_config(context="prod", env={"KUBECONFIG": f"{a}:{b}"})
    assert (prod.server, prod.namespace, prod.bearer_token()) == ("https://prod:6443", "default", "tok-b")


def test_missing_files_in_a_list_are_skipped(tmp_path: Path) -> None:
    b = _write(tmp_path / "b", _config("prod", "https://prod", {"token": "x"}))
    assert load_config(env={"KUBECONFIG": f"{tmp_path / 'absent'}:{b}"}).context == "prod"


def test_token_file_and_relative_ca(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not used here")
    (tmp_path / "tok").write_text("file-token\n")
    doc = _config("c", "https://k", {"tokenFile": str(tmp_path / "tok")})
    doc["clusters"][0]["cluster"]["certificate-authority"] = "ca.pem"
    cfg = load_config(str(_write(tmp_path / "cfg", doc)), env={})
    assert cfg.bearer_token() == "file-token"
    assert cfg.ca_data == b"not used here"


def test_bad_base64_names_the_context(tmp_path: Path) -> None:
    doc = _config("c", "https://k", {"client-certificate-data": "%%%"})
    with pytest.raises(ConfigError, match="context 'c': client-certificate-data is not base64"):
        load_config(str(_write(tmp_path / "cfg", doc)), env={})


def test_no_current_context(tmp_path: Path) -> None:
    cfg = _write(tmp_path / "cfg", _config("c", "https://k", {}, current=False))
    with pytest.raises(ConfigError, match="has no current-context"):
        load_config(str(cfg), env={})


def test_exec_plugin_supplies_the_token(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin.sh"
    cred = {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": {"token": "from-exec"}}
    plugin.write_text(f"#!/bin/sh\necho '{json.dumps(cred)}'\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IEXEC)
    doc = _config("c", "https://k", {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin)}})
    cfg = load_config(str(_write(tmp_path / "cfg", doc)), env={})
    cfg.ssl_context()
    assert cfg.bearer_token() == "from-exec"


def test_failing_exec_plugin_is_a_config_error(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin.sh"
    plugin.write_text("#!/bin/sh\necho 'no credentials for you' >&2\nexit 7\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IEXEC)
    doc = _config("c", "https://k", {"exec": {"command": str(plugin)}})
    cfg = load_config(str(_write(tmp_path / "cfg", doc)), env={})
    with pytest.raises(ConfigError, match="exited 7: no credentials for you"):
        cfg.ssl_context()


def test_client_certificate_data_decodes(tmp_path: Path) -> None:
    doc = _config("c", "https://k", {"client-certificate-data": base64.b64encode(b"CERT").decode()})
    assert load_config(str(_write(tmp_path / "cfg", doc)), env={}).cert_data == b"CERT"
