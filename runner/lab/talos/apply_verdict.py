"""What machined says about applying a config: whether it can apply without a reboot, and the config diff.

Follows siderolabs/talos (the same at v1.11.2, v1.12.11 and v1.13.9):
- `internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_runtime.go` `CanApplyImmediate`: the v1alpha1
  document with the immediately-applicable fields copied over from the running config must equal the running
  one; other documents never force a reboot.
- `pkg/machinery/config/configdiff/configdiff.go` `DiffConfigs` + `pkg/machinery/textdiff`: a unified diff
  (`--- a` / `+++ b`, three lines of context) of both configs encoded without comments; "" when equal.
"""

from __future__ import annotations

import copy
import difflib
import io
from typing import Any

from ruamel.yaml import YAML

# The comment list in CanApplyImmediate: the top-level keys and the machine.* / machine.features.* keys
# whose changes apply at once (`.machine.time` and `.machine.network` included, as upstream still lists them).
IMMEDIATE_TOP = ("debug", "cluster")
IMMEDIATE_MACHINE = (
    "ca",
    "acceptedCAs",
    "time",
    "certSANs",
    "install",
    "network",
    "sysfs",
    "sysctls",
    "logging",
    "controlplane",
    "kubelet",
    "kernel",
    "registries",
    "pods",
    "seccompProfiles",
    "nodeAnnotations",
    "nodeLabels",
    "nodeTaints",
)
IMMEDIATE_FEATURES = ("kubernetesTalosAPIAccess", "kubePrism", "hostDNS", "imageCache", "nodeAddressSortAlgorithm")


def _v1alpha1(documents: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((d for d in documents if d.get("version") == "v1alpha1" and "kind" not in d), None)


def _copy_keys(target: dict[str, Any], source: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in source:
            target[key] = copy.deepcopy(source[key])
        else:
            target.pop(key, None)


def immediate_problem(current: list[dict[str, Any]], new: list[dict[str, Any]]) -> str | None:
    """None when `new` applies without a reboot, else machined's error text (with the v1alpha1 diff)."""
    old_doc, new_doc = _v1alpha1(current), _v1alpha1(new)
    if old_doc is None:
        return "current config is not v1alpha1"
    if new_doc is None:
        return "new config is not v1alpha1"
    masked = copy.deepcopy(new_doc)
    _copy_keys(masked, old_doc, IMMEDIATE_TOP)
    old_machine, new_machine = old_doc.get("machine"), masked.get("machine")
    if isinstance(old_machine, dict) and isinstance(new_machine, dict):
        _copy_keys(new_machine, old_machine, IMMEDIATE_MACHINE)
        old_features, new_features = old_machine.get("features"), new_machine.get("features")
        if isinstance(old_features, dict) and isinstance(new_features, dict):
            _copy_keys(new_features, old_features, IMMEDIATE_FEATURES)
    if masked == old_doc:
        return None
    return "this config change can't be applied in immediate mode\ndiff:\n" + config_diff([old_doc], [masked])


def encode(documents: list[dict[str, Any]]) -> str:
    """The documents as Talos encodes them for a diff: no comments, Go yaml.v3's four-space indent."""
    yaml = YAML()
    yaml.indent(mapping=4, sequence=4, offset=2)
    yaml.width = 1 << 30
    yaml.representer.add_representer(type(None), _null)
    out = io.StringIO()
    yaml.dump_all([_plain(d) for d in documents], out)
    return out.getvalue().removeprefix("---\n") if len(documents) == 1 else out.getvalue()


def _null(representer: Any, _: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")  # Go writes `null`, not ""


def _plain(value: Any) -> Any:
    """Drop ruamel's comment-carrying containers so no comment of the applied file reaches the diff."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def config_diff(current: list[dict[str, Any]], new: list[dict[str, Any]]) -> str:
    """textdiff.Diff of the encoded configs: `--- a`/`+++ b` hunks with three lines of context, "" if equal."""
    old_text, new_text = encode(current), encode(new)
    if old_text == new_text:
        return ""
    lines = difflib.unified_diff(old_text.splitlines(keepends=True), new_text.splitlines(keepends=True), "a", "b", n=3)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
