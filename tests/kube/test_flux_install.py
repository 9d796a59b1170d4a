"""The vendored Flux manifest: integrity check and the patches that let it run before the CNI."""

from __future__ import annotations

import hashlib
from importlib import resources

import pyrage
import pytest

from runner.core.errors import Permanent
from runner.core.secret import Secret
from runner.drivers.kube import flux_install

RAW = resources.files("runner.drivers.kube").joinpath("data", "gotk-components.yaml").read_bytes()


def test_vendored_manifest_matches_its_note() -> None:
    assert hashlib.sha256(RAW).hexdigest() == flux_install.recorded("sha256")
    assert b"# Flux Version: " + flux_install.flux_version().encode() in RAW


def test_a_modified_manifest_is_refused() -> None:
    with pytest.raises(Permanent, match="does not match the recorded"):
        flux_install.check_digest(RAW.replace(b"replicas: 1", b"replicas: 2", 1), flux_install.recorded("sha256"))


def test_controllers_are_patched_to_run_before_the_cni() -> None:
    (deployment,) = [d for d in flux_install.patched_components() if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    assert {c["name"] for c in pod["containers"]} == set(flux_install.HOST_PORTS)
    assert pod["hostNetwork"] is True
    assert pod["dnsPolicy"] == "Default"
    keys = {t["key"] for t in pod["tolerations"]}
    assert {
        "node.kubernetes.io/not-ready",
        "node.cloudprovider.kubernetes.io/uninitialized",
        "node-role.kubernetes.io/control-plane",
    } <= keys
    host_ports: list[int] = []
    for container in pod["containers"]:
        host_ports += [p["containerPort"] for p in container["ports"]]
        flags = [a.split("=")[0] for a in container["args"]]
        assert len(flags) == len(set(flags)), "a flag is given twice"
    assert len(host_ports) == len(set(host_ports)), "controllers on the host network must not share ports"


def test_every_controller_posts_its_events_to_notification_controller_in_the_same_pod() -> None:
    (deployment,) = [d for d in flux_install.patched_components() if d["kind"] == "Deployment"]
    containers = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}
    listen = {a for a in containers["notification-controller"]["args"] if a.startswith("--events-addr=")}
    assert listen == {"--events-addr=:9797"}
    for name in ("source-controller", "kustomize-controller", "helm-controller"):
        assert "--events-addr=http://localhost:9797/" in containers[name]["args"]
    volumes = {v["name"] for v in deployment["spec"]["template"]["spec"]["volumes"]}
    for container in containers.values():
        assert {m["name"] for m in container["volumeMounts"]} <= volumes
        refs = [
            e["valueFrom"]["resourceFieldRef"] for e in container["env"] if "resourceFieldRef" in e.get("valueFrom", {})
        ]
        assert all(r["containerName"] == container["name"] for r in refs)


def test_the_services_reach_the_one_pod() -> None:
    components = flux_install.patched_components()
    (deployment,) = [d for d in components if d["kind"] == "Deployment"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    ports = {p["containerPort"] for c in deployment["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
    for service in (o for o in components if o["kind"] == "Service"):
        assert service["spec"]["selector"].items() <= pod_labels.items()
        assert all(p["targetPort"] in ports for p in service["spec"]["ports"])


def test_the_patch_does_not_touch_the_original_objects() -> None:
    original = flux_install.vendored_components()
    flux_install.patched_components()
    assert all("hostNetwork" not in d["spec"]["template"]["spec"] for d in original if d["kind"] == "Deployment")


def test_sync_objects_point_flux_at_the_cluster_path() -> None:
    identity = pyrage.x25519.Identity.generate()
    objs = flux_install.sync_objects(
        "ssh://git@example.org/c.git",
        "main",
        "flux/clusters/home",
        Secret(str(identity)),
        {"username": "git", "password": Secret("pw")},
    )
    by_kind = {(o["kind"], o["metadata"]["name"]): o for o in objs}
    ks = by_kind[("Kustomization", "flux-system")]
    assert ks["spec"]["path"] == "./flux/clusters/home"
    assert ks["spec"]["decryption"] == {"provider": "sops", "secretRef": {"name": "sops-age"}}
    repo = by_kind[("GitRepository", "flux-system")]
    assert repo["spec"]["ref"] == {"branch": "main"} and repo["spec"]["secretRef"] == {"name": "flux-system"}
    sops_age = by_kind[("Secret", "sops-age")]
    assert "age.agekey" in sops_age["data"]
    # Which key the cluster holds is readable without its private half: the public recipient.
    assert sops_age["metadata"]["annotations"] == {"runner.dev/flux-age-recipient": str(identity.to_public())}
    assert "AGE-SECRET-KEY" not in repr(objs) and "pw" not in str(by_kind[("Secret", "flux-system")]["data"])
