"""The `talos_machine_secrets` resources in Terraform's own JSON: a state file or `terraform show -json`.

Layouts (Terraform's documented JSON formats; "internals/json-format" and the v4 state file):
- state file (`terraform.tfstate`, `terraform state pull`): `resources[]` with `type`, `name`, `module`?, and
  `instances[]` whose `attributes` hold the resource's attributes (`index_key` for count/for_each);
- `terraform show -json`: `values.root_module` with `resources[]` (`address`, `type`, `values`) and
  `child_modules[]` (the same, nested).
Each match is returned with its path in the document (for error messages) and its Terraform address.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

RESOURCE_TYPE = "talos_machine_secrets"


@dataclass(frozen=True)
class Found:
    address: str
    path: tuple[str, ...]  # keys and list indices (as digits) from the document's root to the attributes
    attributes: Mapping[str, Any]


def is_terraform_state(data: Mapping[str, Any]) -> bool:
    values = data.get("values")
    return isinstance(data.get("resources"), list) or (isinstance(values, Mapping) and "root_module" in values)


def machine_secrets_resources(data: Mapping[str, Any]) -> list[Found]:
    if isinstance(data.get("resources"), list):
        return list(_state_file(data["resources"]))
    values = data.get("values")
    if isinstance(values, Mapping) and isinstance(values.get("root_module"), Mapping):
        return list(_show_module(values["root_module"], ("values", "root_module")))
    return []


def _state_file(resources: list[Any]) -> Iterator[Found]:
    for i, resource in enumerate(resources):
        if not isinstance(resource, Mapping) or resource.get("type") != RESOURCE_TYPE:
            continue
        if resource.get("mode", "managed") != "managed":
            continue
        module = f"{resource['module']}." if resource.get("module") else ""
        base = f"{module}{RESOURCE_TYPE}.{resource.get('name', '?')}"
        for j, instance in enumerate(resource.get("instances") or ()):
            if isinstance(instance, Mapping) and isinstance(instance.get("attributes"), Mapping):
                key = instance.get("index_key")
                address = base + (f"[{key!r}]" if isinstance(key, str) else f"[{key}]" if key is not None else "")
                path = ("resources", str(i), "instances", str(j), "attributes")
                yield Found(address.replace("'", '"'), path, instance["attributes"])


def _show_module(module: Mapping[str, Any], path: tuple[str, ...]) -> Iterator[Found]:
    for i, resource in enumerate(module.get("resources") or ()):
        if (
            isinstance(resource, Mapping)
            and resource.get("type") == RESOURCE_TYPE
            and resource.get("mode", "managed") == "managed"
            and isinstance(resource.get("values"), Mapping)
        ):
            address = str(resource.get("address", RESOURCE_TYPE))
            yield Found(address, (*path, "resources", str(i), "values"), resource["values"])
    for i, child in enumerate(module.get("child_modules") or ()):
        if isinstance(child, Mapping):
            yield from _show_module(child, (*path, "child_modules", str(i)))
