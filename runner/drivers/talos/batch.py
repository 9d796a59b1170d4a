"""Reading what several nodes say in one talosctl run: `-n a,b,c` output labelled per node, and its errors.

`talosctl get` lists each node in turn and labels every resource with the node it came from (`node:` in
YAML and JSON); the nodes that failed are collected into one multierror on stderr and the command exits 1
after printing the others. `talosctl version` (and `service`) print a block per node that answered and report
the others in a `WARNING:` multierror (exit 0). Either way a node that does not answer costs only its own entry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from runner.core.errors import Permanent, RunnerError
from runner.drivers.talos import failures
from runner.drivers.talos.process import TalosctlResult

_ERROR_LINE = re.compile(r"^\t\* (.*)$", re.M)
_DIAL = re.compile(r"dial tcp \[?([0-9a-fA-F.:]+?)\]?:\d+")


@dataclass(frozen=True)
class NodeFailure:
    """What a node that did not answer said, as far as the output ties the error to it."""

    error: RunnerError
    tls: bool  # the node refused our certificate (or we its): maybe maintenance mode


def json_documents(text: str) -> Iterator[dict[str, Any]]:
    """`-o json` prints one indented JSON object per resource, one after another."""
    decoder, pos = json.JSONDecoder(), 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return
        doc, pos = decoder.raw_decode(text, pos)
        if isinstance(doc, dict):
            yield doc


def by_node(command: str, result: TalosctlResult, ips: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Resources of a `get ... -o json` run keyed by the node they came from."""
    try:
        docs = list(json_documents(result.stdout))
    except ValueError as e:
        raise Permanent(f"talosctl {command} on {', '.join(ips)}: unreadable output") from e
    out: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        out.setdefault(str(doc.get("node", "")), []).append(doc)
    return out


def table_versions(stdout: str) -> dict[str, int]:
    """NODE -> VERSION of a `talosctl get <type>` table (columns NODE NAMESPACE TYPE ID VERSION ...)."""
    out: dict[str, int] = {}
    for line in stdout.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 5 and cols[4].isdigit():
            out[cols[0]] = int(cols[4])
    return out


def failures_of(
    command: str, result: TalosctlResult, missing: Sequence[str], *, tls_may_pass: bool = False
) -> dict[str, NodeFailure]:
    """The error of each node in `missing`, from the multierror lines that name it (`ip: ...` or a dial to
    it); errors that name no node are shared by the rest. A Permanent error (an authorization failure, an
    unknown resource) is raised: it will not pass by trying again. Only where a TLS refusal may mean
    "maintenance mode" (`tls_may_pass`) is that one left for the caller to look into."""
    lines = _ERROR_LINE.findall(result.stderr) or [result.stderr.strip()]
    named: dict[str, str] = {}
    shared: list[str] = []
    for line in lines:
        ip = _named_node(line, missing)
        if ip is not None:
            named.setdefault(ip, line)
        else:
            shared.append(line)
    out = {}
    for ip in missing:
        text = named.get(ip) or (shared[0] if shared else "(no output)")
        error = failures.classify(command, ip, text, result.redact)
        tls = failures.is_tls_failure(text)
        if isinstance(error, Permanent) and not (tls and tls_may_pass):
            raise error
        out[ip] = NodeFailure(error, tls)
    return out


def lead_failure(
    command: str, result: TalosctlResult, ips: Sequence[str], *, tls_may_pass: bool = False
) -> NodeFailure | None:
    """The first node's failure, when it failed the whole run: `talosctl get` resolves the resource type on
    `nodes[0]` before it lists any node (helpers.ForEachResource), so a first node that does not answer
    leaves the run with no output and that node's error alone. None when the run failed otherwise."""
    if result.returncode == 0 or result.stdout.strip() or len(ips) < 2 or _ERROR_LINE.search(result.stderr):
        return None
    text = result.stderr.strip()
    if _named_node(text, ips) != ips[0]:
        return None
    return failures_of(command, result, ips[:1], tls_may_pass=tls_may_pass)[ips[0]]


def _named_node(line: str, candidates: Sequence[str]) -> str | None:
    head = line.split(": ", 1)[0]
    if head in candidates:
        return head
    dial = _DIAL.search(line)
    if dial and dial.group(1) in candidates:
        return dial.group(1)
    return None


def version_blocks(stdout: str) -> dict[str, str]:
    """`NODE:` -> `Tag:` of each server block of `talosctl version`."""
    out: dict[str, str] = {}
    node = None
    for line in stdout.split("Server:", 1)[-1].splitlines():
        key, _, value = line.strip().partition(":")
        if key == "NODE":
            node = value.strip()
        elif key == "Tag" and node is not None:
            out[node] = value.strip()
    return out


def service_blocks(stdout: str) -> dict[str, dict[str, str]]:
    """NODE -> {ID, STATE, HEALTH, ...} of each block `talosctl service <id>` prints (tabwriter columns)."""
    out: dict[str, dict[str, str]] = {}
    block: dict[str, str] | None = None
    for line in stdout.splitlines():
        key, _, value = line.strip().partition(" ")
        if key == "NODE":
            block = out.setdefault(value.strip(), {})
        elif block is not None and key:
            block[key] = value.strip()
    return out
