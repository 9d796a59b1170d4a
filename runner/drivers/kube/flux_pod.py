"""The four Flux controllers in one pod (the shape of fluxcd's flux-aio), so that they reach each other on
localhost before any CNI exists and after it.

Why one pod: every controller posts its events to notification-controller (`--events-addr`), and the
release points them at the `notification-controller` Service's cluster name. With `dnsPolicy: Default`
(the only resolver that answers before CoreDNS, flux_install) that name is asked of Talos's host DNS,
which forwards it upstream and never resolves it, so no event and no Alert would ever arrive, CoreDNS
running or not. In one pod `http://localhost:9797/` is notification-controller's event server on any node.
Co-locating four Deployments instead (pod affinity) breaks as soon as one of them is rescheduled alone.

What changes against the release's four Deployments (the vendored file stays byte-for-byte the release's):
- one Deployment `flux` whose pod runs the four already-patched containers, each named after its
  controller (`resourceFieldRef`s follow the new names), the emptyDir volumes they mount once each, the
  longest grace period, `strategy: Recreate` (a surge pod would need the same host ports);
- the pod runs as `kustomize-controller`: a pod has one ServiceAccount, and the release binds that one to
  cluster-admin (flux-aio binds its single account the same way);
- the Services select the pod and name numeric target ports (port names repeat across the containers);
- source-, kustomize- and helm-controller get `--events-addr=http://localhost:9797/`.
"""

from __future__ import annotations

import copy
from typing import Any

NAME = "flux"
LABELS = {"app": NAME}
SERVICE_ACCOUNT = "kustomize-controller"
EVENTS_PORT = 9797  # notification-controller's `--events-addr=:9797` (flux_install.HOST_PORTS)
EVENTS_ADDR = f"http://localhost:{EVENTS_PORT}/"
RECEIVER_PORT = 9292
STORAGE_PORT = 9790
# the release's Services -> the port of the one pod their named target port meant
SERVICE_TARGETS = {
    "source-controller": STORAGE_PORT,
    "notification-controller": EVENTS_PORT,
    "webhook-receiver": RECEIVER_PORT,
}
EMITTERS = ("source-controller", "kustomize-controller", "helm-controller")


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    name = deployment["metadata"]["name"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    out: dict[str, Any] = copy.deepcopy(container)
    old = out["name"]
    out["name"] = name
    for env in out.get("env") or []:
        ref = (env.get("valueFrom") or {}).get("resourceFieldRef")
        if ref and ref.get("containerName") == old:
            ref["containerName"] = name
    if name in EMITTERS:
        args = [a for a in out.get("args") or [] if not str(a).startswith("--events-addr=")]
        out["args"] = [*args, f"--events-addr={EVENTS_ADDR}"]
    return out


def one_pod(deployments: list[dict[str, Any]]) -> dict[str, Any]:
    """One Deployment running the containers of these (patched) controller Deployments side by side."""
    pods = [d["spec"]["template"]["spec"] for d in deployments]
    volumes: dict[str, Any] = {}
    for pod in pods:
        for volume in pod.get("volumes") or []:
            volumes.setdefault(volume["name"], copy.deepcopy(volume))
    tolerations: list[dict[str, Any]] = []
    for pod in pods:
        tolerations += [t for t in pod.get("tolerations") or [] if t not in tolerations]
    first = pods[0]
    labels = {
        k: v for k, v in deployments[0]["metadata"].get("labels", {}).items() if k != "app.kubernetes.io/component"
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": deployments[0]["metadata"]["namespace"], "labels": labels},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": dict(LABELS)},
            "template": {
                "metadata": {"labels": dict(LABELS), "annotations": {"prometheus.io/scrape": "true"}},
                "spec": {
                    "hostNetwork": first.get("hostNetwork", False),
                    "dnsPolicy": first.get("dnsPolicy", "ClusterFirst"),
                    "nodeSelector": copy.deepcopy(first.get("nodeSelector") or {}),
                    "priorityClassName": "system-cluster-critical",
                    "securityContext": copy.deepcopy(first.get("securityContext") or {}),
                    "serviceAccountName": SERVICE_ACCOUNT,
                    "terminationGracePeriodSeconds": max(p.get("terminationGracePeriodSeconds", 30) for p in pods),
                    "tolerations": tolerations,
                    "containers": [_container(d) for d in deployments],
                    "volumes": list(volumes.values()),
                },
            },
        },
    }


def retarget_service(service: dict[str, Any]) -> dict[str, Any]:
    """A controller's Service, pointed at the one pod and at the port its controller listens on there."""
    out = copy.deepcopy(service)
    target = SERVICE_TARGETS.get(out["metadata"]["name"])
    out["spec"]["selector"] = dict(LABELS)
    if target is not None:
        for port in out["spec"].get("ports") or []:
            port["targetPort"] = target
    return out
