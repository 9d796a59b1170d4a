"""What the API server makes of a written body before it stores it, as its registry does (`rest.BeforeCreate`,
`rest.BeforeUpdate` and each type's strategy): the body must match the URL, `stringData` folds into `data`,
fields the schema does not know are pruned and the rest validated, the server owns uid, creationTimestamp and
generation, and Namespaces and CRDs get the status their controllers would give them at once.
"""

from __future__ import annotations

import base64
import copy
import uuid
from typing import Any

from . import crd_versions, errors, release
from .catalog import ResourceType
from .codec import Codec


def check_identity(rt: ResourceType, namespace: str | None, body: dict[str, Any], name: str | None) -> str:
    """The object's name; the body may not name another object, kind or namespace than the URL does."""
    meta = body.get("metadata") or {}
    body_name = meta.get("name")
    if name is not None and body_name and body_name != name:
        raise errors.bad_request("the name of the object does not match the name on the URL")
    if not (body_name or name):
        raise errors.invalid(rt, "", [("metadata.name", "Required value: name or generateName is required")])
    if body.get("kind") and body["kind"] != rt.kind:
        raise errors.bad_request(f"the kind of the object ({body['kind']}) does not match the URL ({rt.kind})")
    body_ns = meta.get("namespace")
    if rt.namespaced and body_ns and namespace and body_ns != namespace:
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    return str(body_name or name)


def merge_subresource(rt: ResourceType, current: dict[str, Any], body: dict[str, Any], status: bool) -> dict[str, Any]:
    # The main resource ignores status and the status subresource ignores everything else.
    if status:
        return {**current, "status": body.get("status", {})}
    out = {k: v for k, v in body.items() if k != "status"}
    if rt.has_status and "status" in current:
        out["status"] = current["status"]
    return out


def normalize(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of `obj` as it is stored: a Secret's `stringData` is write-only, folded into `data`."""
    obj = copy.deepcopy(obj)
    if rt.kind == "Secret" and "stringData" in obj:
        data = obj.setdefault("data", {})
        for k, v in obj.pop("stringData").items():
            data[k] = base64.b64encode(str(v).encode()).decode()
    return obj


def admit(
    rt: ResourceType,
    namespace: str | None,
    obj: dict[str, Any],
    old: dict[str, Any] | None,
    at: str,
    codec: Codec,
    status_write: bool = False,
) -> dict[str, Any]:
    """A normalized `obj` pruned, validated and given the server's fields; `old` is the stored object it
    replaces (None: a create), `at` the time of the write, `status_write` whether it came through /status."""
    obj = codec.admit(rt, obj)
    meta = obj.setdefault("metadata", {})
    meta.pop("managedFields", None)
    if rt.namespaced:
        meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
    obj["kind"] = rt.kind
    if old is None:
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = at
        meta["generation"] = 1
    else:
        for k in ("uid", "creationTimestamp", "generation"):
            meta[k] = old["metadata"][k]
        if _spec_of(obj) != _spec_of(old):
            meta["generation"] = old["metadata"]["generation"] + 1
    if rt.kind == "Namespace":
        obj.setdefault("status", {"phase": "Active"})
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
    if rt.kind == "CustomResourceDefinition":
        obj["status"] = crd_versions.stored_versions(obj, old, status_write, _crd_status(obj, at))
        causes = crd_versions.problems(obj, release.minor_number(codec.minor))
        if causes:
            raise errors.invalid(rt, meta.get("name", ""), causes)
    return obj


def _spec_of(obj: dict[str, Any]) -> Any:
    # What bumps `generation` when it changes: everything but metadata and status.
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _crd_status(crd: dict[str, Any], at: str) -> dict[str, Any]:
    names = crd.get("spec", {}).get("names", {})
    return {
        "acceptedNames": names,
        "storedVersions": [v["name"] for v in crd.get("spec", {}).get("versions", []) if v.get("storage")],
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "reason": "NoConflicts",
                "message": "no conflicts found",
                "lastTransitionTime": at,
            },
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
                "lastTransitionTime": at,
            },
        ],
    }
