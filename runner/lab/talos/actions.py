"""What each simulated talosctl sub-command does, including its output and error prefixes."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from runner.lab.talos import client_release, client_snapshot, output, resources
from runner.lab.talos.client import CallFailed, Target, call, call_each, resolve
from runner.lab.talos.flags import Parsed

POLL_INTERVAL = 0.1


def _fail_multi(values: dict[str, Any], nodes: list[str], command: str) -> None:
    if len(nodes) > 1:
        raise CallFailed(f'command "{command}" is not supported with multiple nodes')


def _prefixed(
    prefix: str, method: str, values: dict[str, Any], params: dict[str, Any] | None = None, **kw: Any
) -> list[Any]:
    target = resolve(values, **kw)
    try:
        return call(target, method, params)
    except CallFailed as e:
        raise CallFailed(f"{prefix}{e.text}" if prefix else e.text) from e


def apply_config(p: Parsed) -> None:
    v = p.values
    if p.args and (p.args[0] not in ("config", "machineconfig") or "apply-config" in sys.argv[1:]):
        raise CallFailed(
            f"unknown positional argument {p.args[0]}"
            if p.args[0] not in ("config", "machineconfig")
            else "expected no positional arguments"
        )
    if not v["file"]:
        raise CallFailed("no filename supplied for configuration")
    if v["config-patch"]:
        raise CallFailed("config patches are not simulated by the node twins")
    try:
        data = Path(v["file"]).read_text()
    except OSError as e:
        raise CallFailed(
            f'failed to read configuration from "{v["file"]}": open {v["file"]}: {(e.strerror or str(e)).lower()}'
        ) from e
    if not data:
        raise CallFailed("no configuration data read")
    params = {"data": data, "mode": v["mode"], "dry_run": v["dry-run"]}
    for result in _prefixed("error applying new configuration: ", "apply", v, params, insecure=v["insecure"]):
        if result.get("mode_details"):
            print(result["mode_details"], file=sys.stderr)


def bootstrap(p: Parsed) -> None:
    _fail_multi(p.values, p.values["nodes"], "bootstrap")
    params = client_snapshot.recover_params(p.values)
    _prefixed("error executing bootstrap: ", "bootstrap", p.values, params)


def version(p: Parsed) -> None:
    v = p.values
    print("Client:")
    client = {**output.CLIENT_VERSION, "tag": client_release.client_tag()}
    print(
        "Talos " + client["tag"] if v["short"] else output.VERSION_TEMPLATE.format(**client),
        end="" if not v["short"] else "\n",
    )
    if v["client"]:
        return
    print("Server:")
    target = resolve(v, insecure=v["insecure"])
    if target.insecure:
        try:
            answered = list(zip(target.nodes, call(target, "version"), strict=False))
        except CallFailed as e:
            raise CallFailed(f"error getting version: {e.text}") from e
        failed: list[str] = []
    else:
        # One call for every node (apid fans it out); the client's FilterMessages turns the nodes that
        # failed into a multierror of "node: error" and keeps the messages of the others.
        replies = call_each(target, "version")
        if all(r.endpoint_failed for r in replies):
            raise CallFailed(f"error getting version: {replies[0].error}")
        answered = [(r.node, r.results[0]) for r in replies if r.results is not None]
        failed = [f"{r.node}: {r.error}" for r in replies if r.error is not None]
        if not answered:
            raise CallFailed(f"error getting version: {output.multierror(failed)}")
    if failed:
        print(f"WARNING: {output.multierror(failed)}", end="", file=sys.stderr)
    for node, info in answered:
        print(f"\tNODE:        {node}")
        print(output.VERSION_TEMPLATE.format(**info), end="")
        print("\tEnabled:     RBAC")


def get(p: Parsed) -> None:
    v = p.values
    rtype = resources.resolve_type(p.args[0])
    params = {"type": p.args[0], "id": p.args[1] if len(p.args) > 1 else ""}
    if v["output"] not in ("table", "yaml", "json", "jsonpath"):
        raise CallFailed(f'unknown output format: "{v["output"]}"')
    target = resolve(v, insecure=v["insecure"])
    if target.insecure:
        items = [r for result in _prefixed("", "get", v, params, insecure=True) for r in result["resources"]]
        errors: list[str] = []
    else:
        items, errors = _get_each(target, params)
    if v["output"] == "yaml":
        print(output.resources_yaml(items), end="")
    elif v["output"] == "json":
        print(output.resources_json(items), end="")
    elif rtype is not None:
        _, display, _, columns = resources.RESOURCE_TYPES[rtype]
        print(output.resources_table(items, display, columns), end="")
    if errors:
        raise CallFailed(output.multierror(errors))


def _get_each(target: Target, params: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """talosctl's ForEachResource: the resource type is resolved on the first node (its failure fails the
    command), then each node is listed on its own; a node's error is collected and the others still print."""
    first = call_each(replace(target, nodes=target.nodes[:1]), "get", params)[0]
    if first.results is None:
        raise CallFailed(str(first.error))
    replies = [first, *call_each(replace(target, nodes=target.nodes[1:]), "get", params)]
    items = [r for reply in replies for result in reply.results or [] for r in result["resources"]]
    return items, [str(reply.error) for reply in replies if reply.error is not None]


def etcd(p: Parsed) -> None:
    v, sub = p.values, p.path[-1]
    if sub == "members":
        results = _prefixed("error getting members: ", "etcd_members", v)
        rows = [["NODE", "ID", "HOSTNAME", "PEER URLS", "CLIENT URLS", "LEARNER"]]
        for node, result in zip(resolve(v).nodes, results, strict=False):
            for m in result["members"]:
                rows.append(
                    [node, m["id"], m["hostname"], ",".join(m["peer_urls"]), ",".join(m["client_urls"]), "false"]
                )
        print(output.table(rows) if len(rows) > 1 else "", end="")
    elif sub == "snapshot":
        client_snapshot.save(p)
    elif sub == "leave":
        _fail_multi(v, v["nodes"], "etcd leave")
        _prefixed("", "etcd_leave", v)
    else:
        try:
            int(p.args[0], 16)
        except ValueError as e:
            raise CallFailed(
                f'error parsing member ID: strconv.ParseUint: parsing "{p.args[0]}": invalid syntax'
            ) from e
        _prefixed("", "etcd_remove_member", v, {"member_id": p.args[0]})


def service(p: Parsed) -> None:
    """`talosctl service <id>`: NODE/ID/STATE/HEALTH lines, tabwriter-aligned (cmd/talosctl service.go)."""
    v = p.values
    if not p.args:
        raise CallFailed("talosctl service without an id (the list) is not simulated by the node twins")
    if len(p.args) > 1:
        raise CallFailed(f"talosctl service {p.args[0]} {p.args[1]} is not simulated by the node twins")
    # serviceInfo: the nodes that answered are printed, the others are a WARNING multierror (exit 0)
    replies = call_each(resolve(v), "service", {"id": p.args[0]})
    failed = [f"{r.node}: {r.error}" for r in replies if r.error is not None]
    if all(r.endpoint_failed for r in replies):
        raise CallFailed(f"error listing services: {replies[0].error}")
    if all(r.results is None for r in replies):
        raise CallFailed(f"error listing services: {output.multierror(failed)}")
    if failed:
        print(f"WARNING: {output.multierror(failed)}", end="", file=sys.stderr)
    rows = []
    for reply in replies:
        for svc in (reply.results or [{"services": []}])[0]["services"]:
            rows += [["NODE", reply.node], ["ID", svc["id"]], ["STATE", svc["state"]], ["HEALTH", svc["health"]]]
    if not rows:
        raise CallFailed(f'service "{p.args[0]}" is not registered on any nodes')
    print(output.table(rows), end="")


def kubeconfig(p: Parsed) -> None:
    v = p.values
    target = resolve(v)
    _fail_multi(v, target.nodes, "kubeconfig")
    local = p.args[0] if p.args else (str(Path.home() / ".kube" / "config") if v["merge"] else os.getcwd())
    path = Path(local)
    if local != "-" and path.is_dir():
        path = path / "kubeconfig"
    merge = v["merge"] and path.exists()
    if local != "-" and path.exists() and not (v["force"] or v["merge"]):
        raise CallFailed(f'kubeconfig file already exists, use --force to overwrite: "{path}"')
    try:
        result = call(target, "kubeconfig")[0]
    except CallFailed as e:
        raise CallFailed(f"error copying: {e.text}") from e
    if merge:
        raise CallFailed("kubeconfig merging is not simulated by the node twins; use --merge=false")
    if local == "-":
        sys.stdout.write(result["kubeconfig"])
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(result["kubeconfig"])


def _wait_back(values: dict[str, Any], timeout: float, boot_ids: dict[str, str] | None = None) -> None:
    """--wait: poll the node until it runs again (the real client tracks events and boot IDs)."""
    deadline = time.monotonic() + timeout
    time.sleep(POLL_INTERVAL)
    while time.monotonic() < deadline:
        try:
            items = call(resolve(values), "get", {"type": "machinestatus", "id": ""})[0]["resources"]
            if items and items[0]["spec"]["stage"] == "running":
                return
        except CallFailed:
            pass
        time.sleep(POLL_INTERVAL)
    raise CallFailed("context deadline exceeded")


def upgrade(p: Parsed) -> None:
    v = p.values
    tag = client_release.client_tag()
    streams = client_release.streams_upgrades(tag)
    if streams and v["no-reboot"]:
        v["drain"] = False
    wait = v["wait"] or v["debug"] or (streams and v["drain"])  # v1.13: --drain forces --wait
    if wait and v["insecure"]:
        raise CallFailed("cannot use --wait and --insecure together")
    if v["reboot-mode"].upper() not in ("DEFAULT", "POWERCYCLE"):
        raise CallFailed(f"invalid reboot mode: {v['reboot-mode']}")
    params = {"image": v["image"], "preserve": v["preserve"], "stage": v["stage"], "force": v["force"]}
    target = resolve(v, insecure=v["insecure"])
    if streams and v["drain"] and not v["legacy"]:
        running = [r["tag"] for r in call(target, "version")]
        if any(client_release.new_upgrade_api(t) for t in running):
            # the client-side drain (cmd/talosctl/cmd/talos/drain.go) talks to Kubernetes itself
            raise CallFailed("talosctl upgrade --drain is not simulated by the node twins: pass --drain=false")
    try:
        results = call(target, "upgrade", params)
    except CallFailed as e:
        raise CallFailed(f"error performing upgrade: {e.text}") from e
    if wait:
        _wait_back(v, v["timeout"])
        return
    rows = [["NODE", "ACK", "STARTED"]]
    rows += [[n, r["ack"], str(dt.datetime.now()), ""] for n, r in zip(target.nodes, results, strict=False)]
    print(output.table(rows), end="")


def reboot(p: Parsed) -> None:
    v = p.values
    if v["mode"] not in ("default", "powercycle"):
        raise CallFailed(f'invalid reboot mode: "{v["mode"]}"')
    _prefixed("error executing reboot: ", "reboot", v)
    if v["wait"] or v["debug"]:
        _wait_back(v, v["timeout"])


def reset(p: Parsed) -> None:
    v = p.values
    params = {"graceful": v["graceful"], "reboot": v["reboot"], "system_labels": v["system-labels-to-wipe"]}
    _prefixed("error executing reset: ", "reset", v, params, insecure=v["insecure"])


def health(p: Parsed) -> None:
    v = p.values
    target = resolve(v, need_nodes=v["server"])
    if v["server"]:
        _fail_multi(v, target.nodes, "health")
    params = {"control_plane_nodes": v["control-plane-nodes"], "worker_nodes": v["worker-nodes"]}
    deadline = time.monotonic() + v["wait-timeout"]
    reported: set[str] = set()
    index = 0
    while True:
        checks = call(target, "health", params)[0]["checks"]
        while index < len(checks) and checks[index]["error"] is None:
            print(f"waiting for {checks[index]['name']}: OK", file=sys.stderr)
            index += 1
        if index == len(checks):
            return
        current = checks[index]
        if current["name"] not in reported:
            print(f"waiting for {current['name']}: {current['error']}", file=sys.stderr)
            reported.add(current["name"])
        if time.monotonic() >= deadline:
            raise CallFailed("context deadline exceeded")
        time.sleep(POLL_INTERVAL)
