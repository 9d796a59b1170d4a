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


def invalid(rt: ResourceType, name: str, causes: list[tuple[str, str]]) -> ApiStatusError:
    """causes: (field, message) pairs, e.g. ("spec.chart.spec.chart", "Required value")."""
    text = ", ".join(f"{f}: {m}" for f, m in causes)
    kind_group = f"{rt.kind}.{rt.group}" if rt.group else rt.kind
    return ApiStatusError(
        422,
        "Invalid",
        f'{kind_group} "{name}" is invalid: {text}'
        if len(causes) == 1
        else f'{kind_group} "{name}" is invalid: [{text}]',
        _details(
            rt,
            name,
            kind=rt.kind,
            causes=[{"reason": "FieldValueInvalid", "message": m, "field": f} for f, m in causes],
        ),
    )


def bad_request(message: str) -> ApiStatusError:
    return ApiStatusError(400, "BadRequest", message)


def unauthorized() -> ApiStatusError:
    return ApiStatusError(401, "Unauthorized", "Unauthorized")


_ACCEPTED = (
    "application/json, application/yaml, application/apply-patch+yaml, application/merge-patch+json, "
    "application/strategic-merge-patch+json"
)


def unsupported_media_type(content_type: str) -> ApiStatusError:
    return ApiStatusError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        f"{_ACCEPTED}; got {content_type}",
    )


def method_not_allowed(
    message: str = "the server does not allow this method on the requested resource",
) -> ApiStatusError:
    return ApiStatusError(405, "MethodNotAllowed", message)
