"""Exit statuses and one-line errors of expected failures (no tracebacks)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kubectl_infercost.__main__ import main


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubectl_infercost", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent-home", **(env or {})},
        check=False,
        timeout=60,
    )


def test_version_json() -> None:
    result = run("version", "-o", "json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["pluginVersion"] == "0.1.0"
    # a source tree: scripts/build-binary stamps the real commit and date into the binary
    assert (info["gitCommit"], info["buildDate"], info["frozen"]) == ("unknown", "unknown", "false")
    assert info["python"].startswith("3.")


def test_missing_kubeconfig_is_exit_3_with_one_error_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "config"
    result = run("install", env={"KUBECONFIG": str(missing)})
    assert result.returncode == 3
    assert result.stderr.splitlines() == [f"error: kubeconfig {missing} does not exist"]
    assert "Traceback" not in result.stderr


def test_unknown_context_is_exit_3(tmp_path: Path) -> None:
    cfg = tmp_path / "config"
    cfg.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "contexts": [], "clusters": [], "users": []}))
    result = run("install", "--context", "prod", env={"KUBECONFIG": str(cfg)})
    assert result.returncode == 3
    assert result.stderr.startswith("error: context 'prod' not found in kubeconfig")
    assert len(result.stderr.splitlines()) == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_api_down_is_exit_4(tmp_path: Path) -> None:
    port = _closed_port()
    cfg = tmp_path / "config"
    cfg.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "c", "cluster": {"server": f"https://127.0.0.1:{port}", "insecure-skip-tls-verify": True}}
                ],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    result = run("install", env={"KUBECONFIG": str(cfg)})
    assert result.returncode == 4
    assert result.stderr.splitlines() == [
        f"error: cannot reach the Kubernetes API at https://127.0.0.1:{port}: connection refused"
    ]
    debug = run("install", "--debug", env={"KUBECONFIG": str(cfg)})
    assert debug.returncode == 4
    assert "Traceback" in debug.stderr


@pytest.mark.usefixtures("capsys")
@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--help"], 0),
        (["install", "--help"], 0),
        (["no-such-command"], 2),
        (["version", "-o", "xml"], 2),
    ],
)
def test_usage_exit_codes(args: list[str], code: int) -> None:
    assert main(args) == code


def test_click_usage_errors_are_one_error_line() -> None:
    result = run("reconcile", "--bogus")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: No such option '--bogus'. Did you mean '--user'? (see 'kubectl infercost reconcile --help')"
    ]
    interval = run("reconcile", "--watch", "--interval", "0")
    assert (interval.returncode, interval.stderr.splitlines()) == (
        2,
        ["error: --interval '0' is below the minimum of 1s"],
    )


def test_untrusted_server_certificate_is_one_tls_line(tmp_path: Path) -> None:
    import ssl
    import threading

    from testenv.certs import TinyCA

    server_ca, other_ca = TinyCA("server-ca"), TinyCA("some-other-ca")
    server_ca.issue("localhost", dns=("localhost",), ips=("127.0.0.1",), server=True).write(
        tmp_path / "tls.crt", tmp_path / "tls.key"
    )
    other_ca.pair.write(tmp_path / "other.crt", tmp_path / "other.key")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        for _ in range(8):  # the client retries; each handshake fails on its side
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                ctx.wrap_socket(conn, server_side=True).close()
            except (ssl.SSLError, OSError):
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    cfg = tmp_path / "config"
    cluster = {"server": f"https://127.0.0.1:{port}", "certificate-authority": str(tmp_path / "other.crt")}
    cfg.write_text(
        yaml.safe_dump(
            {
                "clusters": [{"name": "c", "cluster": cluster}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    result = run("report", env={"KUBECONFIG": str(cfg)})
    listener.close()
    assert result.returncode == 4
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: cannot reach the Kubernetes API at https://127.0.0.1:{port}: TLS: "), line
    assert "certificate verify failed" in line and "_ssl.c" not in line, line
