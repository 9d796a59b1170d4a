"""kustomize-controller's post-build variable substitution (Flux v2.3 / kustomize-controller v1.3.0).

Rules, from docs/spec/v1/kustomizations.md ("Post build variable substitution") and fluxcd/pkg
kustomize/kustomize_varsub.go + envsubst at the versions kustomize-controller v1.3.0 pins:
- variables come from `postBuild.substituteFrom` (ConfigMap data / Secret data, in the Kustomization's
  namespace; a missing object fails the build unless `optional: true`), then `postBuild.substitute`
  (which wins); newlines in values are dropped;
- substitution runs only when at least one variable is defined, per resource, on its YAML text (the twin
  walks the string values and reads a plain scalar back with YAML typing, which is what re-parsing the
  text does), after SOPS decryption; a resource labelled or annotated `kustomize.toolkit.fluxcd.io/substitute: disabled`
  is left alone;
- only the `${var}` form is expanded (`$var` is not, `$${var}` prints `${var}`); `${var:=default}`,
  `${var:-default}`, `${var=default}`, `${var-default}` give defaults;
- an undefined variable becomes "" unless the controller runs with
  `--feature-gates=StrictPostBuildSubstitutions=true`, where it fails:
  `variable not set (strict mode): "name"`.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from typing import Any

from ruamel.yaml import YAML

from . import flux_pods
from .catalog import Catalog
from .kustomize import BuildError
from .store import Store

DISABLED_KEY = "kustomize.toolkit.fluxcd.io/substitute"
NAME_RE = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")
EXPR_RE = re.compile(r"\$(\$?)\{([^}]*)\}")
DEFAULT_RE = re.compile(r"^([_a-zA-Z][_a-zA-Z0-9]*)(:?[-=])(.*)$", re.S)
INDICATORS = tuple("-?:,[]{}#&*!|>'\"%@`")


class VariablesError(BuildError):
    pass


def load_vars(
    substitute_from: list[dict[str, Any]],
    inline: dict[str, Any],
    lookup: Callable[[str, str], dict[str, str] | None],
) -> dict[str, str]:
    """The variables of a Kustomization; `lookup(kind, name)` returns an object's data or None when absent."""
    found: dict[str, str] = {}
    for ref in substitute_from:
        kind, name = ref.get("kind", ""), ref.get("name", "")
        data = lookup(kind, name)
        if data is None:
            if ref.get("optional"):
                continue
            plural = {"ConfigMap": "configmaps", "Secret": "secrets"}.get(kind, kind.lower())
            raise VariablesError(f"substitute from '{kind}/{name}' error: {plural} \"{name}\" not found")
        found |= {k: str(v).replace("\n", "") for k, v in data.items()}
    found |= {k: str(v).replace("\n", "") for k, v in inline.items()}
    return found


def _expand(text: str, variables: dict[str, str], strict: bool) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(1):  # $${var}: an escaped literal
            return "${" + match.group(2) + "}"
        body = match.group(2)
        if NAME_RE.match(body):
            if body not in variables and strict:
                raise VariablesError(f'variable substitution failed: variable not set (strict mode): "{body}"')
            return variables.get(body, "")
        default = DEFAULT_RE.match(body)
        if default is None:
            raise VariablesError(f"variable substitution failed: the lab does not implement '${{{body}}}'")
        name, op, fallback = default.groups()
        value = variables.get(name)
        if value is None or (op.startswith(":") and value == ""):
            return _expand(fallback, variables, strict)
        return value

    return EXPR_RE.sub(one, text)


def _plain(text: str) -> bool:
    """Whether a YAML emitter (go-yaml, which kustomize uses) writes this string as a plain scalar: then the
    substituted text is read back with YAML's typing ("1" -> 1), as the controller re-parses the whole text."""
    return "\n" not in text and not text.startswith(INDICATORS) and ": " not in text and " #" not in text


def _retyped(text: str) -> Any:
    loaded = YAML(typ="safe", pure=True).load(io.StringIO(text)) if text else None
    return loaded if isinstance(loaded, (str, int, float, bool)) or loaded is None else text


def _walk(value: Any, variables: dict[str, str], strict: bool) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, variables, strict) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, variables, strict) for v in value]
    if isinstance(value, str) and "${" in value:
        expanded = _expand(value, variables, strict)
        return _retyped(expanded) if _plain(value) else expanded
    return value


def substitute(obj: dict[str, Any], variables: dict[str, str], strict: bool) -> dict[str, Any]:
    """One resource after substitution (unchanged when nothing is defined or it opts out)."""
    meta = obj.get("metadata") or {}
    marks = [(meta.get("labels") or {}).get(DISABLED_KEY), (meta.get("annotations") or {}).get(DISABLED_KEY)]
    if "disabled" in marks or not variables:
        return obj
    for name in variables:
        if not NAME_RE.match(name):
            raise VariablesError(
                f"envsubst error: '{name}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'"
            )
    try:
        result = _walk(obj, variables, strict)
    except VariablesError as e:
        raise VariablesError(f"post build failed for '{meta.get('name', '')}': envsubst error: {e}") from None
    assert isinstance(result, dict)
    return result


def variables(store: Store, catalog: Catalog, ks: dict[str, Any]) -> dict[str, str]:
    """The variables of a Kustomization, read from the twin's store (Secret values base64-decoded)."""
    namespace = ks["metadata"]["namespace"]
    post = ks.get("spec", {}).get("postBuild") or {}

    def lookup(kind: str, name: str) -> dict[str, str] | None:
        rt = catalog.by_kind("v1", kind) if kind in ("ConfigMap", "Secret") else None
        found = store.find(rt, namespace, name) if rt is not None else None
        if found is None:
            return None
        data = found.get("data") or {}
        if kind == "Secret":
            return {k: base64.b64decode(v).decode() for k, v in data.items()}
        return {k: str(v) for k, v in data.items()}

    return load_vars(post.get("substituteFrom") or [], post.get("substitute") or {}, lookup)


def strict(store: Store, catalog: Catalog) -> bool:
    """Whether kustomize-controller runs with --feature-gates=StrictPostBuildSubstitutions=true."""
    found = flux_pods.locate(store, catalog, "kustomize-controller")
    args = [str(a) for a in (found.container.get("args") or [])] if found else []
    return any(a.startswith("--feature-gates=") and "StrictPostBuildSubstitutions=true" in a for a in args)
