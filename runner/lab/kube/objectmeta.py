"""The API server's syntax rules for names, labels and annotations, in its wording.

kubernetes/apimachinery @v0.32.1 and v0.36.3 (= kubernetes/kubernetes staging): `pkg/util/validation/validation.go`
(IsDNS1123Subdomain, IsDNS1123Label, IsDNS1035Label, IsQualifiedName, IsValidLabelValue; from v0.35 the last two
are `pkg/api/validate/content` IsLabelKey and IsLabelValue, which count bytes),
`pkg/api/validation/objectmeta.go` (ValidateObjectMetaAccessor, ValidateAnnotations), `generic.go`,
`path/name.go`. Which rule names which kind is each type's validation in kubernetes/kubernetes
(`pkg/apis/core/validation/validation.go`: namespaces are DNS-1123 labels, services DNS-1035 labels;
`pkg/apis/rbac/validation/validation.go` ValidateRBACName: a path segment; everything else, custom resources
included, a DNS-1123 subdomain).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from . import release

_QNAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QNAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
)
_LABEL_VALUE = f"({_QNAME})?"
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character"
)
_DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end "
    "with an alphanumeric character"
)
_DNS1123_SUBDOMAIN = _DNS1123_LABEL + "(\\." + _DNS1123_LABEL + ")*"
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
    "and end with an alphanumeric character"
)
_DNS1035_LABEL = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character"
)
ANNOTATIONS_MAX_BYTES = 256 * 1024


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    shown = " or ".join(f"'{e}'" for e in examples)
    return f"{msg} (e.g. {shown}, regex used for validation is '{fmt}')"


def _full(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None


def _too_long(limit: int, unit: str) -> str:
    return f"must be no more than {limit} {unit}"


def dns1123_subdomain(value: str, unit: str = "characters") -> list[str]:
    """IsDNS1123Subdomain; the `content` package's copy (label key prefixes from 1.35) counts `bytes`."""
    errs = [_too_long(253, unit)] if len(value) > 253 else []
    if not _full(_DNS1123_SUBDOMAIN, value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN, "example.com"))
    return errs


def dns1123_label(value: str) -> list[str]:
    errs = ["must be no more than 63 characters"] if len(value) > 63 else []
    if not _full(_DNS1123_LABEL, value):
        if _full(_DNS1123_SUBDOMAIN, value):
            errs.append("must not contain dots")
        else:
            errs.append(_regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL, "my-name", "123-abc"))
    return errs


def dns1035_label(value: str) -> list[str]:
    errs = ["must be no more than 63 characters"] if len(value) > 63 else []
    if not _full(_DNS1035_LABEL, value):
        errs.append(_regex_error(_DNS1035_LABEL_MSG, _DNS1035_LABEL, "my-name", "abc-123"))
    return errs


def path_segment(value: str) -> list[str]:
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


def _content_unit(minor: int) -> str:
    """From 1.35 label keys and values are checked by apimachinery's `pkg/api/validate/content`, whose
    MaxLenError counts bytes (`util/validation` still says characters, for object names)."""
    return "bytes" if minor >= release.LABEL_CONTENT_PACKAGE else "characters"


def qualified_name(value: str, minor: int) -> list[str]:
    """IsQualifiedName, from 1.35 `content.IsLabelKey`, as Kubernetes 1.`minor` words it."""
    parts = value.split("/")
    errs: list[str] = []
    unit = _content_unit(minor)
    if len(parts) > 2:
        return [
            ("a valid label key " if minor >= release.LABEL_CONTENT_PACKAGE else "a qualified name ")
            + _regex_error(_QNAME_MSG, _QNAME, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in dns1123_subdomain(prefix, unit))
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + _too_long(63, unit))
    if not _full(_QNAME, name):
        errs.append("name part " + _regex_error(_QNAME_MSG, _QNAME, "MyName", "my.name", "123-abc"))
    return errs


def label_value(value: str, minor: int) -> list[str]:
    """IsValidLabelValue, from 1.35 `content.IsLabelValue`, as Kubernetes 1.`minor` words it."""
    errs = [_too_long(63, _content_unit(minor))] if len(value) > 63 else []
    if not _full(_LABEL_VALUE, value):
        errs.append(_regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE, "MyValue", "my_value", "12345"))
    return errs


def name_rule(group: str, kind: str) -> Callable[[str], list[str]]:
    if (group, kind) == ("", "Namespace"):
        return dns1123_label
    if (group, kind) == ("", "Service"):
        return dns1035_label
    if group == "rbac.authorization.k8s.io":
        return path_segment
    return dns1123_subdomain


def invalid(value: Any, detail: str) -> str:
    """field.Invalid's ErrorBody: `Invalid value: "x": detail` (Go's %q for strings)."""
    shown = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)
    return f"Invalid value: {shown}: {detail}"


def problems(group: str, kind: str, meta: dict[str, Any], minor: int) -> list[tuple[str, str]]:
    """(field, ErrorBody) for every metadata rule `meta` breaks, as ValidateObjectMetaAccessor of Kubernetes
    1.`minor` reports them."""
    out: list[tuple[str, str]] = []
    name = meta.get("name")
    if isinstance(name, str) and name:
        out += [("metadata.name", invalid(name, m)) for m in name_rule(group, kind)(name)]
    for key, value in (meta.get("labels") or {}).items():
        out += [("metadata.labels", invalid(key, m)) for m in qualified_name(key, minor)]
        out += [("metadata.labels", invalid(value, m)) for m in label_value(str(value), minor)]
    annotations = meta.get("annotations") or {}
    for key in annotations:
        out += [("metadata.annotations", invalid(key, m)) for m in qualified_name(key.lower(), minor)]
    if sum(len(k.encode()) + len(str(v).encode()) for k, v in annotations.items()) > ANNOTATIONS_MAX_BYTES:
        out.append(("metadata.annotations", f"Too long: may not be more than {ANNOTATIONS_MAX_BYTES} bytes"))
    return out
