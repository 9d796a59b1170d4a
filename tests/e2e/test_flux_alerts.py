"""A lab run in which Flux's notification route works: the operator's repo carries a Provider and an Alert
pointing at a local endpoint, the first push bootstraps the cluster, and Flux's events arrive there, from
before the CNI runs and after it (the controllers reach notification-controller on localhost, flux_pod)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from runner.cli.lab.session import LabSession
from tests.webhook_sink import webhook_sink

from .labkit import describe, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("flux-alerts")]
ALERT = Path(__file__).parents[1] / "data" / "flux-alert.yaml"
ROOT = "flux/clusters/home"


def test_a_flux_alert_reaches_a_local_provider_in_a_lab_run(make_lab: Callable[..., LabSession]) -> None:
    session = make_lab()
    with webhook_sink() as sink:
        session.seed_clone()
        kustomization = (session.clone / ROOT / "kustomization.yaml").read_text() + "  - alert.yaml\n"
        alert = ALERT.read_text().replace("ADDRESS", sink.url)
        session.commit({f"{ROOT}/alert.yaml": alert, f"{ROOT}/kustomization.yaml": kustomization}, "Route Flux alerts")
        run = session.wait_for_run(session.push(), timeout=150)
        assert run["result"] == "success", describe(run)

        def arrived(name: str) -> bool:
            return any(b["involvedObject"]["name"] == name for b in sink.bodies())

        wait_until(lambda: arrived("apps"), "the apps Kustomization's event at the provider", timeout=30)
    notifications = session.world.kube_twin.notifications
    assert notifications.lost == [], notifications.lost[:3]
    names = {(b["involvedObject"]["kind"], b["involvedObject"]["name"]) for b in sink.bodies()}
    # (the GitRepository's one event, its first artifact, came before the root Kustomization made the Alert)
    assert {("Kustomization", "flux-system"), ("HelmRelease", "cilium"), ("Kustomization", "apps")} <= names
    assert any(not e["cni_ready"] for e in notifications.received), "no event was delivered before the CNI ran"
    assert all(b["metadata"]["summary"] == "lab cluster" for b in sink.bodies())
