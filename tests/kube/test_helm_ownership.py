"""Helm's ownership of what a chart renders: the Cilium chart's agent DaemonSet carries its release's metadata, and
an object another release owns fails the install (helm pkg/action/validate.go existingResourceConflict)."""

from __future__ import annotations

from typing import Any

from runner.core.secret import Secret
from runner.drivers.kube import LightkubeApi
from runner.lab.kube.charts import cilium_agent
from tests.helm_cli import client, helm_install

from .conftest import SETTINGS, Lab


def _install(api: LightkubeApi, lab: Lab, age_key: Secret) -> None:
    lab.join_all_nodes()
    api.install_flux(lab.repo.url, "main", "flux/clusters/home", age_key, settings=SETTINGS)


def _cilium_ready(api: LightkubeApi, lab: Lab) -> dict[str, Any]:
    release: dict[str, Any] | None = None
    for _ in range(200):
        lab.twin.reconcile()
        release = api.get("helm.toolkit.fluxcd.io/v2", "HelmRelease", "cilium", "flux-system")
        ready = [c for c in ((release or {}).get("status") or {}).get("conditions") or [] if c["type"] == "Ready"]
        if ready and ready[0]["status"] in ("True", "False"):
            return dict(ready[0])
    raise AssertionError(f"the cilium HelmRelease never settled: {release}")


def test_the_cilium_release_renders_its_agent_daemonset_with_helms_ownership(
    lab: Lab, api: LightkubeApi, age_key: Secret
) -> None:
    _install(api, lab, age_key)
    assert _cilium_ready(api, lab)["reason"] == "InstallSucceeded"
    agent = api.get("apps/v1", "DaemonSet", "cilium", "kube-system")
    assert agent is not None
    assert agent["metadata"]["labels"] == {
        "k8s-app": "cilium",
        "app.kubernetes.io/part-of": "cilium",
        "app.kubernetes.io/name": "cilium-agent",
        "helm.sh/chart": "cilium-1.20.0",
        "app.kubernetes.io/managed-by": "Helm",
    }
    assert agent["metadata"]["annotations"] == {
        "meta.helm.sh/release-name": "cilium",
        "meta.helm.sh/release-namespace": "kube-system",
    }
    lab.twin.reconcile()
    agent = api.get("apps/v1", "DaemonSet", "cilium", "kube-system")
    assert agent is not None
    # one agent on each of the five nodes, control planes included (it tolerates every taint)
    assert (agent["status"]["desiredNumberScheduled"], agent["status"]["numberReady"]) == (5, 5)


def test_a_daemonset_another_release_owns_fails_the_install(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    """`helm install cilium-old cilium/cilium -n kube-system` ran first: Flux's release `cilium` must not take its
    objects."""
    helm = client(lab.kubeconfig.reveal(), lab.running.url)
    helm_install(
        helm, "cilium-old", "kube-system", "cilium", "1.16.5", {}, [cilium_agent("1.16.5", "kube-system", "cilium-old")]
    )
    _install(api, lab, age_key)
    ready = _cilium_ready(api, lab)
    assert (ready["status"], ready["reason"]) == ("False", "InstallFailed")
    assert ready["message"] == (
        "Helm install failed for release kube-system/cilium with chart cilium@1.20.0: Unable to continue with "
        'install: DaemonSet "cilium" in namespace "kube-system" exists and cannot be imported into the current '
        'release: invalid ownership metadata; annotation validation error: key "meta.helm.sh/release-name" must '
        'equal "cilium": current value is "cilium-old"'
    )
    agent = api.get("apps/v1", "DaemonSet", "cilium", "kube-system")
    assert agent is not None and agent["metadata"]["annotations"]["meta.helm.sh/release-name"] == "cilium-old"
