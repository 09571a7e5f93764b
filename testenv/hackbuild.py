"""The Go test binaries built by ``hack/build-*`` scripts: build on first use, cached afterwards."""

from __future__ import annotations

import subprocess

from .controlplane import REPO


class BuildError(RuntimeError):
    pass


def cached_binary(script: str) -> str:
    """Run ``hack/<script>`` (a cached build returns at once) and return the path it prints."""
    out = subprocess.run([str(REPO / "hack" / script)], capture_output=True, text=True, check=False, timeout=900)
    if out.returncode != 0:
        raise BuildError(f"{script} failed: {out.stderr[-2000:]}")
    return out.stdout.strip().splitlines()[-1]
