"""`metav1.Status` failures, worded like the real API server's."""

from __future__ import annotations

from typing import Any

from .catalog import ResourceType


class ApiStatusError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if not self.reason:  # StatusReasonUnknown is "" and omitted
            del out["reason"]
        if self.details is not None:
            out["details"] = self.details
        return out


def _details(rt: ResourceType, name: str, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": rt.plural}
    if rt.group:
        details["group"] = rt.group
    details.update(extra)
    return details


def not_found(rt: ResourceType, name: str) -> ApiStatusError:
    return ApiStatusError(404, "NotFound", f'{rt.group_resource} "{name}" not found', _details(rt, name))


def namespace_not_found(name: str) -> ApiStatusError:
    return ApiStatusError(404, "NotFound", f'namespaces "{name}" not found', {"name": name, "kind": "namespaces"})


def already_exists(rt: ResourceType, name: str) -> ApiStatusError:
    return ApiStatusError(409, "AlreadyExists", f'{rt.group_resource} "{name}" already exists', _details(rt, name))


def stale_version(rt: ResourceType, name: str) -> ApiStatusError:
    return ApiStatusError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {rt.group_resource} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        _details(rt, name),
    )


def apply_conflict(rt: ResourceType, name: str, conflicts: list[tuple[str, str, str]]) -> ApiStatusError:
    """conflicts: (manager, apiVersion, field path like `.spec.replicas`)."""
    causes = [
        {"reason": "FieldManagerConflict", "message": f'conflict with "{m}" using {v}', "field": f}
        for m, v, f in conflicts
    ]
    if len(conflicts) == 1:
        m, v, f = conflicts[0]
        message = f'Apply failed with 1 conflict: conflict with "{m}" using {v}: {f}'
    else:
        lines = "\n".join(f'- conflict with "{m}" using {v}: {f}' for m, v, f in conflicts)
        message = f"Apply failed with {len(conflicts)} conflicts: {lines}"
    return ApiStatusError(409, "Conflict", message, _details(rt, name, causes=causes))


_CAUSES = {  # field.ErrorType by the ErrorBody's first words (k8s.io/apimachinery pkg/util/validation/field)
    "Required value": "FieldValueRequired",
    "Forbidden": "FieldValueForbidden",
    "Too long": "FieldValueTooLong",
    "Unsupported value": "FieldValueNotSupported",
    "Duplicate value": "FieldValueDuplicate",
}


def invalid_kind(group: str, kind: str, name: str, causes: list[tuple[str, str]]) -> ApiStatusError:
    """apierrors.NewInvalid: causes are (field, ErrorBody) pairs, e.g. ("spec.selector", "Required value")."""
    text = ", ".join(f"{f}: {m}" for f, m in causes)
    qualified = f"{kind}.{group}" if group else kind
    return ApiStatusError(
        422,
        "Invalid",
        f'{qualified} "{name}" is invalid: ' + (text if len(causes) == 1 else f"[{text}]"),
        {
            "name": name,
            **({"group": group} if group else {}),
            "kind": kind,
            "causes": [
                {"reason": next((r for p, r in _CAUSES.items() if m.startswith(p)), "FieldValueInvalid"), "message": m}
                | ({"field": f} if f else {})
                for f, m in causes
            ],
        },
    )


def invalid(rt: ResourceType, name: str, causes: list[tuple[str, str]]) -> ApiStatusError:
    return invalid_kind(rt.group, rt.kind, name, causes)


def cannot_decode(kind: str, version: str, message: str) -> ApiStatusError:
    """A body the kind's decoder refuses (handlers/rest.go transformDecodeError)."""
    return bad_request(f'{kind} in version "{version}" cannot be handled as a {kind}: {message}')


def typed_patch(namespace: str, name: str, api_version: str, kind: str, message: str) -> ApiStatusError:
    """Server-side apply's typed conversion failing: a plain error, so the API server answers 500 with no reason
    (managedfields/internal/structuredmerge.go; kubernetes/kubernetes#122480)."""
    group, _, version = api_version.rpartition("/")
    where = f"{namespace}/{name}; {group}/{version}, Kind={kind}"
    return ApiStatusError(500, "", f"failed to create typed patch object ({where}): {message}")


def bad_request(message: str) -> ApiStatusError:
    return ApiStatusError(400, "BadRequest", message)


def unauthorized() -> ApiStatusError:
    return ApiStatusError(401, "Unauthorized", "Unauthorized")


def unsupported_media_type(accepted: list[str]) -> ApiStatusError:
    """negotiation.NewUnsupportedMediaTypeError (kubernetes/apiserver handlers/negotiation/errors.go @v0.32.1)."""
    return ApiStatusError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: " + ", ".join(accepted),
    )


def method_not_allowed(
    message: str = "the server does not allow this method on the requested resource",
) -> ApiStatusError:
    return ApiStatusError(405, "MethodNotAllowed", message)
