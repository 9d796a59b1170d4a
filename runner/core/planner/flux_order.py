"""Where a Flux change goes in a plan that also moves Kubernetes: after the step that brings every node to the
Kubernetes that Flux version needs (FLUX_MINIMUM_KUBERNETES, what `flux check --pre` refuses).

The rule for any step that installs or upgrades Flux: depend on `flux_ready_after(...)` (a step id, or None
when the cluster already runs a Kubernetes that Flux accepts). Today the Flux steps also wait for
`cluster/healthy`, which comes after every Talos and Kubernetes step; this names the earliest safe point so a
Flux upgrade step can move there without breaking the rule.
"""

from __future__ import annotations

from runner.core.planner.builder import PlanBuilder, topological
from runner.core.state import Observed
from runner.core.steps import Kind
from runner.core.versions import FLUX_MINIMUM_KUBERNETES, minor_of


class FluxNotYet(ValueError):
    """The plan never reaches the Kubernetes this Flux needs (validation refuses such a spec first)."""


def flux_ready_after(builder: PlanBuilder, observed: Observed, flux_version: str) -> str | None:
    need = FLUX_MINIMUM_KUBERNETES.get(minor_of(flux_version))
    if need is None:
        raise FluxNotYet(f"Flux {flux_version} has no minimum Kubernetes version in the runner's table")
    running = [t.kubernetes_version for t in observed.talos.values() if t.stage == "running" and t.kubernetes_version]
    if not running or min(minor_of(v) for v in running) >= need:
        return None
    last: str | None = None
    reaching: str | None = None  # the first Kubernetes stop at or above `need`: its last step is the point
    for step in topological(list(builder.steps.values())):
        if step.kind is not Kind.UPGRADE_KUBERNETES:
            continue
        version = str(step.params["version"])
        if reaching is None and minor_of(version) >= need:
            reaching = version
        if reaching is not None and version != reaching:
            break
        if version == reaching:
            last = step.id
    if last is None:
        raise FluxNotYet(
            f"Flux {flux_version} needs Kubernetes v{need[0]}.{need[1]} or newer, which this plan does not reach"
        )
    return last
