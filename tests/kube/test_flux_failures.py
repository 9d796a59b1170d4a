"""Broken commits: the Kustomization that carries the problem fails with Flux's message, dependants wait."""

from __future__ import annotations

import pyrage
import pytest

from runner.core.errors import Permanent, Transient
from runner.core.secret import Secret
from runner.drivers.kube import LightkubeApi

from .conftest import SETTINGS, Lab

CILIUM = "flux/infrastructure/cni/cilium.yaml"
CONTROLLERS = "flux/infrastructure/controllers/kustomization.yaml"


def bootstrap(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    lab.join_all_nodes()
    api.install_flux(lab.repo.url, "main", "flux/clusters/home", age_key, settings=SETTINGS)
    api.wait_ready("Kustomization", "apps", timeout=30)


def test_invalid_helmrelease_fails_the_wait_with_flux_message(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    bootstrap(lab, api, age_key)
    broken = lab.repo.read(CILIUM).replace(b"      chart: cilium\n", b"")
    sha = lab.repo.commit({CILIUM: broken}, "drop the chart name")
    with pytest.raises(Permanent) as failure:
        api.wait_ready("Kustomization", "infra-cni", timeout=10)
    message = str(failure.value)
    assert "ReconciliationFailed" in message
    assert 'HelmRelease.helm.toolkit.fluxcd.io "cilium" is invalid: spec.chart.spec.chart: Required value' in message
    obj = api.get("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "infra-cni", "flux-system")
    assert obj is not None
    assert obj["status"]["lastAttemptedRevision"] == f"main@sha1:{sha}"
    assert obj["status"]["lastAppliedRevision"] != f"main@sha1:{sha}"  # the last good revision stays applied


def test_missing_file_in_kustomization_is_a_build_failure(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    lab.join_all_nodes()
    text = lab.repo.read(CONTROLLERS) + b"  - does-not-exist.yaml\n"
    lab.repo.commit({CONTROLLERS: text}, "reference a missing file")
    api.install_flux(lab.repo.url, "main", "flux/clusters/home", age_key, settings=SETTINGS)
    api.wait_ready("Kustomization", "infra-cni", timeout=30)
    with pytest.raises(Permanent, match=r"BuildFailed: .*does-not-exist.yaml: no such file or directory"):
        api.wait_ready("Kustomization", "infra-controllers", timeout=10)
    # Dependants are never reconciled: they report the dependency, and no object of theirs exists.
    configs = api.get("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "infra-configs", "flux-system")
    assert configs is not None
    assert configs["status"]["conditions"][0]["reason"] == "DependencyNotReady"
    assert "dependency 'flux-system/infra-controllers' is not ready" in configs["status"]["conditions"][0]["message"]
    assert api.get("v1", "Namespace", "podinfo") is None


def test_yaml_syntax_error_is_reported(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    lab.join_all_nodes()
    lab.repo.commit({CILIUM: lab.repo.read(CILIUM) + b"\n  values: [unclosed\n"}, "bad yaml")
    api.install_flux(lab.repo.url, "main", "flux/clusters/home", age_key, settings=SETTINGS)
    with pytest.raises(Permanent, match=r"BuildFailed: MalformedYAMLError: yaml: line \d+: .*cilium.yaml"):
        api.wait_ready("Kustomization", "infra-cni", timeout=10)
    assert not any(lab.nodes_ready().values())


def test_unknown_chart_version_is_reported_on_the_helmrelease(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    bootstrap(lab, api, age_key)
    path = "flux/apps/podinfo/release.yaml"
    lab.repo.commit({path: lab.repo.read(path).replace(b"6.7.1", b"99.0.0")}, "bump podinfo too far")
    # helm-controller keeps retrying a chart it cannot fetch, so the wait times out (Transient) with its message.
    with pytest.raises(Transient) as failure:
        api.wait_ready("HelmRelease", "podinfo", namespace="podinfo", timeout=0.3)
    assert "no 'podinfo' chart with version matching '99.0.0' found" in str(failure.value)


def test_wrong_age_key_fails_only_the_kustomization_with_secrets(lab: Lab, api: LightkubeApi) -> None:
    lab.join_all_nodes()
    other_key = Secret(str(pyrage.x25519.Identity.generate()))
    api.install_flux(lab.repo.url, "main", "flux/clusters/home", other_key, settings=SETTINGS)
    api.wait_ready("Kustomization", "infra-controllers", timeout=30)
    with pytest.raises(Permanent, match=r"infra-configs: BuildFailed: failed to get the data key"):
        api.wait_ready("Kustomization", "infra-configs", timeout=10)
    assert api.get("v1", "Secret", "cloudflare-api-token", "cert-manager") is None


def test_a_replaced_decryption_secret_is_used_once_a_reconcile_is_requested(
    lab: Lab, api: LightkubeApi, age_key: Secret
) -> None:
    lab.join_all_nodes()
    api.install_flux(
        lab.repo.url, "main", "flux/clusters/home", Secret(str(pyrage.x25519.Identity.generate())), settings=SETTINGS
    )
    api.wait_ready("Kustomization", "infra-controllers", timeout=30)
    with pytest.raises(Permanent, match=r"infra-configs: BuildFailed"):
        api.wait_ready("Kustomization", "infra-configs", timeout=10)

    # kustomize-controller does not watch the decryption Secret: the failed build waits for its retryInterval.
    api.replace_sops_secret(age_key)
    api.apply([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "nudge", "namespace": "default"}}])
    with pytest.raises(Permanent, match=r"infra-configs: BuildFailed"):
        api.wait_ready("Kustomization", "infra-configs", timeout=1)

    token = api.request_reconcile("Kustomization", "infra-configs")
    status = api.wait_ready("Kustomization", "infra-configs", timeout=10, handled=token)
    assert status.last_handled_request == token
    assert api.get("v1", "Secret", "cloudflare-api-token", "cert-manager") is not None
