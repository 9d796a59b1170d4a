"""After the hand-off the runner never writes what Flux owns; re-installing Flux changes nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest

from runner.core.errors import Permanent
from runner.core.secret import Secret
from runner.drivers.kube import LightkubeApi

from .conftest import Lab


def resource_versions(lab: Lab) -> dict[tuple[str, ...], str]:
    out = {}
    for rt in lab.twin.catalog.all():
        for obj in lab.twin.store.list(rt, None):
            meta = obj["metadata"]
            out[(rt.plural, meta.get("namespace", ""), meta["name"])] = meta["resourceVersion"]
    return out


@pytest.fixture
def handed_off(lab: Lab, api: LightkubeApi, age_key: Secret) -> Lab:
    lab.join_all_nodes()
    api.install_flux(lab.repo.url, "main", "flux/clusters/home", age_key)
    api.wait_ready("Kustomization", "apps", timeout=30)
    return lab


def test_reapplying_flux_is_a_no_op(handed_off: Lab, api: LightkubeApi, age_key: Secret) -> None:
    # Pods still starting change their own status; wait until the cluster moves only when written to.
    deadline = time.monotonic() + 30
    while not handed_off.twin.pods.settled() and time.monotonic() < deadline:
        time.sleep(0.1)
        handed_off.twin.reconcile()
    before = resource_versions(handed_off)
    revision = handed_off.twin.store.revision
    api.install_flux(handed_off.repo.url, "main", "flux/clusters/home", age_key, handoff=True)
    api.wait_ready("Kustomization", "apps", timeout=5)
    assert resource_versions(handed_off) == before
    assert handed_off.twin.store.revision == revision


def test_flux_owned_objects_are_refused_after_handoff(handed_off: Lab, api: LightkubeApi) -> None:
    live = api.get("v1", "Secret", "cloudflare-api-token", "cert-manager")
    assert live is not None
    rv = live["metadata"]["resourceVersion"]
    change: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "cloudflare-api-token", "namespace": "cert-manager"},
        "stringData": {"api-token": "overwritten"},
    }
    with pytest.raises(
        Permanent, match=r"refusing to write Secret cert-manager/cloudflare-api-token: .*'infra-configs'"
    ):
        api.apply([change], handoff=True)
    after = api.get("v1", "Secret", "cloudflare-api-token", "cert-manager")
    assert after is not None and after["metadata"]["resourceVersion"] == rv


def test_objects_labelled_for_flux_are_refused_even_when_new(handed_off: Lab, api: LightkubeApi) -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "new", "namespace": "default", "labels": {"kustomize.toolkit.fluxcd.io/name": "apps"}},
    }
    with pytest.raises(Permanent, match="owned by Flux"):
        api.apply([obj], handoff=True)
    assert api.get("v1", "ConfigMap", "new", "default") is None


def test_objects_flux_does_not_own_can_still_be_written(handed_off: Lab, api: LightkubeApi) -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "runner-state", "namespace": "kube-system"},
        "data": {"handoff": "done"},
    }
    [written] = api.apply([obj], handoff=True)
    assert written["data"] == {"handoff": "done"}
