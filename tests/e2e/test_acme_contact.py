"""The hand-off waits for the Let's Encrypt ClusterIssuer too: a contact Let's Encrypt refuses (one written into
flux/ by hand, past `runner validate`) fails the run with cert-manager's own message, not a health-check timeout."""

from __future__ import annotations

import pytest

from runner.cli.lab.session import LabSession

from .labkit import describe, run_details

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("acme-contact")]
ISSUER = "flux/infrastructure/configs/cluster-issuer.yaml"


def test_a_refused_acme_contact_fails_the_run_with_cert_managers_message(home: tuple[LabSession, dict]) -> None:
    session, run = home
    ready = next(s for s in run_details(session, run)["steps"] if s["step_id"] == "flux/ready")
    assert ready["message"].endswith("; ClusterIssuers Ready: letsencrypt"), ready["message"]

    text = (session.clone / ISSUER).read_text()
    commit = session.commit({ISSUER: text.replace('"${acme_email}"', "admin@example.org")}, "hard-code a contact")
    session.push()
    failed = session.wait_for_run(commit, timeout=150)
    assert failed["result"] == "failure", describe(failed)
    assert (
        # the account exists since the bootstrap: cert-manager updates its contact, and Let's Encrypt refuses that
        "ClusterIssuer letsencrypt: ErrUpdateACMEAccount: Failed to update ACME account:400 "
        "urn:ietf:params:acme:error:invalidContact: Error validating contact(s) :: "
        'contact email has forbidden domain "example.org"'
    ) in (failed["error"] or ""), describe(failed)
