"""No plan bootstraps etcd that Talos or the runner's records show was bootstrapped, whatever else is seen.

What each controller says (its etcd service's state, the members listed through it, or no answer) and
what the runner recorded go through the same verdict observation uses; the planner gets its outcome.
"""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from runner.core.etcd_state import ControllerEtcd, counts_as_bootstrapped, etcd_verdict
from runner.core.planner import plan
from runner.core.state import ObservedCluster
from runner.core.steps import Kind
from tests.planner.scenario import converged, desired_for

BASE = desired_for(None)
CONVERGED = converged(BASE)
# machined's service states (events.ServiceState), and None for a controller that did not answer
STATES = ["Initialized", "Starting", "Waiting", "Preparing", "Running", "Stopping", "Finished", "Failed", "Skipped"]

controllers = st.dictionaries(
    st.sampled_from([c.ip for c in BASE.controllers]),
    st.builds(ControllerEtcd, st.sampled_from([*STATES, None]), st.one_of(st.none(), st.integers(0, 3))),
    min_size=1,
)


@given(controllers, st.booleans(), st.booleans(), st.booleans())
def test_a_bootstrap_is_planned_only_when_nothing_shows_one(
    seen: dict[str, ControllerEtcd], recorded: bool, requested: bool, kube_up: bool
) -> None:
    verdict = etcd_verdict(seen, recorded=recorded, requested=requested)
    shown = recorded or any(c.members for c in seen.values()) or any(c.service == "Running" for c in seen.values())
    if verdict == "unknown":  # observation stops (Transient): nothing is planned at all this time
        assert not shown and not requested and any(c.service is None for c in seen.values())
        return
    cluster = ObservedCluster(bootstrapped=counts_as_bootstrapped(verdict), kube_api_ready=kube_up and shown)
    steps = plan(BASE, dataclasses.replace(CONVERGED, cluster=cluster)).steps
    bootstraps = [s for s in steps if s.kind is Kind.BOOTSTRAP]
    if shown or requested:
        assert bootstraps == [], (verdict, seen)
    else:
        assert [s.params["ip"] for s in bootstraps] == [BASE.bootstrap_node.ip]
