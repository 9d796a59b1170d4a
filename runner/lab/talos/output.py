"""Output formats of talosctl: Go tabwriter tables, yaml.v3-style YAML, version blocks, error shapes."""

from __future__ import annotations

import json
from typing import Any

import yaml  # PyYAML: fast to import in the short-lived talosctl process


class _Literal(str):
    """A string emitted as a `|` block, as yaml.v3 prints the machine config inside a resource."""


class _GoStyleDumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # yaml.v3 indents sequences under their key


_GoStyleDumper.add_representer(_Literal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v), style="|"))

VERSION_TEMPLATE = (
    "\tTag:         {tag}\n\tSHA:         {sha}\n\tBuilt:       {built}\n"
    "\tGo version:  {go_version}\n\tOS/Arch:     {os}/{arch}\n"
)
CLIENT_VERSION = {
    "tag": "v1.11.2",
    "sha": "511b4d2e",
    "built": "",
    "go_version": "go1.24.6",
    "os": "linux",
    "arch": "amd64",
}


def table(rows: list[list[str]]) -> str:
    """text/tabwriter with padding 3 and ' ' as pad char (trailing cells are not padded)."""
    if not rows:
        return ""
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(len(r) for r in rows))]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i] + 3) if i < len(row) - 1 else cell for i, cell in enumerate(row)]
        lines.append("".join(cells))
    return "\n".join(lines) + "\n"


def yaml_text(value: Any) -> str:
    return str(yaml.dump(value, Dumper=_GoStyleDumper, indent=4, sort_keys=False, width=1 << 16, allow_unicode=True))


def resources_yaml(items: list[dict[str, Any]]) -> str:
    chunks = []
    for item in items:
        spec = item["spec"]
        if isinstance(spec, str):
            spec = _Literal(spec)  # MachineConfig spec is the raw config text
        chunks.append(f"node: {item['node']}\n" + yaml_text({"metadata": item["metadata"], "spec": spec}))
    return "---\n".join(chunks)


def resources_json(items: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(item, indent=4) + "\n" for item in items)


def _lookup(spec: Any, key: str) -> Any:
    """A spec field by dotted path (`metadata.name`), or a plain key also looked up under `status`."""
    if not isinstance(spec, dict):
        return ""
    if "." in key:
        value: Any = spec
        for part in key.split("."):
            value = value.get(part, "") if isinstance(value, dict) else ""
        return value
    return spec.get(key, spec.get("status", {}).get(key, ""))


def resources_table(items: list[dict[str, Any]], display: str, columns: tuple[tuple[str, str], ...]) -> str:
    rows = [["NODE", "NAMESPACE", "TYPE", "ID", "VERSION", *[title for title, _ in columns]]]
    for item in items:
        meta, spec = item["metadata"], item["spec"]
        extra = []
        for _, key in columns:
            value = _lookup(spec, key)
            extra.append(
                json.dumps(value)
                if isinstance(value, list)
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
        rows.append([item["node"], meta["namespace"], display, meta["id"], str(meta["version"]), *extra])
    return table(rows)


def multierror(errors: list[str]) -> str:
    noun = "error" if len(errors) == 1 else "errors"
    return f"{len(errors)} {noun} occurred:\n" + "".join(f"\t* {e}\n" for e in errors) + "\n"


def rpc_text(error: dict[str, Any]) -> str:
    if error["kind"] == "client":
        return str(error["desc"])
    if error["kind"] == "transport":
        return f'rpc error: code = Unavailable desc = connection error: desc = "{error["desc"]}"'
    return f"rpc error: code = {error['code']} desc = {error['desc']}"
