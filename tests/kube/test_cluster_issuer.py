"""The Let's Encrypt ClusterIssuer: cert-manager registers its ACME account with the contact from cluster.yaml,
Let's Encrypt refuses the contacts boulder refuses, and the issuer's readiness is what the hand-off waits for."""

from __future__ import annotations

from typing import Any

from runner.core.secret import Secret
from runner.drivers.kube import LightkubeApi

from .conftest import SETTINGS, Lab

FORBIDDEN = (
    "Failed to register ACME account: 400 urn:ietf:params:acme:error:invalidContact: "
    'Error validating contact(s) :: contact email has forbidden domain "example.org"'
)


def _handed_off(lab: Lab, api: LightkubeApi, age_key: Secret, **settings: str) -> None:
    lab.join_all_nodes()
    api.install_flux(lab.repo.url, "main", "flux/clusters/home", age_key, settings={**SETTINGS, **settings})
    api.wait_ready("Kustomization", "infra-controllers", timeout=30)
    lab.twin.reconcile()  # infra-configs applies the ClusterIssuer, cert-manager registers its account


def _ready(obj: dict[str, Any] | None) -> tuple[str, str, str]:
    assert obj is not None
    ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    return ready["status"], ready["reason"], ready["message"]


def test_the_reference_cluster_issuer_registers_its_account(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    _handed_off(lab, api, age_key)
    issuer = api.get("cert-manager.io/v1", "ClusterIssuer", "letsencrypt")
    assert _ready(issuer) == ("True", "ACMEAccountRegistered", "The ACME account was registered with the ACME server")
    assert issuer is not None and issuer["status"]["acme"]["lastRegisteredEmail"] == SETTINGS["acme_email"]
    assert [(s.name, s.verdict) for s in api.cluster_issuers_status()] == [("letsencrypt", "ready")]
    api.wait_ready("Kustomization", "apps", timeout=30)


def test_a_forbidden_contact_leaves_the_issuer_not_ready_for_good(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    _handed_off(lab, api, age_key, acme_email="Admin@Example.org")  # cert-manager lower-cases it
    issuer = api.get("cert-manager.io/v1", "ClusterIssuer", "letsencrypt")
    assert _ready(issuer) == ("False", "ErrRegisterACMEAccount", FORBIDDEN)
    lab.twin.reconcile()  # a 4xx is not retried: nothing changes until the spec does
    assert api.get("cert-manager.io/v1", "ClusterIssuer", "letsencrypt") == issuer
    [status] = api.cluster_issuers_status()
    assert (status.verdict, status.reason, status.message) == ("failed", "ErrRegisterACMEAccount", FORBIDDEN)


def test_flux_passes_an_issuer_before_cert_manager_judged_it_and_holds_back_once_it_did(
    lab: Lab, api: LightkubeApi, age_key: Secret
) -> None:
    """kstatus calls an object without conditions Current, so infra-configs was Ready for a moment (the race the
    runner's own issuer check closes); its next health check sees Ready=False and holds everything after it back."""
    _handed_off(lab, api, age_key, acme_email="admin@example.org")
    events = lab.twin.events
    ready_at = events.index("Kustomization/flux-system/infra-configs Ready")
    assert ready_at < events.index("ClusterIssuer/letsencrypt ErrRegisterACMEAccount")
    infra = api.get("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "infra-configs", "flux-system")
    assert _ready(infra)[:2] == ("Unknown", "Progressing")
    apps = api.get("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "apps", "flux-system")
    assert _ready(apps)[:2] == ("False", "DependencyNotReady")


def test_a_new_contact_is_registered_as_an_account_update(lab: Lab, api: LightkubeApi, age_key: Secret) -> None:
    _handed_off(lab, api, age_key)
    rt = lab.twin.catalog.by_kind("v1", "ConfigMap")
    assert rt is not None  # a new contact reaches the issuer the way the runner sends it: cluster-settings
    lab.twin.store.merge_patch(rt, "flux-system", "cluster-settings", {"data": {"acme_email": "ops@localhost"}}, "t")
    lab.twin.reconcile()
    status, reason, message = _ready(api.get("cert-manager.io/v1", "ClusterIssuer", "letsencrypt"))
    assert (status, reason) == ("False", "ErrUpdateACMEAccount")
    assert message == (
        "Failed to update ACME account:400 urn:ietf:params:acme:error:invalidContact: Error validating contact(s) :: "
        "contact email has invalid domain: Domain name needs at least one dot"
    )
