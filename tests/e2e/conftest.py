"""End-to-end tier: the released archive, installed by krew, run through kubectl's plugin discovery.

``make e2e`` builds the release (``scripts/release``) and krew (``hack/build-krew``), then runs
this tier under ``scripts/with-cluster``. Without them, or outside the cluster, the tier FAILS.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kubectl_infercost import __version__

REPO = Path(__file__).resolve().parents[2]
TAG = f"v{__version__}"
ARCHIVE = REPO / "dist" / f"kubectl-infercost_{TAG}_linux_amd64.tar.gz"
MANIFEST = REPO / "krew" / "infercost.yaml"
KREW_VERSION = "v0.4.3"
# Executables that would shadow the krew-installed plugin in kubectl's discovery (a pip install).
_SHADOWS = ("kubectl-infercost", "kubectl_complete-infercost")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.e2e)


@dataclass
class Krew:
    root: Path
    store: Path  # where krew unpacked this version of the plugin

    def bin(self, name: str) -> Path:
        return self.root / "bin" / name


def _krew_dir() -> Path:
    cache = Path(os.environ.get("INFERCOST_CACHE_DIR") or Path.home() / ".cache" / "kubectl-infercost")
    return cache / "bin" / f"krew-{KREW_VERSION}"


def _path_without_shadows(path: str) -> str:
    kept = [d for d in path.split(os.pathsep) if d and not any(Path(d, name).exists() for name in _SHADOWS)]
    return os.pathsep.join(kept)


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, input=input, env=env, timeout=300, check=False)


@pytest.fixture(scope="session")
def krew(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Krew]:
    """A throw-away KREW_ROOT with the plugin installed from the release archive; PATH as a krew user has it.

    The whole session's os.environ is changed, so every ``kubectl infercost`` (also those of the
    integration helpers reused here) runs the krew-installed binary.
    """
    if os.environ.get("INFERCOST_IN_NETNS") != "1" or not os.environ.get("KUBECONFIG"):
        pytest.fail("e2e tests need the local control plane: run them under scripts/with-cluster (make e2e)")
    for needed, how in ((ARCHIVE, "scripts/release"), (MANIFEST, "scripts/release"), (_krew_dir(), "hack/build-krew")):
        if not needed.exists():
            pytest.fail(f"{needed} is missing: run {how} first (make e2e does)")
    root = tmp_path_factory.mktemp("krew-root")
    # A krew user's root holds the index `kubectl krew update` cloned (uninstall insists on one); the
    # krew-index repository is out of reach here, so an empty git repository stands in for it.
    index = root / "index" / "default"
    index.mkdir(parents=True)
    assert run("git", "init", "-q", str(index)).returncode == 0
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KREW_ROOT", str(root))
        mp.setenv("KREW_NO_UPGRADE_CHECK", "1")
        mp.setenv(
            "PATH", f"{root / 'bin'}{os.pathsep}{_krew_dir()}{os.pathsep}{_path_without_shadows(os.environ['PATH'])}"
        )
        done = run("kubectl", "krew", "install", f"--manifest={MANIFEST}", f"--archive={ARCHIVE}")
        assert done.returncode == 0, done.stdout + done.stderr
        store = root / "store" / "infercost" / TAG
        assert (store / "LICENSE").is_file(), sorted(p.name for p in store.parent.glob("*/*"))
        yield Krew(root, store)
    shutil.rmtree(root, ignore_errors=True)
