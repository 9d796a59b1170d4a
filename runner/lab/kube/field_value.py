"""How field.Invalid shows a value that is not a string or number, per Kubernetes release.

kubernetes/apimachinery `pkg/util/validation/field/errors.go` `ErrorBody`: up to v0.33 a pointer is dereferenced
and the value printed with Go's %#v (`[]string{"v1"}`, `map[string]string{"app":"web"}`,
`map[string]string(nil)`); from v0.34 such a value is printed as JSON (`["v1"]`, `{"app":"web"}`, `null`).
"""

from __future__ import annotations

import json

from . import release

# Go's %#v of an empty metav1.LabelSelector (its String() has a pointer receiver, so %#v is used)
_EMPTY_SELECTOR_GO = (
    "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
)


def _json(minor: int) -> bool:
    return minor >= release.FIELD_VALUES_AS_JSON


def strings(values: list[str] | None, minor: int) -> str:
    """A []string (None: nil)."""
    if _json(minor):
        return json.dumps(values, separators=(",", ":"))
    if values is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join(json.dumps(v) for v in values) + "}"


def string_map(values: dict[str, str] | None, minor: int) -> str:
    """A map[string]string (None: nil); both Go's fmt and encoding/json sort the keys."""
    if _json(minor):
        return json.dumps(None if values is None else dict(sorted(values.items())), separators=(",", ":"))
    if values is None:
        return "map[string]string(nil)"
    return "map[string]string{" + ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(values.items())) + "}"


def empty_selector(minor: int) -> str:
    """A *metav1.LabelSelector selecting nothing: JSON omits its empty fields."""
    return "{}" if _json(minor) else _EMPTY_SELECTOR_GO
