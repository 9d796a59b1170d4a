"""The Flux install: the vendored gotk-components.yaml (checked against its recorded sha256) with the
patches that let the controllers run on a fresh Talos cluster before any CNI exists, plus the objects
that point Flux at the cluster's repository.

Patches (applied to the parsed objects; the file itself stays byte-for-byte the release's):
- tolerate `node.kubernetes.io/not-ready`, `node.cloudprovider.kubernetes.io/uninitialized` and the
  control-plane taint: until Cilium runs every node is NotReady, and the first nodes are controllers;
- `hostNetwork: true` + `dnsPolicy: ClusterFirstWithHostNet`: no pod network exists yet;
- distinct host ports per controller (on the host network they would all bind :8080/:9440/:9090), and
  source-controller advertises its artifact server on the pod (= node) IP, as Service IPs need the CNI.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from functools import cache
from importlib import resources
from typing import Any

import yaml  # PyYAML comes with lightkube

from runner.core.errors import Permanent
from runner.core.secret import Secret

DATA = "data"
MANIFEST = "gotk-components.yaml"
NOTE = "README.md"
FLUX_NAMESPACE = "flux-system"
SOPS_SECRET = "sops-age"
GIT_SECRET = "flux-system"

TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists"},
    {"key": "node.cloudprovider.kubernetes.io/uninitialized", "operator": "Exists"},
    {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"},
]

# Host ports per controller: (container port name -> port, flag -> address).
HOST_PORTS: dict[str, tuple[dict[str, int], dict[str, str]]] = {
    "source-controller": (
        {"http": 9790, "http-prom": 9791, "healthz": 9792},
        {
            "--storage-addr": ":9790",
            "--metrics-addr": ":9791",
            "--health-addr": ":9792",
            "--storage-adv-addr": "$(POD_IP):9790",
        },
    ),
    "kustomize-controller": (
        {"http-prom": 9793, "healthz": 9794},
        {"--metrics-addr": ":9793", "--health-addr": ":9794"},
    ),
    "helm-controller": ({"http-prom": 9795, "healthz": 9796}, {"--metrics-addr": ":9795", "--health-addr": ":9796"}),
    "notification-controller": (
        {"http": 9797, "http-webhook": 9292, "http-prom": 9798, "healthz": 9799},
        {"--events-addr": ":9797", "--receiverAddr": ":9292", "--metrics-addr": ":9798", "--health-addr": ":9799"},
    ),
}


def _data_text(name: str) -> bytes:
    return resources.files(__package__).joinpath(DATA, name).read_bytes()


def recorded(field: str) -> str:
    """A `field: value` line from the sibling note of the vendored manifest."""
    match = re.search(rf"^{field}:\s*(\S+)\s*$", _data_text(NOTE).decode(), re.MULTILINE)
    if match is None:
        raise Permanent(f"runner/drivers/kube/data/{NOTE}: no '{field}:' line")
    return match.group(1)


def check_digest(raw: bytes, expected: str) -> None:
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected:
        raise Permanent(
            f"runner/drivers/kube/data/{MANIFEST}: sha256 {digest} does not match the recorded {expected}; "
            "the vendored Flux manifest was modified"
        )


@cache
def vendored_components() -> tuple[dict[str, Any], ...]:
    """The unchanged release manifest, parsed, after checking its sha256 against the note."""
    raw = _data_text(MANIFEST)
    check_digest(raw, recorded("sha256"))
    return parse_manifest(raw)


def parse_manifest(raw: bytes) -> tuple[dict[str, Any], ...]:
    # PyYAML's C loader (lightkube's own YAML dependency): the 580 kB manifest parses in ~0.2 s instead of
    # several seconds with a pure-Python parser.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return tuple(d for d in yaml.load_all(raw, Loader=loader) if d)


def flux_version() -> str:
    return recorded("version")


def patch_controller(deployment: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(deployment)
    pod = out["spec"]["template"]["spec"]
    pod["hostNetwork"] = True
    pod["dnsPolicy"] = "ClusterFirstWithHostNet"
    existing = pod.get("tolerations") or []
    pod["tolerations"] = existing + [t for t in TOLERATIONS if t not in existing]
    ports, flags = HOST_PORTS.get(out["metadata"]["name"], ({}, {}))
    for container in pod["containers"]:
        for port in container.get("ports") or []:
            if port["name"] in ports:
                port["containerPort"] = ports[port["name"]]
        args = [a for a in container.get("args") or [] if a.split("=", 1)[0] not in flags]
        container["args"] = args + [f"{flag}={value}" for flag, value in flags.items()]
        if "--storage-adv-addr" in flags:
            env = container.setdefault("env", [])
            if not any(e.get("name") == "POD_IP" for e in env):
                env.append({"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})
    return out


def patched_components() -> list[dict[str, Any]]:
    return [patch_controller(d) if d["kind"] == "Deployment" else copy.deepcopy(d) for d in vendored_components()]


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def sync_objects(
    git_url: str,
    branch: str,
    path: str,
    sops_age_key: Secret,
    git_auth: dict[str, Secret | str] | None,
    interval: str = "1m",
) -> list[dict[str, Any]]:
    """The sops-age Secret, the optional git credentials Secret, the GitRepository and the root Kustomization."""
    objs: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": SOPS_SECRET, "namespace": FLUX_NAMESPACE},
            "type": "Opaque",
            "data": {"age.agekey": _b64(sops_age_key.reveal().strip() + "\n")},
        }
    ]
    repo_spec: dict[str, Any] = {"interval": interval, "ref": {"branch": branch}, "url": git_url}
    if git_auth:
        data = {k: _b64(v.reveal() if isinstance(v, Secret) else str(v)) for k, v in git_auth.items()}
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {"name": GIT_SECRET, "namespace": FLUX_NAMESPACE},
                "data": data,
            }
        )
        repo_spec["secretRef"] = {"name": GIT_SECRET}
    objs.append(
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "flux-system", "namespace": FLUX_NAMESPACE},
            "spec": repo_spec,
        }
    )
    objs.append(
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "flux-system", "namespace": FLUX_NAMESPACE},
            "spec": {
                "interval": "10m",
                "path": "./" + path.strip("/").removeprefix("./"),
                "prune": True,
                "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
                "decryption": {"provider": "sops", "secretRef": {"name": SOPS_SECRET}},
            },
        }
    )
    return objs
