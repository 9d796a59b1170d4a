"""The order of an upgrade across minors, for the PR comment: one numbered line per node and Talos stop, one
per Kubernetes stop, then what waits for them (a Flux upgrade waits for the Kubernetes it needs)."""

from __future__ import annotations

from runner.core.steps import Kind, Plan


def upgrade_order(plan: Plan) -> list[str]:
    """Numbered lines in the order the steps run; empty when the plan crosses no minor."""
    lines: list[str] = []
    seen: set[str] = set()
    for step in plan.steps:
        stage = step.params.get("stage")
        if stage is None:
            continue
        if step.kind is Kind.UPGRADE_TALOS:
            lines.append(f"Talos {step.params['version']} on {step.params['node_name']} (stage {stage})")
        elif step.kind is Kind.UPGRADE_KUBERNETES and stage not in seen:
            lines.append(
                f"Kubernetes {step.params['version']}: control plane on each controller, then each node's kubelet "
                f"(stage {stage})"
            )
        elif step.kind not in (Kind.UPGRADE_TALOS, Kind.UPGRADE_KUBERNETES) and stage not in seen:
            lines.append(f"{step.reason} (stage {stage})")
        seen.add(str(stage))
    if lines and any(s.kind is Kind.APPLY_CONFIG for s in plan.steps):
        lines.append("each node's machine config for the target Talos, once it runs that Talos")
    return [f"{i}. {line}" for i, line in enumerate(lines, 1)]
