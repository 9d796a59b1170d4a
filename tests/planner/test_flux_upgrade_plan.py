"""A Flux upgrade in the plan: after every Kubernetes step of the same plan (the new release's minimum
Kubernetes is met first), then the wait for Flux; never a downgrade."""

from __future__ import annotations

import copy
import dataclasses

from runner.core.planner import plan
from runner.core.simulate import apply_plan
from runner.core.steps import Kind
from runner.core.versions import flux_release_for
from tests.planner.scenario import REFERENCE_V1_11, converged, desired_for

RELEASES = ("v2.3.0", "v2.9.0")


def _handed_off_at_v23() -> tuple[object, object]:
    # the reference cluster as pinned at Kubernetes v1.32.1, where Flux v2.3.0 was handed off
    before = dataclasses.replace(desired_for(None, REFERENCE_V1_11), flux_version="v2.3.0")
    return before, converged(before)


def test_the_release_follows_the_clusters_kubernetes() -> None:
    assert flux_release_for("v1.32.1", RELEASES) == "v2.3.0"
    assert flux_release_for("v1.33.0", RELEASES) == "v2.9.0"
    assert flux_release_for("v1.36.2", RELEASES) == "v2.9.0"
    assert flux_release_for("v1.27.9", RELEASES) is None


def test_kubernetes_and_flux_move_together_in_a_supported_order() -> None:
    _, observed = _handed_off_at_v23()
    desired = dataclasses.replace(
        desired_for({"kubernetes.version": "v1.33.2"}, REFERENCE_V1_11), flux_version="v2.9.0"
    )
    result = plan(desired, observed)
    ids = [s.id for s in result.steps]
    (upgrade,) = [s for s in result.steps if s.kind is Kind.UPGRADE_FLUX]
    assert not [s for s in result.steps if s.kind is Kind.INSTALL_FLUX]
    assert upgrade.id == "flux/upgrade"
    assert upgrade.params == {"version": "v2.9.0", "previous": "v2.3.0", "path": "flux/clusters/home"}
    kubernetes = [s.id for s in result.steps if s.kind in (Kind.UPGRADE_KUBERNETES, Kind.SYNC_MANIFESTS)]
    assert kubernetes and set(kubernetes) <= set(upgrade.depends_on)
    assert max(ids.index(k) for k in kubernetes) < ids.index("flux/upgrade") < ids.index("flux/ready")
    assert "flux/upgrade" in next(s for s in result.steps if s.id == "flux/ready").depends_on
    assert plan(desired, apply_plan(copy.deepcopy(observed), desired, result)).empty


def test_a_flux_only_upgrade_plans_the_upgrade_and_the_wait() -> None:
    before, observed = _handed_off_at_v23()
    desired = dataclasses.replace(before, flux_version="v2.9.0")
    assert [s.id for s in plan(desired, observed).steps] == ["flux/upgrade", "flux/ready"]


def test_a_newer_running_flux_is_never_downgraded() -> None:
    before, _ = _handed_off_at_v23()
    newer = dataclasses.replace(before, flux_version="v2.9.0")
    assert plan(before, converged(newer)).empty
