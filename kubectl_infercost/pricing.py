"""Where the cloud price catalog comes from: the bundled file, ``--pricing-file``, or a ConfigMap.

Adapter (file and API I/O); the validation itself is :func:`kubectl_infercost.core.cloud.parse_catalog`.
Precedence used by the commands (:func:`resolve_catalog`): ``--pricing-file`` if given, else the
ConfigMap ``infercost-pricing`` (key ``cloud-pricing.yaml``, or LiteLLM's
``model_prices_and_context_window.json``) in the CLI's namespace if it exists and is readable, else the
catalog bundled with the plugin. A file may also be LiteLLM's price map as-is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .core.cloud import PriceCatalog, is_litellm_map, litellm_document, parse_catalog
from .errors import ForbiddenError, InvalidDataError, NotFoundError

if TYPE_CHECKING:
    from .kube.client import KubeClient

BUNDLED_RESOURCE = "data/cloud-pricing.yaml"
BUNDLED_SOURCE = "bundled cloud-pricing.yaml"
CONFIGMAP_NAME = "infercost-pricing"
CONFIGMAP_KEY = "cloud-pricing.yaml"
LITELLM_KEY = "model_prices_and_context_window.json"


def _parse_yaml(text: str, source: str, obtained: date | None = None) -> PriceCatalog:
    """Our YAML shape, or LiteLLM's price map (JSON), dated ``obtained`` (it carries no date itself)."""
    if text.lstrip().startswith("{"):
        try:
            mapping = json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            raise InvalidDataError(f"price catalog {source}: not valid JSON: {exc}") from exc
        if is_litellm_map(mapping):
            return parse_catalog(litellm_document(mapping, obtained or datetime.now(UTC).date()), source)
    try:
        doc: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidDataError(f"price catalog {source}: not valid YAML: {exc}") from exc
    if not isinstance(doc, Mapping):
        raise InvalidDataError(f"price catalog {source}: expected a mapping at the top level")
    return parse_catalog(doc, source)


def bundled_text() -> str:
    """The text of the catalog shipped inside the package (wheel, editable install or frozen binary)."""
    try:
        return resources.files("kubectl_infercost").joinpath(BUNDLED_RESOURCE).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidDataError(f"bundled price catalog {BUNDLED_RESOURCE} is missing from the package: {exc}") from exc


def load_catalog(path: str | None = None) -> PriceCatalog:
    """The catalog at ``path`` (``--pricing-file``), or the bundled one when ``path`` is None."""
    if path is None:
        return _parse_yaml(bundled_text(), BUNDLED_SOURCE)
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidDataError(f"price catalog {path}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidDataError(f"price catalog {path}: cannot read: {exc}") from exc
    # a LiteLLM map has no dates: it is as recent as the file (the day it was downloaded)
    modified = datetime.fromtimestamp(file.stat().st_mtime, UTC).date()
    return _parse_yaml(text, str(path), modified)


def catalog_from_configmap(
    data: Mapping[str, str], *, source: str | None = None, created: date | None = None
) -> PriceCatalog:
    """The catalog held by ConfigMap ``infercost-pricing``: key ``cloud-pricing.yaml``, or LiteLLM's map.

    A LiteLLM map (key ``model_prices_and_context_window.json``) is dated ``created`` (the ConfigMap's
    creationTimestamp), as it carries no date of its own.
    """
    where = source or f"ConfigMap {CONFIGMAP_NAME}"
    for key in (CONFIGMAP_KEY, LITELLM_KEY):
        text = data.get(key)
        if text is not None:
            return _parse_yaml(text, f"{where} key {key}", created)
    raise InvalidDataError(f"price catalog {where}: no key {CONFIGMAP_KEY!r} (or {LITELLM_KEY!r}) in its data")


def resolve_catalog(
    client: KubeClient | None,
    namespace: str | None,
    pricing_file: str | None,
    *,
    warn: Callable[[str], None] | None = None,
) -> PriceCatalog:
    """``--pricing-file``, else the ConfigMap in ``namespace`` (GET only), else the bundled catalog.

    A missing ConfigMap (404) or one the identity may not read (403) falls back to the bundled catalog;
    the 403 case is reported through ``warn``. A ConfigMap that exists but is invalid is an error.
    """
    if pricing_file is not None:
        return load_catalog(pricing_file)
    if client is not None and namespace:
        from .kube.resources import CONFIGMAPS

        try:
            cm = client.get(CONFIGMAPS.item(CONFIGMAP_NAME, namespace), what=f"get ConfigMap {CONFIGMAP_NAME}")
        except NotFoundError:
            cm = None
        except ForbiddenError:
            cm = None
            if warn is not None:
                warn(f"cannot read ConfigMap {namespace}/{CONFIGMAP_NAME} (forbidden): using the bundled price catalog")
        if cm is not None:
            stamp = (cm.get("metadata") or {}).get("creationTimestamp")
            created = datetime.fromisoformat(stamp.replace("Z", "+00:00")).date() if stamp else None
            return catalog_from_configmap(
                cm.get("data") or {}, source=f"ConfigMap {namespace}/{CONFIGMAP_NAME}", created=created
            )
    return load_catalog(None)
