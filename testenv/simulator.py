"""File-backed simulator of GPU exporters and inference servers (README.md, Development).

``GET http://192.0.2.X:PORT/PATH`` answers with ``$INFERCOST_SIM_ROOT/192.0.2.X/PORT/PATH``
(404 if absent). A sibling ``<file>.status`` holds an HTTP status to return and
``<file>.delay`` a number of seconds to wait first, ``<file>.trickle`` seconds between bytes,
``<file>.close`` a byte count after which the connection is closed mid-body.
The address a request was sent to is read from the accepted socket, so one listener per
port serves every simulated pod IP (the whole 192.0.2.0/24 is local inside the namespace).
"""

from __future__ import annotations

import http.server
import socketserver
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

PORTS = (80, 8000, 8002, 8080, 9400, 30000)


def _read_sidecar(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


class SimHandler(http.server.BaseHTTPRequestHandler):
    root: Path
    protocol_version = "HTTP/1.1"
    server_version = "infercost-sim/1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        local_ip, local_port = self.connection.getsockname()[:2]
        rel = unquote(urlsplit(self.path).path).lstrip("/")
        base = (self.root / local_ip / str(local_port)).resolve()
        target = (base / rel).resolve()
        if base not in target.parents and target != base:
            self._send(403, b"forbidden\n")
            return
        delay = _read_sidecar(target.with_name(target.name + ".delay"))
        if delay:
            time.sleep(float(delay))
        status_text = _read_sidecar(target.with_name(target.name + ".status"))
        if status_text:
            status = int(status_text)
            if status != 200:
                self._send(status, f"simulated status {status}\n".encode())
                return
        try:
            body = target.read_bytes()
        except (IsADirectoryError, FileNotFoundError, NotADirectoryError):
            self._send(404, b"not found\n")
            return
        cut = _read_sidecar(target.with_name(target.name + ".close"))
        if cut:
            self._cut(body, int(cut))
            return
        trickle = _read_sidecar(target.with_name(target.name + ".trickle"))
        self._send(200, body, "text/plain; version=0.0.4; charset=utf-8", float(trickle) if trickle else 0.0)

    def _cut(self, body: bytes, after: int) -> None:
        """Promise the whole body, send ``after`` bytes of it, then close the connection."""
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body[:after])
            self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True

    def _send(
        self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8", trickle: float = 0.0
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not trickle:
            self.wfile.write(body)
            return
        # <file>.trickle: one byte every that many seconds (a server that never quite stops answering)
        try:
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(trickle)
        except OSError:
            return


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (timeout tests) is not the simulator's problem


class Simulator:
    def __init__(self, root: Path, ports: tuple[int, ...] = PORTS, host: str = "0.0.0.0") -> None:
        self.root = root
        handler = type("BoundSimHandler", (SimHandler,), {"root": root.resolve()})
        self.servers = [_Server((host, port), handler) for port in ports]
        self.threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in self.servers]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()
