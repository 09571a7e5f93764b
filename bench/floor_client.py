"""The floor of the reconcile benchmark: a bare concurrent HTTP client, as its own process.

GETs every path of a JSON list through the API server (16 threads, httpx, client
certificate from the kubeconfig), reads the bodies and parses nothing.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import yaml


def main() -> None:
    paths = json.loads(Path(sys.argv[1]).read_text())
    cfg = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
    cluster, user = cfg["clusters"][0]["cluster"], cfg["users"][0]["user"]
    ctx = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = Path(tmp, "c"), Path(tmp, "k")
        cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
        key.write_bytes(base64.b64decode(user["client-key-data"]))
        ctx.load_cert_chain(str(cert), str(key))
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    client = httpx.Client(base_url=cluster["server"], verify=ctx, limits=limits, timeout=30)
    with client, ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda p: client.get(p).status_code, paths))
    if codes.count(200) != len(paths):
        sys.exit(f"{len(paths) - codes.count(200)} GETs failed")


if __name__ == "__main__":
    main()
