"""How the fake talosctl reaches the node twins: resolve endpoints/nodes/credentials, POST the call."""

from __future__ import annotations

import http.client
import json
import os
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from runner.lab.talos import output, talosconfig

URL_ENV = "TALOS_TWIN_URL"


class CallFailed(Exception):
    """A call failed; `text` is the error as talosctl formats it (without the command's prefix)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass
class Target:
    endpoint: str
    nodes: list[str]
    insecure: bool
    ca_pem: str | None = None
    crt_pem: str | None = None
    key_pem: str | None = None  # sent to the loopback twin only, which stands in for the TLS handshake
    # Every endpoint the client may use: talosctl dials them through gRPC's round_robin balancer, which sends
    # calls only to endpoints whose connection is ready, so one endpoint that is down does not fail the call.
    endpoints: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NodeReply:
    """One node's answer to a call made with that node alone in the metadata (how `talosctl get` asks)."""

    node: str
    results: list[Any] | None
    error: str | None  # the gRPC error as talosctl prints it
    endpoint_failed: bool = False  # no endpoint answered at all (not this node's fault)


def _host(endpoint: str) -> str:
    host = endpoint.removeprefix("https://").split("/")[0]
    if host.startswith("["):
        return host[1 : host.index("]")]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def resolve(values: dict[str, Any], insecure: bool = False, need_nodes: bool = True) -> Target:
    nodes = [_host(n) for n in values["nodes"]]
    if insecure:
        # The maintenance client dials the nodes themselves and ignores talosconfig.
        if not nodes:
            raise CallFailed("failed to determine endpoints")
        return Target(endpoint=nodes[0], nodes=nodes[:1], insecure=True)
    try:
        ctx = talosconfig.load(values["talosconfig"], values["context"])
    except talosconfig.ClientError as e:
        raise CallFailed(str(e)) from e
    endpoints = [_host(e) for e in (values["endpoints"] or ctx.endpoints)]
    if not endpoints:
        raise CallFailed("error constructing client: failed to determine endpoints")
    nodes = nodes or [_host(n) for n in ctx.nodes]
    if need_nodes and not nodes:
        raise CallFailed(
            "nodes are not set for the command: please use `--nodes` flag or configuration file to set the nodes "
            "to run the command against"
        )
    return Target(endpoints[0], nodes or [endpoints[0]], False, ctx.ca_pem, ctx.crt_pem, ctx.key_pem, endpoints)


def _post(target: Target, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
    url = os.environ.get(URL_ENV)
    if not url:
        raise CallFailed(f"{URL_ENV} is not set: this talosctl only talks to the lab's node twins")
    body = {
        "method": method,
        "endpoint": target.endpoint,
        "endpoints": target.endpoints or [target.endpoint],
        "nodes": target.nodes,
        "insecure": target.insecure,
        "ca_pem": target.ca_pem,
        "crt_pem": target.crt_pem,
        "key_pem": target.key_pem,
        "params": params or {},
    }
    parts = urlsplit(url)
    try:
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=600)
        connection.request("POST", "/rpc", json.dumps(body), {"Content-Type": "application/json"})
        reply = json.loads(connection.getresponse().read())
        connection.close()
    except OSError as e:
        raise CallFailed(
            f'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: {e}"'
        ) from e
    return dict(reply)


def call(target: Target, method: str, params: dict[str, Any] | None = None) -> list[Any]:
    reply = _post(target, method, params)
    if reply["ok"]:
        return list(reply["results"])
    text = output.rpc_text(reply["error"])
    if reply.get("node"):
        text = output.multierror([f"{reply['node']}: {text}"])
    raise CallFailed(text)


def call_each(target: Target, method: str, params: dict[str, Any] | None = None) -> list[NodeReply]:
    """`method` on each target node in turn, one node per call: a node that fails does not hide the others."""
    replies = []
    for node in target.nodes:
        reply = _post(replace(target, nodes=[node]), method, params)
        if reply["ok"]:
            replies.append(NodeReply(node, list(reply["results"]), None))
        else:
            text = output.rpc_text(reply["error"])
            replies.append(NodeReply(node, None, text, endpoint_failed=not reply.get("node")))
    return replies
