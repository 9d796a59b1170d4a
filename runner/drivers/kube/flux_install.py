"""The Flux install: the vendored gotk-components.yaml (checked against its recorded sha256) with the
patches that let the controllers run on a fresh Talos cluster before any CNI exists, plus the objects
that point Flux at the cluster's repository.

Patches (applied to the parsed objects; the file itself stays byte-for-byte the release's):
- tolerate `node.kubernetes.io/not-ready`, `node.cloudprovider.kubernetes.io/uninitialized` and the
  control-plane taint: until Cilium runs every node is NotReady, and the first nodes are controllers;
- `hostNetwork: true`: no pod network exists yet;
- the flux-system Namespace labelled `pod-security.kubernetes.io/enforce: privileged` (and audit/warn):
  Talos's admission config enforces `baseline` everywhere but kube-system, and baseline refuses host
  namespaces and host ports;
- `KUBERNETES_SERVICE_HOST=localhost`, `KUBERNETES_SERVICE_PORT=7445`: the API through KubePrism, because
  the `kubernetes` Service's ClusterIP does not route while kube-proxy is off and Cilium is not running;
- `dnsPolicy: Default`: the node's resolver (Talos host DNS) answers external names; cluster DNS does not
  exist until CoreDNS runs, which needs the CNI (`ClusterFirstWithHostNet` would point at it);
- distinct host ports per controller (on the host network they would all bind :8080/:9440/:9090), and
  source-controller advertises its artifact server on the pod (= node) IP, as Service IPs need the CNI;
- kustomize-controller with `StrictPostBuildSubstitutions`: a `${var}` missing from `cluster-settings`
  fails the Kustomization instead of being applied as an empty string;
- the four controllers in one pod, posting their events to notification-controller on localhost
  (flux_pod: the node's resolver never resolves the release's cluster name for it).

The same recipe as fluxcd's flux-aio for clusters without a CNI (stefanprodan/flux-aio: one pod,
`hostNetwork`, `podSecurityProfile: privileged` labels, KUBERNETES_SERVICE_HOST/PORT on clusters without
kube-proxy, `--events-addr=http://localhost:<port>`).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from functools import cache
from importlib import resources
from typing import Any

import pyrage
import yaml  # PyYAML comes with lightkube; its stubs (types-PyYAML) are a dev dependency

from runner.core.errors import Permanent
from runner.core.secret import Secret
from runner.core.versions import parse_version

from . import flux_pod

DATA = "data"  # one directory per vendored release: data/<version>/{gotk-components.yaml,README.md}
MANIFEST = "gotk-components.yaml"
NOTE = "README.md"
FLUX_NAMESPACE = "flux-system"
SOPS_SECRET = "sops-age"
FLUX_KEY_ANNOTATION = "runner.dev/flux-age-recipient"
GIT_SECRET = "flux-system"
SETTINGS_CONFIGMAP = "cluster-settings"  # postBuild.substituteFrom of the flux/ Kustomizations
KUBEPRISM = ("localhost", "7445")  # Talos KubePrism, enabled in every machine config the runner renders
POD_SECURITY = "privileged"
STRICT_SUBSTITUTIONS = "--feature-gates=StrictPostBuildSubstitutions=true"

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


def _data_text(version: str, name: str) -> bytes:
    return resources.files(__package__).joinpath(DATA, version, name).read_bytes()


def vendored_versions() -> tuple[str, ...]:
    """The Flux releases whose install manifests the runner ships, oldest first."""
    found = [p.name for p in resources.files(__package__).joinpath(DATA).iterdir() if p.name.startswith("v")]
    return tuple(sorted(found, key=parse_version))


def recorded(field: str, version: str) -> str:
    """A `field: value` line from the note beside one release's vendored manifest."""
    match = re.search(rf"^{field}:\s*(\S+)\s*$", _data_text(version, NOTE).decode(), re.MULTILINE)
    if match is None:
        raise Permanent(f"runner/drivers/kube/data/{version}/{NOTE}: no '{field}:' line")
    return match.group(1)


def check_digest(raw: bytes, expected: str, version: str = "") -> None:
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected:
        raise Permanent(
            f"runner/drivers/kube/data/{version}/{MANIFEST}: sha256 {digest} does not match the recorded "
            f"{expected}; the vendored Flux manifest was modified"
        )


@cache
def vendored_components(version: str) -> tuple[dict[str, Any], ...]:
    """One release's unchanged manifest, parsed, after checking its sha256 against the note."""
    if version not in vendored_versions():
        raise Permanent(f"Flux {version} is not vendored (vendored: {', '.join(vendored_versions())})")
    raw = _data_text(version, MANIFEST)
    check_digest(raw, recorded("sha256", version), version)
    return parse_manifest(raw)


def parse_manifest(raw: bytes) -> tuple[dict[str, Any], ...]:
    # PyYAML's C loader (lightkube's own YAML dependency): the 580 kB manifest parses in ~0.2 s instead of
    # several seconds with a pure-Python parser.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return tuple(d for d in yaml.load_all(raw, Loader=loader) if d)


def flux_version() -> str:
    """The newest vendored release."""
    return vendored_versions()[-1]


def patch_namespace(namespace: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(namespace)
    labels = out["metadata"].setdefault("labels", {})
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = POD_SECURITY
        labels[f"pod-security.kubernetes.io/{mode}-version"] = "latest"
    return out


def patch_controller(deployment: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(deployment)
    pod = out["spec"]["template"]["spec"]
    pod["hostNetwork"] = True
    pod["dnsPolicy"] = "Default"
    existing = pod.get("tolerations") or []
    pod["tolerations"] = existing + [t for t in TOLERATIONS if t not in existing]
    ports, flags = HOST_PORTS.get(out["metadata"]["name"], ({}, {}))
    for container in pod["containers"]:
        for port in container.get("ports") or []:
            if port["name"] in ports:
                port["containerPort"] = ports[port["name"]]
        args = [a for a in container.get("args") or [] if a.split("=", 1)[0] not in flags]
        container["args"] = args + [f"{flag}={value}" for flag, value in flags.items()]
        if out["metadata"]["name"] == "kustomize-controller" and STRICT_SUBSTITUTIONS not in container["args"]:
            container["args"].append(STRICT_SUBSTITUTIONS)
        env = [
            e
            for e in container.get("env") or []
            if e.get("name") not in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT")
        ]
        env += [
            {"name": "KUBERNETES_SERVICE_HOST", "value": KUBEPRISM[0]},
            {"name": "KUBERNETES_SERVICE_PORT", "value": KUBEPRISM[1]},
        ]
        if "--storage-adv-addr" in flags and not any(e.get("name") == "POD_IP" for e in env):
            env.append({"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})
        container["env"] = env
    return out


def patched_components(version: str) -> list[dict[str, Any]]:
    """The release's objects, patched, with its controller Deployments replaced by the one pod (flux_pod)."""

    def patched(obj: dict[str, Any]) -> dict[str, Any]:
        if obj["kind"] == "Service":
            return flux_pod.retarget_service(obj)
        if obj["kind"] == "Namespace" and obj["metadata"]["name"] == FLUX_NAMESPACE:
            return patch_namespace(obj)
        return copy.deepcopy(obj)

    components = vendored_components(version)
    controllers = [patch_controller(d) for d in components if d["kind"] == "Deployment"]
    return [patched(d) for d in components if d["kind"] != "Deployment"] + [flux_pod.one_pod(controllers)]


def settings_configmap(settings: dict[str, str]) -> dict[str, Any]:
    """What `postBuild.substituteFrom` of the flux/ Kustomizations reads (no secrets: plain cluster facts)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": SETTINGS_CONFIGMAP, "namespace": FLUX_NAMESPACE},
        "data": dict(sorted(settings.items())),
    }


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def age_recipient(key: Secret) -> str:
    """The public half of an age identity, for the annotation that says which key a sops-age Secret holds."""
    try:
        return str(pyrage.x25519.Identity.from_str(key.reveal().strip()).to_public())
    except Exception:  # pyrage raises its own error types for malformed keys
        raise Permanent(f"the age key for Secret {FLUX_NAMESPACE}/{SOPS_SECRET} is malformed") from None


def sops_secret(sops_age_key: Secret) -> dict[str, Any]:
    """The Secret kustomize-controller reads age identities from (every `*.agekey` entry). The annotation
    names the key's public half, so a later run sees whether the cluster holds the repository's Flux key
    without reading the private one back."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": SOPS_SECRET,
            "namespace": FLUX_NAMESPACE,
            "annotations": {FLUX_KEY_ANNOTATION: age_recipient(sops_age_key)},
        },
        "type": "Opaque",
        "data": {"age.agekey": _b64(sops_age_key.reveal().strip() + "\n")},
    }


def sync_objects(
    git_url: str,
    branch: str,
    path: str,
    sops_age_key: Secret,
    git_auth: dict[str, Secret | str] | None,
    interval: str = "1m",
    settings: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The cluster-settings ConfigMap, the sops-age Secret, the optional git credentials Secret, the
    GitRepository and the root Kustomization."""
    objs: list[dict[str, Any]] = [settings_configmap(settings or {}), sops_secret(sops_age_key)]
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
