"""What a plan changes, in a reviewer's words: each step's changes labelled by what they change, and a one-line
outline of the whole plan ("+5 VMs, 5 configs, bootstrap"), as Terraform's "Plan: 5 to add" line is for it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from runner.core.steps import Kind, Plan, Step

# What a step's `changes` describe: update_vm carries VM fields {field: [old, new]}, apply_config diff lines.
LABELS = {Kind.UPDATE_VM: "VM settings", Kind.APPLY_CONFIG: "machine config"}
FIELD_NAMES = {"tags": "spec tag"}  # the only tag the runner changes is the digest of the VM's spec


def change_label(step: Step) -> str:
    return LABELS.get(step.kind, step.kind.value)


def change_lines(step: Step) -> list[str]:
    changes = step.params.get("changes") or []
    if isinstance(changes, dict):
        return [f"{FIELD_NAMES.get(name, name)}: {old} → {new}" for name, (old, new) in changes.items()]
    return [str(c) for c in changes]


def _n(word: str, plural: str | None = None) -> Callable[[int], str]:
    return lambda n: f"{n} {word if n == 1 else plural or word + 's'}"


# The steps a reader counts, in the order they happen; supporting steps (images, starts of new VMs, waits,
# uncordons, endpoint moves per node) are what these imply and stay out of the outline.
_OUTLINE: list[tuple[Kind, Callable[[int], str]]] = [
    (Kind.CREATE_VM, lambda n: f"+{_n('VM')(n)}"),
    (Kind.UPDATE_VM, lambda n: f"~{_n('VM')(n)}"),
    (Kind.START_VM, _n("VM start")),
    (Kind.REBOOT_VM, _n("VM reboot")),
    (Kind.DELETE_VM, lambda n: f"-{_n('VM')(n)}"),
    (Kind.APPLY_CONFIG, _n("config")),
    (Kind.UPGRADE_TALOS, _n("Talos upgrade")),
    (Kind.ETCD_LEAVE, lambda n: f"-{_n('etcd member')(n)}"),
    (Kind.UPGRADE_KUBERNETES, lambda n: "Kubernetes upgrade"),
    (Kind.BOOTSTRAP, lambda n: "bootstrap"),
    (Kind.INSTALL_FLUX, lambda n: "Flux install"),
    (Kind.UPGRADE_FLUX, lambda n: "Flux upgrade"),
    (Kind.REPLACE_FLUX_KEY, lambda n: "Flux key rotation"),
    (Kind.APPLY_FLUX_SETTINGS, lambda n: "Flux settings"),
    (Kind.SWITCH_ENDPOINT, lambda n: "endpoint to the VIP"),
    (Kind.DRAIN_NODE, _n("drain")),
    (Kind.ETCD_SNAPSHOT, lambda n: "etcd snapshot"),
]


def outline(plan: Plan) -> str:
    created = {s.target for s in plan.steps if s.kind is Kind.CREATE_VM}
    counts = Counter(s.kind for s in plan.steps if not (s.kind is Kind.START_VM and s.target in created))
    return ", ".join(say(counts[kind]) for kind, say in _OUTLINE if counts[kind]) or summary_of_count(plan)


def summary_of_count(plan: Plan) -> str:
    n = len(plan.steps)
    return f"{n} step{'s' if n != 1 else ''}"
