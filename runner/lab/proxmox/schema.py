"""The vendored PVE API schema subset: endpoint lookup and parameter schemas with indexed keys expanded."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).parent / "schema" / "pve-api-subset.json"

# How many of each indexed option exist ("net[n]" -> net0..net31); constants from qemu-server
# (QemuServer.pm $MAX_NETS/$MAX_SERIAL_PORTS/..., Drive.pm $MAX_*_DISKS, Memory.pm $MAX_NUMA, USB.pm).
INDEX_COUNTS = {
    "net": 32,
    "ipconfig": 32,
    "serial": 4,
    "parallel": 3,
    "scsi": 31,
    "virtio": 16,
    "sata": 6,
    "ide": 4,
    "unused": 256,
    "usb": 14,
    "hostpci": 16,
    "numa": 8,
    "virtiofs": 10,
}


@dataclass(frozen=True)
class Endpoint:
    template: str  # e.g. /nodes/{node}/qemu/{vmid}/config
    method: str
    name: str  # PVE's handler name, e.g. update_vm_async
    parameters: dict[str, Any]
    pattern: re.Pattern[str]
    permissions: dict[str, Any] | None = None  # apidata.js `permissions` (check expression or user=all)


def _expand_indexed(properties: dict[str, Any]) -> dict[str, Any]:
    expanded: dict[str, Any] = {}
    for key, schema in properties.items():
        if key.endswith("[n]"):
            base = key[:-3]
            for i in range(INDEX_COUNTS.get(base, 1)):
                expanded[f"{base}{i}"] = schema
        else:
            expanded[key] = schema
    return expanded


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")


@cache
def load_schema() -> dict[str, Any]:
    return dict(json.loads(SCHEMA_FILE.read_text()))


@cache
def endpoints() -> tuple[Endpoint, ...]:
    found = []
    for template, methods in load_schema()["endpoints"].items():
        for method, info in methods.items():
            params = dict(info["parameters"])
            params["properties"] = _expand_indexed(params.get("properties", {}))
            found.append(
                Endpoint(template, method, info["name"], params, _template_regex(template), info.get("permissions"))
            )
    return tuple(found)


def find_endpoint(method: str, path: str) -> tuple[Endpoint, dict[str, str]] | None:
    for endpoint in endpoints():
        if endpoint.method == method and (match := endpoint.pattern.match(path)):
            return endpoint, match.groupdict()
    return None


def option_schema(option: str) -> dict[str, Any] | None:
    """The schema of one VM config option (from POST /nodes/{node}/qemu), for `delete` checks."""
    for endpoint in endpoints():
        if endpoint.name == "create_vm":
            return endpoint.parameters["properties"].get(option)  # type: ignore[no-any-return]
    return None
