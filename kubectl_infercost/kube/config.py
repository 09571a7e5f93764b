"""Where the API server is and who we are: kubeconfig or in-cluster, through the ``kubernetes`` package.

The package merges kubeconfigs, runs exec credential plugins (re-running them when their
``expirationTimestamp`` passes), refreshes OIDC tokens, reads client certificates, proxies
(``proxy-url``, ``HTTPS_PROXY``/``NO_PROXY``) and ``tls-server-name``, and re-reads the in-cluster
service-account token. What it lacks, we add here, each with a unit test that shows the gap:

- kubectl's flags (``--server``, ``--user``, ``--token``, ``--as``, ...) applied over the kubeconfig;
- ``current-context`` taken from the first file that sets it (the package takes the last);
- ``tokenFile`` wins over ``token`` and is re-read every minute (client-go does both);
- impersonation (``as``, ``as-groups``, ``as-uid``), which the package ignores;
- a failing exec plugin is an error naming the context, user and command (the package only logs it);
- a forced refresh after a 401 (the package refreshes only on expiry).

The package is imported lazily: ``version`` and ``--help`` never load it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import ConfigError

IN_CLUSTER_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
# Tests point this at a folder of their own; in a pod it is the kubelet's projected volume.
SERVICE_ACCOUNT_DIR_ENV = "INFERCOST_SERVICE_ACCOUNT_DIR"
TOKEN_FILE_REREAD_SECONDS = 60.0
# Credentials are renewed this long before their expirationTimestamp (client-go: at it).
EXPIRY_SKEW = timedelta(seconds=10)


@dataclass(frozen=True)
class Overrides:
    """kubectl's connection flags; each one, when given, wins over the kubeconfig."""

    server: str | None = None
    token: str | None = None
    user: str | None = None
    cluster: str | None = None
    certificate_authority: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    impersonate: str | None = None
    impersonate_groups: tuple[str, ...] = ()
    impersonate_uid: str | None = None


class Credentials:
    """Puts credentials into a ``kubernetes.client.Configuration`` and refreshes them on demand.

    This base class is anonymous access: nothing to put in, nothing to refresh.
    """

    def configure(self, configuration: Any) -> None:  # noqa: ARG002, V107 -- the interface subclasses implement
        return None

    def refresh(self, configuration: Any) -> bool:  # noqa: ARG002, V107 -- the interface subclasses implement
        """Fetch new credentials after a 401; False when there is nothing that could change."""
        return False


@dataclass
class ClusterConfig:
    """Everything needed to talk to one API server as one user."""

    server: str
    context: str
    namespace: str = "default"
    cluster_name: str | None = None
    user_name: str | None = None
    source: str = ""
    impersonation: list[tuple[str, str]] = field(default_factory=list)
    credentials: Credentials = field(default_factory=Credentials)

    def describe(self) -> str:
        """Who we are, for error messages: context, user and the file they came from."""
        parts = [f"context {self.context!r}"]
        if self.user_name:
            parts.append(f"user {self.user_name!r}")
        if self.source:
            parts.append(f"from {self.source}")
        return ", ".join(parts)

    def api_configuration(self) -> Any:
        """A fresh ``kubernetes.client.Configuration`` with current credentials."""
        from kubernetes.client import Configuration

        configuration = Configuration()
        configuration.host = self.server
        self.credentials.configure(configuration)
        return configuration


def kubeconfig_paths(explicit: str | None, env: Mapping[str, str]) -> list[Path]:
    if explicit:
        return [Path(explicit).expanduser()]
    if env.get("KUBECONFIG"):
        return [Path(p).expanduser() for p in env["KUBECONFIG"].split(os.pathsep) if p]
    return [Path(env.get("HOME", "~")).expanduser() / ".kube" / "config"]


def load_config(
    kubeconfig: str | None = None,
    context: str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Overrides | None = None,
) -> ClusterConfig:
    env = os.environ if env is None else env
    overrides = overrides or Overrides()
    if not kubeconfig and not env.get("KUBECONFIG") and env.get("KUBERNETES_SERVICE_HOST"):
        default = Path(env.get("HOME", "~")).expanduser() / ".kube" / "config"
        if not default.exists():
            return in_cluster_config(env, overrides)
    paths = kubeconfig_paths(kubeconfig, env)
    existing = [p for p in paths if p.exists()]
    if not existing:
        if overrides.server and not kubeconfig:
            return _flags_only_config(overrides)
        if len(paths) == 1:
            raise ConfigError(f"kubeconfig {paths[0]} does not exist")
        raise ConfigError(f"no kubeconfig found (looked at {', '.join(str(p) for p in paths)})")
    return _kubeconfig(existing, context, overrides)


def _merged(paths: list[Path]) -> tuple[Any, str | None]:
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import KubeConfigMerger

    try:
        merger = KubeConfigMerger(os.pathsep.join(str(p) for p in paths))
    except (ConfigException, OSError) as exc:
        raise ConfigError(f"cannot read kubeconfig {', '.join(map(str, paths))}: {exc}") from exc
    except Exception as exc:  # yaml errors: the package passes them through unwrapped
        raise ConfigError(f"cannot read kubeconfig {', '.join(map(str, paths))}: {exc}") from exc
    if merger.config is None or not isinstance(merger.config.value, dict):
        raise ConfigError(f"kubeconfig {paths[0]} is not a kubeconfig mapping")
    # kubectl: the first file that sets current-context wins (the package keeps the last).
    current = next(
        (
            doc.get("current-context")
            for doc in merger.config_files.values()
            if isinstance(doc, dict) and doc.get("current-context")
        ),
        None,
    )
    return merger.config, current


def _named(config: Any, kind: str, name: str) -> Any:
    for item in config.value.get(kind) or []:
        if item["name"] == name:
            return item
    return None


def _kubeconfig(paths: list[Path], context: str | None, overrides: Overrides) -> ClusterConfig:
    config, current = _merged(paths)
    files = ", ".join(map(str, paths))
    name = context or current
    if not name:
        raise ConfigError(f"kubeconfig {files} has no current-context; pass --context")
    ctx_item = _named(config, "contexts", name)
    if ctx_item is None:
        raise ConfigError(f"context {name!r} not found in kubeconfig {files}")
    ctx_path = ctx_item.path
    ctx = dict(ctx_item.value.get("context") or {})
    cluster_name = overrides.cluster or ctx.get("cluster")
    user_name = overrides.user or ctx.get("user")
    cluster_item = _named(config, "clusters", str(cluster_name))
    if cluster_item is None:
        raise ConfigError(f"context {name!r}: cluster {cluster_name!r} not found in {files}")
    user_item = _named(config, "users", str(user_name)) if user_name else None
    if overrides.user and user_item is None:
        raise ConfigError(f"context {name!r}: user {user_name!r} not found in {files}")
    cluster = _override_cluster(dict(cluster_item.value.get("cluster") or {}), overrides)
    user = _override_user(dict(user_item.value.get("user") or {}) if user_item else {}, overrides)
    if not cluster.get("server"):
        raise ConfigError(f"context {name!r}: cluster {cluster_name!r} has no server in {cluster_item.path}")
    user_path = user_item.path if user_item else ctx_path
    resolved = _single_context(name, ctx, (cluster, cluster_item.path), (user, user_path), ctx_path)
    result = ClusterConfig(
        server=str(cluster["server"]).rstrip("/"),
        context=name,
        namespace=ctx.get("namespace") or "default",
        cluster_name=str(cluster_name),
        user_name=str(user_name) if user_name else None,
        source=str(user_path),
        impersonation=_impersonation(user, overrides),
    )
    token_file = user.get("tokenFile")
    result.credentials = KubeconfigCredentials(
        resolved,
        describe=result.describe(),
        token_file=Path(user_path).parent / token_file if token_file else None,
        refreshable=bool(token_file or user.get("exec") or user.get("auth-provider")),
    )
    return result


def _abs(path: str) -> str:
    """Flags name files relative to the working directory (kubectl), kubeconfigs relative to themselves."""
    return str(Path(path).expanduser().resolve())


def _override_cluster(cluster: dict[str, Any], o: Overrides) -> dict[str, Any]:
    if o.server:
        cluster["server"] = o.server
    if o.certificate_authority:
        cluster.pop("certificate-authority-data", None)
        cluster["certificate-authority"] = _abs(o.certificate_authority)
    if o.insecure_skip_tls_verify:
        cluster.pop("certificate-authority-data", None)
        cluster.pop("certificate-authority", None)
        cluster["insecure-skip-tls-verify"] = True
    if o.tls_server_name:
        cluster["tls-server-name"] = o.tls_server_name
    return cluster


def _override_user(user: dict[str, Any], o: Overrides) -> dict[str, Any]:
    if o.token:
        # An explicit token replaces every credential of the kubeconfig user (impersonation stays).
        user = {k: v for k, v in user.items() if k.startswith("as")}
        user["token"] = o.token
    if o.client_certificate:
        user.pop("client-certificate-data", None)
        user["client-certificate"] = _abs(o.client_certificate)
    if o.client_key:
        user.pop("client-key-data", None)
        user["client-key"] = _abs(o.client_key)
    return user


def _impersonation(user: Mapping[str, Any], o: Overrides) -> list[tuple[str, str]]:
    """Impersonate-* headers (the package ignores ``as``/``as-groups``/``as-uid``)."""
    as_user = o.impersonate or user.get("as")
    groups = list(o.impersonate_groups) or list(user.get("as-groups") or [])
    uid = o.impersonate_uid or user.get("as-uid")
    if (groups or uid) and not as_user:
        raise ConfigError("impersonating a group or uid needs a user to impersonate (--as)")
    headers: list[tuple[str, str]] = []
    if as_user:
        headers.append(("Impersonate-User", str(as_user)))
        headers += [("Impersonate-Group", str(g)) for g in groups]
        if uid:
            headers.append(("Impersonate-Uid", str(uid)))
        for key, values in (user.get("as-user-extra") or {}).items():
            headers += [(f"Impersonate-Extra-{key}", str(v)) for v in values or []]
    return headers


def _single_context(
    name: str,
    ctx: Mapping[str, Any],
    cluster: tuple[dict[str, Any], str | None],
    user: tuple[dict[str, Any], str | None],
    ctx_path: str | None,
) -> Any:
    """One context, one cluster, one user: the package's loader on exactly what we resolved.

    Each part keeps the file it came from, so relative paths resolve against that kubeconfig.
    """
    from kubernetes.config.kube_config import ConfigNode

    context = {"name": name, "context": {**ctx, "cluster": "c", "user": "u"}}
    return ConfigNode(
        str(ctx_path or name),
        {
            "current-context": name,
            "contexts": [ConfigNode("context", context, ctx_path)],
            "clusters": [ConfigNode("cluster", {"name": "c", "cluster": cluster[0]}, cluster[1])],
            "users": [ConfigNode("user", {"name": "u", "user": user[0]}, user[1])],
        },
        ctx_path,
    )


def _flags_only_config(o: Overrides) -> ClusterConfig:
    """``--server`` (with ``--token`` etc.) and no kubeconfig at all, as kubectl allows."""
    cluster = _override_cluster({}, o)
    user = _override_user({}, o)
    node = _single_context("flags", {}, (cluster, None), (user, None), None)
    result = ClusterConfig(
        server=str(cluster["server"]).rstrip("/"),
        context="flags",
        cluster_name=None,
        source="command-line flags",
        impersonation=_impersonation(user, o),
    )
    result.credentials = KubeconfigCredentials(node, describe=result.describe(), token_file=None, refreshable=False)
    return result


class _CapturedErrors(logging.Handler):
    """The package logs a failing exec plugin instead of raising; we keep what it said."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class KubeconfigCredentials(Credentials):
    def __init__(self, resolved: Any, *, describe: str, token_file: Path | None, refreshable: bool) -> None:
        self._resolved = resolved
        self._describe = describe
        self._token_file = token_file
        self._refreshable = refreshable
        self._loader: Any = None
        self._lock = threading.Lock()
        self._token_read_at = 0.0
        self._file_token = ""

    def _user(self) -> dict[str, Any]:
        user: dict[str, Any] = self._resolved.value["users"][0].value["user"]
        return user

    def _authenticate(self, configuration: Any) -> None:
        from kubernetes.config.config_exception import ConfigException
        from kubernetes.config.kube_config import KubeConfigLoader

        captured = _CapturedErrors()
        root = logging.getLogger()
        root.addHandler(captured)
        try:
            if self._loader is None:
                self._loader = KubeConfigLoader(config_dict=self._resolved, config_base_path=None)
                self._loader.load_and_set(configuration)
            else:
                self._loader._load_authentication()
                self._loader._set_config(configuration)
        except ConfigException as exc:
            raise ConfigError(f"{self._describe}: {exc}") from exc
        except OSError as exc:
            raise ConfigError(f"{self._describe}: {exc.strerror or exc}: {getattr(exc, 'filename', '')}") from exc
        finally:
            root.removeHandler(captured)
        spec = self._user().get("exec")
        if spec and captured.messages:
            command = spec.get("command") if isinstance(spec, dict) else spec
            raise ConfigError(
                f"{self._describe}: exec credential plugin {command!r} failed: {captured.messages[-1].strip()[:300]}"
            )

    def _read_token_file(self, configuration: Any) -> None:
        assert self._token_file is not None
        try:
            token = self._token_file.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{self._describe}: cannot read tokenFile {self._token_file}: {exc.strerror}") from exc
        self._file_token = f"Bearer {token}"
        configuration.api_key["BearerToken"] = self._file_token
        self._token_read_at = time.monotonic()

    def configure(self, configuration: Any) -> None:
        self._authenticate(configuration)
        if self._token_file is not None:
            # client-go: tokenFile wins over token, and is re-read as it may be rotated.
            self._read_token_file(configuration)
        self._guard_hook(configuration)

    def _guard_hook(self, configuration: Any) -> None:
        """Our per-request hook in place of the package's: its 5-minute skew would re-run a plugin whose
        credentials live 15 minutes on every request for a third of their life, and scrapes run in
        threads, so the hook is serialized."""

        def hook(cfg: Any) -> None:
            with self._lock:
                expiry = getattr(self._loader, "expiry", None)
                if isinstance(expiry, datetime) and datetime.now(UTC) >= expiry - EXPIRY_SKEW:
                    self._authenticate(cfg)
                if self._token_file is not None:
                    if time.monotonic() - self._token_read_at > TOKEN_FILE_REREAD_SECONDS:
                        self._read_token_file(cfg)
                    cfg.api_key["BearerToken"] = self._file_token
                cfg.refresh_api_key_hook = hook  # the package's loader re-installs its own

        configuration.refresh_api_key_hook = hook

    def refresh(self, configuration: Any) -> bool:
        if not self._refreshable:
            return False
        with self._lock:
            self._authenticate(configuration)
            if self._token_file is not None:
                self._read_token_file(configuration)
        self._guard_hook(configuration)
        return True


class InClusterCredentials(Credentials):
    def __init__(self, folder: Path, env: Mapping[str, str]) -> None:
        self._folder = folder
        self._env = env
        self._loader: Any = None
        self._lock = threading.Lock()

    def configure(self, configuration: Any) -> None:
        from kubernetes.config.config_exception import ConfigException
        from kubernetes.config.incluster_config import InClusterConfigLoader

        self._loader = InClusterConfigLoader(
            token_filename=str(self._folder / "token"),
            cert_filename=str(self._folder / "ca.crt"),
            environ=self._env,
        )
        try:
            self._loader.load_and_set(configuration)
        except (ConfigException, OSError) as exc:
            raise ConfigError(f"in-cluster service account in {self._folder}: {exc}") from exc
        package_hook = configuration.refresh_api_key_hook

        def hook(cfg: Any) -> None:
            with self._lock:
                package_hook(cfg)
                cfg.refresh_api_key_hook = hook  # the package's hook re-installs itself

        configuration.refresh_api_key_hook = hook

    def refresh(self, configuration: Any) -> bool:
        # The kubelet rotates the projected token; after a 401 read it now, not in a minute.
        with self._lock:
            try:
                self._loader._read_token_file()
            except OSError as exc:
                raise ConfigError(f"in-cluster service account token {self._folder / 'token'}: {exc}") from exc
            configuration.api_key["BearerToken"] = self._loader.token
        return True


def in_cluster_config(env: Mapping[str, str], overrides: Overrides | None = None) -> ClusterConfig:
    folder = Path(env.get(SERVICE_ACCOUNT_DIR_ENV) or IN_CLUSTER_DIR)
    host, port = env["KUBERNETES_SERVICE_HOST"], env.get("KUBERNETES_SERVICE_PORT", "443")
    host = f"[{host}]" if ":" in host else host
    try:
        namespace = (folder / "namespace").read_text().strip()
    except OSError as exc:
        raise ConfigError(f"in-cluster service account files in {folder} unreadable: {exc.strerror}") from exc
    return ClusterConfig(
        server=f"https://{host}:{port}",
        context="in-cluster",
        namespace=namespace or "default",
        cluster_name="in-cluster",
        source=f"service account {folder}",
        impersonation=_impersonation({}, overrides or Overrides()),
        credentials=InClusterCredentials(folder, env),
    )
