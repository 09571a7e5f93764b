"""Which namespace and pod labels go into a row's Tags (docs/export-focus.md, *Tags from labels*).

PURE. A row of tokens or GPU time is charged to one (namespace, model) of one report. The pods that
served it are those of the report's ``status.checkpoint.pods`` with a series of that model, as the
last reconcile pass recorded them; of these, the ones that still exist (by UID) lend their labels.

Each such pod has, for a key, its own label or else its namespace's. A key goes into Tags when every
pod of the row has it with the same value; pods that disagree, or one without it, leave the key out.
So a pod label wins over the namespace label of the same key. With no live pod (all gone, the pod
list not read, idle rows, the unknown-model row) the row has its namespace's labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ...models import UsageReport

#: Labels by pod UID: the Pods that exist now.
PodLabels = Mapping[str, Mapping[str, str]]
#: Per (namespace, model): the labels of each live pod that served it.
RowPods = dict[tuple[str, str], list[Mapping[str, str]]]


def pods_of_rows(report: UsageReport, pod_labels: PodLabels) -> RowPods:
    """Per (namespace, model) of the report's checkpoint, the labels of its pods that still exist."""
    checkpoint = report.status.checkpoint
    if checkpoint is None or not pod_labels:
        return {}
    members: dict[tuple[str, str], dict[str, Mapping[str, str]]] = {}
    for pod in checkpoint.pods:
        labels = pod_labels.get(pod.uid)
        if labels is None:
            continue  # gone since the last pass
        for series in pod.series:
            members.setdefault((pod.namespace, series.model), {})[pod.uid] = labels
    return {key: list(by_uid.values()) for key, by_uid in members.items()}


def label_tags(
    keys: Sequence[str], namespace_labels: Mapping[str, str], pods: Sequence[Mapping[str, str]] | None
) -> dict[str, str | bool]:
    """The allowlisted labels of one row, ``""`` as ``true``: see the module's rules."""
    tags: dict[str, str | bool] = {}
    for key in keys:
        if pods:
            default = namespace_labels.get(key)
            value = pods[0].get(key, default)
            if value is None or any(p.get(key, default) != value for p in pods[1:]):
                continue
        else:
            value = namespace_labels.get(key)
            if value is None:
                continue
        tags[key] = value if value != "" else True
    return tags
