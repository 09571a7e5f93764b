"""Kubeconfig through the `kubernetes` package, and each gap we fill on top of it (one test per gap)."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_infercost.errors import ConfigError
from kubectl_infercost.kube import config as kube_config
from kubectl_infercost.kube.config import Overrides, in_cluster_config, load_config


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


def _token(cfg: kube_config.ClusterConfig) -> str | None:
    """The Authorization header value a request would carry now."""
    configuration = cfg.api_configuration()
    value: str | None = configuration.get_api_key_with_prefix("BearerToken")
    return value


def _plugin(path: Path, token: str, *, log: Path | None = None, expiry: str | None = None) -> Path:
    status: dict[str, Any] = {"token": token}
    if expiry:
        status["expirationTimestamp"] = expiry
    cred = {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": status}
    logline = f"echo run >> {log}\n" if log else ""
    path.write_text(f"#!/bin/sh\n{logline}echo '{json.dumps(cred)}'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


EXEC_V1 = "client.authentication.k8s.io/v1"


def test_merge_first_current_context_wins_and_context_namespace(tmp_path: Path) -> None:
    # Gap: the package keeps the last file's current-context; kubectl the first.
    a = _write(tmp_path / "a", _config("dev", "https://dev:6443/", {"token": "tok-a"}, "team-a"))
    b = _write(tmp_path / "b", _config("prod", "https://prod:6443", {"token": "tok-b"}, current=True))
    cfg = load_config(env={"KUBECONFIG": f"{a}:{b}"})
    assert (cfg.context, cfg.server, cfg.namespace, _token(cfg)) == (
        "dev",
        "https://dev:6443",
        "team-a",
        "Bearer tok-a",
    )
    prod = load_config(context="prod", env={"KUBECONFIG": f"{a}:{b}"})
    assert (prod.server, prod.namespace, _token(prod)) == ("https://prod:6443", "default", "Bearer tok-b")


def test_missing_files_in_a_list_are_skipped(tmp_path: Path) -> None:
    b = _write(tmp_path / "b", _config("prod", "https://prod", {"token": "x"}))
    assert load_config(env={"KUBECONFIG": f"{tmp_path / 'absent'}:{b}"}).context == "prod"


def test_token_file_wins_over_token_relative_to_the_kubeconfig_and_is_reread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Gaps: the package prefers `token` and reads the file once; client-go prefers the file and re-reads it.
    folder = tmp_path / "kube"
    folder.mkdir()
    (folder / "tok").write_text("file-token\n")
    (folder / "ca.pem").write_text("CA")
    doc = _config("c", "https://k", {"token": "inline", "tokenFile": "tok"})
    doc["clusters"][0]["cluster"]["certificate-authority"] = "ca.pem"
    monkeypatch.chdir(tmp_path)
    cfg = load_config(str(_write(folder / "cfg", doc)), env={})
    configuration = cfg.api_configuration()
    assert configuration.get_api_key_with_prefix("BearerToken") == "Bearer file-token"
    assert configuration.ssl_ca_cert == str(folder / "ca.pem")
    (folder / "tok").write_text("rotated\n")
    monkeypatch.setattr(kube_config, "TOKEN_FILE_REREAD_SECONDS", 0.0)
    assert configuration.get_api_key_with_prefix("BearerToken") == "Bearer rotated"


def test_no_current_context(tmp_path: Path) -> None:
    cfg = _write(tmp_path / "cfg", _config("c", "https://k", {}, current=False))
    with pytest.raises(ConfigError, match="has no current-context"):
        load_config(str(cfg), env={})


def test_exec_plugin_relative_to_the_kubeconfig_reruns_when_expired(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    _plugin(tmp_path / "plugin.sh", "from-exec", log=log, expiry="2000-01-01T00:00:00Z")
    doc = _config("c", "https://k", {"exec": {"apiVersion": EXEC_V1, "command": "./plugin.sh"}})
    cfg = load_config(str(_write(tmp_path / "cfg", doc)), env={})
    configuration = cfg.api_configuration()
    assert configuration.get_api_key_with_prefix("BearerToken") == "Bearer from-exec"
    # Expired: every request runs the plugin again (the package's expiry hook).
    configuration.get_api_key_with_prefix("BearerToken")
    assert log.read_text().count("run") == 3


def test_refresh_after_a_401_reruns_a_plugin_that_has_not_expired(tmp_path: Path) -> None:
    # Gap: the package refreshes only on expiry; a 401 must fetch new credentials now.
    log = tmp_path / "runs.log"
    _plugin(tmp_path / "plugin.sh", "tok", log=log, expiry="2999-01-01T00:00:00Z")
    doc = _config("c", "https://k", {"exec": {"apiVersion": EXEC_V1, "command": str(tmp_path / "plugin.sh")}})
    cfg = load_config(str(_write(tmp_path / "cfg", doc)), env={})
    configuration = cfg.api_configuration()
    configuration.get_api_key_with_prefix("BearerToken")
    assert log.read_text().count("run") == 1
    assert cfg.credentials.refresh(configuration) is True
    assert log.read_text().count("run") == 2


def test_static_token_has_nothing_to_refresh(tmp_path: Path) -> None:
    cfg = load_config(str(_write(tmp_path / "cfg", _config("c", "https://k", {"token": "t"}))), env={})
    assert cfg.credentials.refresh(cfg.api_configuration()) is False


def test_failing_exec_plugin_is_a_config_error_naming_context_user_and_command(tmp_path: Path) -> None:
    # Gap: the package only logs a failing plugin and goes on without credentials.
    plugin = tmp_path / "plugin.sh"
    plugin.write_text("#!/bin/sh\necho 'no credentials for you' >&2\nexit 7\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IEXEC)
    doc = _config("c", "https://k", {"exec": {"apiVersion": EXEC_V1, "command": str(plugin)}})
    cfg = load_config(str(_write(tmp_path / "cfg", doc)), env={})
    with pytest.raises(ConfigError) as err:
        cfg.api_configuration()
    text = str(err.value)
    assert "context 'c'" in text and "user 'c-u'" in text and str(plugin) in text
    assert "returned 7" in text and "no credentials for you" in text


def test_impersonation_from_kubeconfig_and_flags(tmp_path: Path) -> None:
    # Gap: the package ignores as/as-groups/as-uid.
    user = {"token": "t", "as": "alice", "as-groups": ["g1", "g2"], "as-uid": "u-1"}
    path = _write(tmp_path / "cfg", _config("c", "https://k", user))
    assert load_config(str(path), env={}).impersonation == [
        ("Impersonate-User", "alice"),
        ("Impersonate-Group", "g1"),
        ("Impersonate-Group", "g2"),
        ("Impersonate-Uid", "u-1"),
    ]
    flags = Overrides(impersonate="viewer", impersonate_groups=("team-a",))
    assert load_config(str(path), env={}, overrides=flags).impersonation == [
        ("Impersonate-User", "viewer"),
        ("Impersonate-Group", "team-a"),
        ("Impersonate-Uid", "u-1"),
    ]
    with pytest.raises(ConfigError, match="needs a user to impersonate"):
        load_config(str(_write(tmp_path / "g", _config("c", "https://k", {"as-groups": ["x"]}))), env={})


def test_flags_override_the_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _config("c", "https://k", {"token": "kubeconfig-token", "tokenFile": "absent"})
    doc["clusters"][0]["cluster"]["certificate-authority-data"] = "Q0E="
    doc["users"].append({"name": "other", "user": {"token": "other-token"}})
    path = _write(tmp_path / "cfg", doc)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my-ca.pem").write_text("CA")
    flags = Overrides(
        server="https://elsewhere:6443",
        token="flag-token",
        certificate_authority="my-ca.pem",
        tls_server_name="api.internal",
    )
    cfg = load_config(str(path), env={}, overrides=flags)
    configuration = cfg.api_configuration()
    assert cfg.server == configuration.host == "https://elsewhere:6443"
    assert configuration.get_api_key_with_prefix("BearerToken") == "Bearer flag-token"
    assert configuration.ssl_ca_cert == str(tmp_path / "my-ca.pem")
    assert configuration.tls_server_name == "api.internal"
    other = load_config(str(path), env={}, overrides=Overrides(user="other"))
    assert (other.user_name, _token(other)) == ("other", "Bearer other-token")
    insecure = load_config(str(path), env={}, overrides=Overrides(user="other", insecure_skip_tls_verify=True))
    assert insecure.api_configuration().verify_ssl is False
    with pytest.raises(ConfigError, match="user 'nobody' not found"):
        load_config(str(path), env={}, overrides=Overrides(user="nobody"))


def test_server_and_token_flags_without_any_kubeconfig(tmp_path: Path) -> None:
    cfg = load_config(env={"HOME": str(tmp_path)}, overrides=Overrides(server="https://k:6443", token="t"))
    assert (cfg.server, cfg.context, _token(cfg)) == ("https://k:6443", "flags", "Bearer t")


def test_proxy_url_and_socks(tmp_path: Path) -> None:
    from kubectl_infercost.kube.client import KubeClient

    doc = _config("c", "https://k", {"token": "t"})
    doc["clusters"][0]["cluster"]["proxy-url"] = "socks5://127.0.0.1:1080"
    cfg = load_config(str(_write(tmp_path / "cfg", doc)), env={})
    with KubeClient(cfg) as client:  # PySocks is a dependency: no ImportError
        assert type(client._api.rest_client.pool_manager).__name__ == "SOCKSProxyManager"


def test_in_cluster_token_is_reread_on_refresh(tmp_path: Path) -> None:
    # Gap: the package re-reads the projected token once a minute; after a 401 we read it at once.
    (tmp_path / "token").write_text("first")
    (tmp_path / "ca.crt").write_text("CA")
    (tmp_path / "namespace").write_text("infercost")
    env = {
        "KUBERNETES_SERVICE_HOST": "10.0.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
        kube_config.SERVICE_ACCOUNT_DIR_ENV: str(tmp_path),
    }
    cfg = in_cluster_config(env)
    assert (cfg.server, cfg.namespace) == ("https://10.0.0.1:443", "infercost")
    configuration = cfg.api_configuration()
    assert configuration.get_api_key_with_prefix("BearerToken") == "bearer first"
    (tmp_path / "token").write_text("second")
    assert cfg.credentials.refresh(configuration) is True
    assert configuration.get_api_key_with_prefix("BearerToken") == "bearer second"
