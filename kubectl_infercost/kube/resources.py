"""API paths of the objects we read and write."""

from __future__ import annotations

from dataclasses import dataclass

from ..models.common import GROUP, VERSION


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    def base(self) -> str:
        return f"/api/{self.version}" if not self.group else f"/apis/{self.group}/{self.version}"

    def collection(self, namespace: str | None = None) -> str:
        if self.namespaced and namespace:
            return f"{self.base()}/namespaces/{namespace}/{self.plural}"
        return f"{self.base()}/{self.plural}"

    def item(self, name: str, namespace: str | None = None) -> str:
        return f"{self.collection(namespace)}/{name}"


COST_PROFILES = Resource(GROUP, VERSION, "costprofiles", "CostProfile")
USAGE_REPORTS = Resource(GROUP, VERSION, "usagereports", "UsageReport")
TOKEN_BUDGETS = Resource(GROUP, VERSION, "tokenbudgets", "TokenBudget")
INFERCOST_RESOURCES = (COST_PROFILES, USAGE_REPORTS, TOKEN_BUDGETS)

PODS = Resource("", "v1", "pods", "Pod")
NODES = Resource("", "v1", "nodes", "Node", namespaced=False)
NAMESPACES = Resource("", "v1", "namespaces", "Namespace", namespaced=False)
EVENTS = Resource("", "v1", "events", "Event")
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced=False)
PROMETHEUS_RULES = Resource("monitoring.coreos.com", "v1", "prometheusrules", "PrometheusRule")


def pod_proxy_path(namespace: str, name: str, port: int, path: str) -> str:
    return f"/api/v1/namespaces/{namespace}/pods/{name}:{port}/proxy{path if path.startswith('/') else '/' + path}"
