"""A real S3-compatible server for the object-storage export tests: versitygw's posix backend.

The pinned build from hack/build-versitygw, listening on a loopback port of with-cluster's private
network namespace, with its own root access key and secret, storing each bucket as a directory of
``root`` (an object is the file ``root/<bucket>/<key>``; uploads in progress live in a hidden
``.sgwtmp`` folder of the bucket and are never listed).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .hackbuild import BuildError, cached_binary

S3_PORT = 17070


class S3ServerError(RuntimeError):
    pass


def versitygw_binary() -> str:
    """The cached build (built now, about 2 minutes on 2 cores, if absent)."""
    try:
        return cached_binary("build-versitygw")
    except BuildError as exc:
        raise S3ServerError(str(exc)) from exc


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class S3Server:
    workdir: Path
    port: int = S3_PORT
    region: str = "us-east-1"
    access_key: str = field(default_factory=lambda: "infercost-" + secrets.token_hex(6))
    secret_key: str = field(default_factory=lambda: secrets.token_hex(20))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def root(self) -> Path:
        return self.workdir / "root"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """What a client of this server needs in its environment (the standard credential chain)."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",  # never look for instance metadata
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / "versitygw.log").open("ab")
        self.proc = subprocess.Popen(
            [
                versitygw_binary(),
                f"--port=127.0.0.1:{self.port}",
                f"--access={self.access_key}",
                f"--secret={self.secret_key}",
                f"--region={self.region}",
                "--quiet",
                "posix",
                str(self.root),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while not _listening(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise S3ServerError(f"versitygw did not start: {(self.workdir / 'versitygw.log').read_text()[-2000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: the server dies mid-request, as a crashed store would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
