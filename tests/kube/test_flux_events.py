"""Flux events reach notification-controller, and an Alert reaches its Provider, before the CNI and after it.

The controllers post each event to their `--events-addr` from their own pod: the twin delivers it only where
that pod's request would land (its DNS policy's resolver, localhost = its own network namespace)."""

from __future__ import annotations

from pathlib import Path

from runner.core.secret import Secret
from runner.drivers.kube import LightkubeApi
from tests.polling import poll_until
from tests.webhook_sink import Sink, webhook_sink

from .conftest import SETTINGS, Lab

ALERT = Path(__file__).parents[1] / "data" / "flux-alert.yaml"
ROOT = "flux/clusters/home"


def add_alert(lab: Lab, address: str) -> None:
    kustomization = lab.repo.read(f"{ROOT}/kustomization.yaml").decode() + "  - alert.yaml\n"
    alert = ALERT.read_text().replace("ADDRESS", address).encode()
    lab.repo.commit({f"{ROOT}/alert.yaml": alert, f"{ROOT}/kustomization.yaml": kustomization.encode()}, "alert")


def arrived(sink: Sink, kind: str, name: str) -> dict[str, object] | None:
    return next(
        (b for b in sink.bodies() if b["involvedObject"] == {**b["involvedObject"], "kind": kind, "name": name}),
        None,
    )


def test_an_alert_reaches_its_provider_before_and_after_the_cni(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    with webhook_sink() as sink:
        add_alert(lab, sink.url)
        lab.join_all_nodes()
        api.install_flux(lab.repo.url, "main", ROOT, age_key, settings=SETTINGS)
        api.wait_ready("Kustomization", "apps", timeout=30)
        assert lab.twin.notifications.lost == [], lab.twin.notifications.lost[:3]
        root = poll_until(
            lambda: arrived(sink, "Kustomization", "flux-system"), "the root's event", timeout=10, interval=0.05
        )
        apps = poll_until(lambda: arrived(sink, "Kustomization", "apps"), "the apps event", timeout=10, interval=0.05)
    received = lab.twin.notifications.received
    before_cni = [e for e in received if not e["cni_ready"]]
    assert ("Kustomization", "flux-system") in {
        (e["involvedObject"]["kind"], e["involvedObject"]["name"]) for e in before_cni
    }
    assert any(e["cni_ready"] and e["involvedObject"]["name"] == "apps" for e in received)
    assert root["severity"] == "info" and root["reportingController"] == "kustomize-controller"
    assert apps["metadata"] == {"revision": f"main@sha1:{lab.repo.head()}", "summary": "lab cluster"}
    # notification-controller names the controller that reported each event in its gotk-component header;
    # which controller reports first depends on scheduling, so every delivery is checked, not the first.
    assert sink.received and all(
        r["headers"]["gotk-component"] == r["body"]["reportingController"] for r in sink.received
    ), [(r["headers"]["gotk-component"], r["body"]["reportingController"]) for r in sink.received]
