"""Ask the API server what this identity may do (SelfSubjectAccessReview), before a pass writes anything.

A pass writes several objects one after the other; a permission missing for the last of them would
leave the first ones written. The pass asks first and refuses as a whole, naming what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import ApiError, ForbiddenError
from .client import KubeClient
from .resources import Resource

REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


def allowed(client: KubeClient, verb: str, resource: Resource, namespace: str, subresource: str = "") -> bool | None:
    """Whether ``verb`` on ``resource`` (in ``namespace``; "" means every namespace) is allowed.

    None when the API server cannot say (the review itself refused or unavailable): the caller goes
    on, and the request itself will be refused if it must be.
    """
    attributes = {"group": resource.group, "resource": resource.plural, "verb": verb, "namespace": namespace}
    if subresource:
        attributes["subresource"] = subresource
    body = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes},
    }
    try:
        review = client.request("POST", REVIEWS, body=body, what="SelfSubjectAccessReview")
    except ApiError:
        return None
    return bool((review.get("status") or {}).get("allowed"))


def require(
    client: KubeClient, verb: str, resource: Resource, namespaces: Iterable[str], subresource: str = ""
) -> None:
    """Raise ForbiddenError naming the first namespace where ``verb`` is not allowed (cluster-wide first)."""
    wanted = sorted(set(namespaces))
    if not wanted or allowed(client, verb, resource, "", subresource) is not False:
        return
    what = resource.plural + (f"/{subresource}" if subresource else "")
    for namespace in wanted:
        if allowed(client, verb, resource, namespace, subresource) is False:
            raise ForbiddenError(
                f'forbidden: this identity cannot {verb} resource "{what}" in API group "{resource.group}" '
                f'in the namespace "{namespace}": nothing was written (see deploy/rbac/)',
                status=403,
            )
