"""A real HTTP proxy in front of the test kube-apiserver that can misbehave on status writes.

It listens on plain HTTP on loopback and forwards every request, over TLS with the admin client
certificate, to the API server of ``$KUBECONFIG``. Tests point a kubeconfig at it and then:

- ``conflicts(n)``: the next ``n`` status PUTs (``.../status``) are answered ``409 Conflict`` by
  the proxy itself, without reaching the API server, as if another writer had just won;
- ``before_status_put(hook)``: ``hook(path)`` runs before each status PUT is forwarded until it
  returns True, e.g. to delete the object in between the reconciler's list and its update.

Everything it forwards is what the API server answered. Counters say what it did.
"""

from __future__ import annotations

import base64
import http.client
import http.server
import json
import os
import socketserver
import ssl
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


def _admin(kubeconfig: Path) -> tuple[str, dict[str, Any], dict[str, Any]]:
    doc = yaml.safe_load(kubeconfig.read_text())
    ctx = next(c["context"] for c in doc["contexts"] if c["name"] == doc["current-context"])
    cluster = next(c["cluster"] for c in doc["clusters"] if c["name"] == ctx["cluster"])
    user = next(u["user"] for u in doc["users"] if u["name"] == ctx["user"])
    return str(cluster["server"]), cluster, user


class ApiProxy:
    def __init__(self, kubeconfig: Path | None = None) -> None:
        self.kubeconfig = Path(kubeconfig or os.environ["KUBECONFIG"])
        server, cluster, user = _admin(self.kubeconfig)
        parts = urlsplit(server)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 443)
        self._files = tempfile.TemporaryDirectory(prefix="infercost-apiproxy-")
        folder = Path(self._files.name)
        ca = folder / "ca.crt"
        ca.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
        cert, key = folder / "client.crt", folder / "client.key"
        cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
        key.write_bytes(base64.b64decode(user["client-key-data"]))
        self.ssl = ssl.create_default_context(cafile=str(ca))
        self.ssl.load_cert_chain(str(cert), str(key))
        self.lock = threading.Lock()
        self._conflicts_left = 0
        self._hook: Callable[[str], bool] | None = None
        self.answered_409 = 0  # status PUTs the proxy refused itself
        self.upstream_409 = 0  # status PUTs the API server itself answered 409
        self._local = threading.local()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _relay(self) -> None:
                proxy.handle(self)

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _relay

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # -- control -------------------------------------------------------------------------------------
    def conflicts(self, n: int) -> None:
        with self.lock:
            self._conflicts_left = n

    def before_status_put(self, hook: Callable[[str], bool]) -> None:
        with self.lock:
            self._hook = hook

    def write_kubeconfig(self, path: Path, namespace: str | None = None) -> Path:
        context: dict[str, Any] = {"cluster": "proxy", "user": "proxy"}
        if namespace:
            context["namespace"] = namespace
        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "proxy", "cluster": {"server": f"http://127.0.0.1:{self.port}"}}],
            "users": [{"name": "proxy", "user": {}}],
            "contexts": [{"name": "proxy", "context": context}],
            "current-context": "proxy",
        }
        path.write_text(yaml.safe_dump(doc))
        return path

    def start(self) -> ApiProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self.httpd.shutdown()
        self.httpd.server_close()
        self._files.cleanup()

    def __enter__(self) -> ApiProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- forwarding ----------------------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPSConnection:
        conn: http.client.HTTPSConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPSConnection(*self.upstream, context=self.ssl, timeout=120)
            self._local.conn = conn
        return conn

    def upstream_request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """A request of the proxy's own (hooks use it), with the admin identity."""
        conn = http.client.HTTPSConnection(*self.upstream, context=self.ssl, timeout=60)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def handle(self, h: http.server.BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else None
        path = h.path.split("?", 1)[0]
        if h.command == "PUT" and path.endswith("/status"):
            with self.lock:
                refuse = self._conflicts_left > 0
                if refuse:
                    self._conflicts_left -= 1
                    self.answered_409 += 1
                hook = self._hook
            if refuse:
                self._answer(h, 409, _conflict(path))
                return
            if hook is not None and hook(path):
                with self.lock:
                    if self._hook is hook:
                        self._hook = None
        headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "host"}
        for attempt in range(2):
            conn = self._connection()
            try:
                conn.request(h.command, h.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                if resp.status == 409 and h.command == "PUT" and path.endswith("/status"):
                    with self.lock:
                        self.upstream_409 += 1
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt:
                    h.send_error(502)
                    return
        h.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _answer(self, h: http.server.BaseHTTPRequestHandler, code: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)


def _conflict(path: str) -> dict[str, Any]:
    name = path.rstrip("/").split("/")[-2]
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": f"Operation cannot be fulfilled on {name}: the object has been modified; please apply your "
        "changes to the latest version and try again",
        "reason": "Conflict",
        "code": 409,
    }
