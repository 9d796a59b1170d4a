"""After the hand-off, a broken HelmRelease pushed to flux/ fails the run with Flux's own message."""

from __future__ import annotations

import pytest

from runner.cli.lab.session import LabSession

from .labkit import describe

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("flux-failure")]
RELEASE = "flux/apps/podinfo/release.yaml"


def test_a_broken_helmrelease_fails_the_run_with_fluxs_message(home: tuple[LabSession, dict]) -> None:
    session, _ = home
    text = (session.clone / RELEASE).read_text()
    broken = text.replace("spec:\n", "spec:\n  notAField: [unclosed\n", 1)
    commit = session.commit({RELEASE: broken}, "break podinfo's HelmRelease")
    session.push()
    run = session.wait_for_run(commit, timeout=150)
    assert run["result"] == "failure", describe(run)
    error = run["error"] or ""
    assert "Kustomization" in error and "apps" in error, error
    assert session.store.get("home").handoff_at is not None  # the hand-off stands; Flux owns the fix
