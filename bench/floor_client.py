"""The floor of the reconcile benchmark: a bare concurrent HTTP client, as its own process.

GETs every path of a JSON list through the API server (16 threads, urllib3 -- the library under the
``kubernetes`` package's ApiClient -- with the kubeconfig's client certificate), reads the bodies and
parses nothing.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import urllib3
import yaml


def main() -> None:
    paths = json.loads(Path(sys.argv[1]).read_text())
    cfg = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
    cluster, user = cfg["clusters"][0]["cluster"], cfg["users"][0]["user"]
    with tempfile.TemporaryDirectory() as tmp:
        ca, cert, key = Path(tmp, "ca"), Path(tmp, "c"), Path(tmp, "k")
        ca.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
        cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
        key.write_bytes(base64.b64decode(user["client-key-data"]))
        pool = urllib3.PoolManager(
            maxsize=16, cert_reqs="CERT_REQUIRED", ca_certs=str(ca), cert_file=str(cert), key_file=str(key)
        )
        server = cluster["server"]
        with ThreadPoolExecutor(16) as threads:
            codes = list(threads.map(lambda p: pool.request("GET", server + p, timeout=30).status, paths))
    if codes.count(200) != len(paths):
        sys.exit(f"{len(paths) - codes.count(200)} GETs failed")


if __name__ == "__main__":
    main()
