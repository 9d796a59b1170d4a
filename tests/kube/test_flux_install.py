"""The vendored Flux manifest: integrity check and the patches that let it run before the CNI."""

from __future__ import annotations

import hashlib
from importlib import resources

import pyrage
import pytest

from runner.core.errors import Permanent
from runner.core.secret import Secret
from runner.drivers.kube import flux_install

VERSIONS = ("v2.3.0", "v2.9.0")


def raw(version: str) -> bytes:
    return resources.files("runner.drivers.kube").joinpath("data", version, "gotk-components.yaml").read_bytes()


def test_the_vendored_releases_are_the_two_the_runner_installs() -> None:
    assert flux_install.vendored_versions() == VERSIONS
    assert flux_install.flux_version() == "v2.9.0"


@pytest.mark.parametrize("version", VERSIONS)
def test_vendored_manifest_matches_its_note(version: str) -> None:
    assert hashlib.sha256(raw(version)).hexdigest() == flux_install.recorded("sha256", version)
    assert b"# Flux Version: " + version.encode() + b"\n" in raw(version)
    assert flux_install.recorded("version", version) == version


@pytest.mark.parametrize("version", VERSIONS)
def test_a_modified_manifest_is_refused(version: str) -> None:
    with pytest.raises(Permanent, match="does not match the recorded"):
        flux_install.check_digest(
            raw(version).replace(b"replicas: 1", b"replicas: 2", 1), flux_install.recorded("sha256", version)
        )


def test_a_release_that_is_not_vendored_is_refused() -> None:
    with pytest.raises(Permanent, match=r"Flux v2\.8\.0 is not vendored \(vendored: v2\.3\.0, v2\.9\.0\)"):
        flux_install.vendored_components("v2.8.0")


@pytest.mark.parametrize("version", VERSIONS)
def test_controllers_are_patched_to_run_before_the_cni(version: str) -> None:
    (deployment,) = [d for d in flux_install.patched_components(version) if d["kind"] == "Deployment"]
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


@pytest.mark.parametrize("version", VERSIONS)
def test_every_controller_posts_its_events_to_notification_controller_in_the_same_pod(version: str) -> None:
    (deployment,) = [d for d in flux_install.patched_components(version) if d["kind"] == "Deployment"]
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


@pytest.mark.parametrize("version", VERSIONS)
def test_the_services_reach_the_one_pod(version: str) -> None:
    components = flux_install.patched_components(version)
    (deployment,) = [d for d in components if d["kind"] == "Deployment"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    ports = {p["containerPort"] for c in deployment["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
    for service in (o for o in components if o["kind"] == "Service"):
        assert service["spec"]["selector"].items() <= pod_labels.items()
        assert all(p["targetPort"] in ports for p in service["spec"]["ports"])


@pytest.mark.parametrize("version", VERSIONS)
def test_the_patch_does_not_touch_the_original_objects(version: str) -> None:
    original = flux_install.vendored_components(version)
    flux_install.patched_components(version)
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
