"""A Talos secrets bundle from what an operator already has, whichever tool made the cluster.

Three layouts hold the same values (the certificates and keys are base64 of the PEM text in all three):

- talosctl's `secrets.yaml` (`talosctl gen secrets`), read by `bundle_io`;
- Terraform's `talos_machine_secrets` (siderolabs/terraform-provider-talos, `machine_secrets` attribute:
  snake_case names, `cert` for `crt`), as the bare object, as the whole resource's attributes, inside
  `terraform output -json` (`{"<output>": {"sensitive": true, "type": ..., "value": ...}}`), or found in a
  state file / `terraform show -json` (`terraform_state`);
- a controlplane machine config, read the way Talos's `secrets.NewBundleFromConfig` does
  (`talosctl gen secrets --from-controlplane-config`).

Each layout is a renaming of the talosctl one, so every problem is reported by `bundle_io`'s checks under
the field's own name in the file, with its line. Messages never carry a value: YAML/JSON parse errors are
reduced to their problem and position, because parsers quote the offending text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from runner.core.errors import SecretsError
from runner.core.talos.bundle_io import bundle_from_dict
from runner.core.talos.secrets_bundle import SecretsBundle
from runner.core.talos.terraform_state import is_terraform_state, machine_secrets_resources

_PAIRS = ("etcd", "k8s", "k8saggregator", "os")
# talosctl path -> the same value's path in the other layouts. Certificate pairs map as a whole; their
# `crt`/`key` leaves follow (Terraform names `crt` `cert`).
_TERRAFORM = {
    "cluster.id": "cluster.id",
    "cluster.secret": "cluster.secret",
    "secrets.bootstraptoken": "secrets.bootstrap_token",
    "secrets.secretboxencryptionsecret": "secrets.secretbox_encryption_secret",
    "secrets.aescbcencryptionsecret": "secrets.aescbc_encryption_secret",
    "trustdinfo.token": "trustdinfo.token",
    "certs.etcd": "certs.etcd",
    "certs.k8s": "certs.k8s",
    "certs.k8saggregator": "certs.k8s_aggregator",
    "certs.k8sserviceaccount": "certs.k8s_serviceaccount",
    "certs.os": "certs.os",
}
# Talos v1.13.9 pkg/machinery/config/generate/secrets/bundle.go NewBundleFromConfig: the bootstrap token is
# cluster.token (`<id>.<secret>`), trustd's token machine.token, the OS CA machine.ca.
_MACHINE_CONFIG = {
    "cluster.id": "cluster.id",
    "cluster.secret": "cluster.secret",
    "secrets.bootstraptoken": "cluster.token",
    "secrets.secretboxencryptionsecret": "cluster.secretboxEncryptionSecret",
    "secrets.aescbcencryptionsecret": "cluster.aescbcEncryptionSecret",
    "trustdinfo.token": "machine.token",
    "certs.etcd": "cluster.etcd.ca",
    "certs.k8s": "cluster.ca",
    "certs.k8saggregator": "cluster.aggregatorCA",
    "certs.k8sserviceaccount": "cluster.serviceAccount",
    "certs.os": "machine.ca",
}
_TALOSCTL = {path: path for path in _TERRAFORM}
_TERRAFORM_MARKERS = ("bootstrap_token", "secretbox_encryption_secret", "k8s_aggregator", "k8s_serviceaccount")
_LAYOUTS = (
    "a talosctl secrets.yaml, a Terraform talos_machine_secrets (its machine_secrets, `terraform output -json`, "
    "a state file or `terraform show -json`), or a controlplane machine config"
)


def bundle_from_source(text: str, source: str) -> SecretsBundle:
    """The bundle in `text`, whichever of the three layouts it is in; SecretsError naming `source`."""
    documents = _load(text, source)
    configs = [d for d in documents if isinstance(d, Mapping) and d.get("version") == "v1alpha1"]
    if configs:
        return _from_machine_config(configs[0], source)
    if len(documents) != 1 or not isinstance(documents[0], Mapping):
        raise SecretsError(f"{source}: expected one mapping: {_LAYOUTS}")
    return _from_mapping(documents[0], source)


def _load(text: str, source: str) -> list[Any]:
    try:
        return [d for d in YAML(typ="rt", pure=True).load_all(text) if d is not None]
    except DuplicateKeyError as exc:  # its message quotes both values
        raise SecretsError(f"{source}: {_position(exc)}duplicate key") from None
    except MarkedYAMLError as exc:  # the snippet it would print may be a secret: problem and position only
        raise SecretsError(f"{source}: {_position(exc)}not valid YAML or JSON: {exc.problem}") from None
    except YAMLError:
        raise SecretsError(f"{source}: not valid YAML or JSON") from None


def _position(exc: MarkedYAMLError) -> str:
    mark = exc.problem_mark
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""


def _from_state(data: Mapping[str, Any], source: str) -> SecretsBundle:
    found = machine_secrets_resources(data)
    if len(found) != 1:
        what = f"several ({', '.join(f.address for f in found)})" if found else "no"
        raise SecretsError(
            f"{source}: the Terraform state holds {what} talos_machine_secrets resource; give one resource's "
            "machine_secrets (e.g. `terraform output -json` of an output naming it)"
        )
    resource = found[0]
    inner = resource.attributes.get("machine_secrets")
    if not isinstance(inner, Mapping):
        where = _line(data, [*resource.path, "machine_secrets"])
        raise SecretsError(f"{source}: {resource.address}: machine_secrets{where} is missing or not an object")
    return _renamed(inner, _TERRAFORM, source, data, ".".join(resource.path) + ".machine_secrets.")


def _from_mapping(data: Mapping[str, Any], source: str) -> SecretsBundle:
    if is_terraform_state(data):
        return _from_state(data, source)
    outputs = _terraform_outputs(data)
    if outputs is not None:
        holders = [name for name, out in outputs.items() if _machine_secrets(out["value"]) is not None]
        if len(holders) != 1:
            what = "no output holds" if not holders else f"outputs {', '.join(holders)} each hold"
            raise SecretsError(f"{source}: terraform output: {what} a talos_machine_secrets; name one output")
        inner = _machine_secrets(outputs[holders[0]]["value"])
        assert inner is not None
        prefix = f"{holders[0]}.value." + (
            "machine_secrets." if "machine_secrets" in outputs[holders[0]]["value"] else ""
        )
        return _renamed(inner, _TERRAFORM, source, data, prefix)
    inner = _machine_secrets(data)
    if inner is not None:
        prefix = "machine_secrets." if "machine_secrets" in data else ""
        return _renamed(inner, _TERRAFORM, source, data, prefix)
    if "certs" in data or "cluster" in data:
        return _renamed(data, _TALOSCTL, source, data, "")
    raise SecretsError(f"{source}: not {_LAYOUTS}")


def _terraform_outputs(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """`terraform output -json`: every top-level value an object with `value` and `type`/`sensitive`."""
    if data and all(
        isinstance(v, Mapping) and "value" in v and ("type" in v or "sensitive" in v) for v in data.values()
    ):
        return data
    return None


def _machine_secrets(value: Any) -> Mapping[str, Any] | None:
    """The `machine_secrets` object in the bare object or the resource's attributes, else None."""
    if isinstance(value, Mapping) and isinstance(value.get("machine_secrets"), Mapping):
        value = value["machine_secrets"]
    if not isinstance(value, Mapping):
        return None
    names = {k for section in ("secrets", "certs") if isinstance(value.get(section), Mapping) for k in value[section]}
    return value if names & set(_TERRAFORM_MARKERS) else None


def _from_machine_config(config: Mapping[str, Any], source: str) -> SecretsBundle:
    machine = config.get("machine")
    kind = machine.get("type") if isinstance(machine, Mapping) else None
    if kind not in ("controlplane", "init"):
        line = _line(config, ["machine", "type"])
        raise SecretsError(
            f"{source}: machine.type{line} is {kind or 'missing'}: only a controlplane's config carries the "
            "cluster's CAs and keys; give a controlplane machine config"
        )
    return _renamed(config, _MACHINE_CONFIG, source, config, "")


def _renamed(
    data: Mapping[str, Any], names: Mapping[str, str], source: str, root: Mapping[str, Any], prefix: str
) -> SecretsBundle:
    """The talosctl-layout view of `data`, checked by bundle_io with problems named as in the file."""
    crt = "cert" if names is _TERRAFORM else "crt"
    talos: dict[str, Any] = {"cluster": {}, "secrets": {}, "trustdinfo": {}, "certs": {}}
    for talos_path, own_path in names.items():
        section, field = talos_path.split(".")
        value = _get(data, own_path.split("."))
        if section == "certs" and isinstance(value, Mapping):
            value = {"crt": value.get(crt), "key": value.get("key")}
        if value is not None:
            talos[section][field] = value

    def label(talos_path: str) -> str:
        parts = talos_path.split(".")
        own = names.get(".".join(parts[:2]))
        if own is None:
            return talos_path
        full = prefix + ".".join([own, *(crt if p == "crt" else p for p in parts[2:])])
        return full + _line(root, full.split("."))

    return bundle_from_dict(talos, source, label)


def _get(data: Any, path: list[str]) -> Any:
    for part in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(part)
    return data


def _line(root: Any, path: list[str]) -> str:
    """` (line N)` of the deepest key of `path` present in the round-trip-loaded document."""
    line = None
    node = root
    for part in path:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            key: Any = int(part)
            position = getattr(getattr(node, "lc", None), "item", None)
        elif isinstance(node, Mapping) and part in node:
            key = part
            position = getattr(getattr(node, "lc", None), "key", None)
        else:
            break
        if position is not None:
            line = position(key)[0] + 1
        node = node[key]
    return f" (line {line})" if line is not None else ""
