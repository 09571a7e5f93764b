"""The floor of the reconcile benchmark: a bare concurrent HTTP client, as its own process.

``floor_client.py PATHS.json [urllib3|httpx]`` GETs every path of the JSON list through the API server
(16 threads, the kubeconfig's client certificate), reads the bodies and parses nothing. urllib3 is the
library under the ``kubernetes`` package's ApiClient; httpx is the floor earlier figures used.
"""

from __future__ import annotations

import json
import ssl
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from testenv.certs import kubeconfig_files


def _urllib3(server: str, ca: Path, cert: Path, key: Path) -> Callable[[str], int]:
    import urllib3

    pool = urllib3.PoolManager(
        maxsize=16, cert_reqs="CERT_REQUIRED", ca_certs=str(ca), cert_file=str(cert), key_file=str(key)
    )
    return lambda path: int(pool.request("GET", server + path, timeout=30).status)


def _httpx(server: str, ca: Path, cert: Path, key: Path) -> Callable[[str], int]:
    import httpx

    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.load_cert_chain(str(cert), str(key))
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    client = httpx.Client(base_url=server, verify=ctx, limits=limits, timeout=30)
    return lambda path: int(client.get(path).status_code)


def main() -> None:
    paths = json.loads(Path(sys.argv[1]).read_text())
    library = sys.argv[2] if len(sys.argv) > 2 else "urllib3"
    with kubeconfig_files() as (server, ca, cert, key):
        get = {"urllib3": _urllib3, "httpx": _httpx}[library](server, ca, cert, key)
        with ThreadPoolExecutor(16) as threads:
            codes = list(threads.map(get, paths))
    if codes.count(200) != len(paths):
        sys.exit(f"{len(paths) - codes.count(200)} GETs failed")


if __name__ == "__main__":
    main()
