"""Scenario files: edits to the reference spec and to a converged observed state, and the plan expected."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from runner.core.derive import Desired, derive
from runner.core.planner import plan
from runner.core.simulate import apply_plan
from runner.core.spec import Cluster
from runner.core.state import MANAGED_TAG, Observed, ObservedTalosNode, ObservedVm
from runner.core.steps import Plan
from runner.core.vmdiff import GIB, MIB

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "clusters/home/cluster.yaml"
# the reference cluster as pinned at Talos v1.11.2 / Kubernetes v1.32.1: where the upgrades across minors start
REFERENCE_V1_11 = ROOT / "tests/data/home-talos-v1.11.yaml"
FLUX = "v2.test"


def reference_data(reference: Path = REFERENCE) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(reference.read_text())
    return data


def edited_cluster(edits: dict[str, Any] | None, reference: Path = REFERENCE) -> Cluster:
    data = reference_data(reference)
    # Deletions last, so other edits may name the element that is being removed.
    for dotted, value in sorted((edits or {}).items(), key=lambda kv: kv[1] == "<delete>"):
        *parents, last = dotted.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value == "<delete>":
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value
    return Cluster.model_validate(data)


def with_config_hashes(desired: Desired, salt: str = "") -> Desired:
    """Stand-in machine-config hashes: the planner only compares them."""
    nodes = tuple(dataclasses.replace(n, config_hash=f"cfg-{n.name}{salt}") for n in desired.nodes)
    return dataclasses.replace(desired, nodes=nodes)


def desired_for(edits: dict[str, Any] | None, reference: Path = REFERENCE) -> Desired:
    return with_config_hashes(derive(edited_cluster(edits, reference), flux_version=FLUX))


def converged(desired: Desired) -> Observed:
    return apply_plan(Observed(), desired, plan(desired, Observed()))


def edit_observed(observed: Observed, edits: list[dict[str, Any]]) -> Observed:
    vms = dict(observed.vms)
    talos = dict(observed.talos)
    for edit in edits:
        edit = dict(edit)
        if "vm" in edit:
            vmid = edit.pop("vm")
            current = vms.get(vmid) or ObservedVm(vmid, "x", "atlas", "running", frozenset({MANAGED_TAG}))
            if edit.pop("delete", False):
                vms.pop(vmid, None)
                continue
            changes: dict[str, Any] = {}
            if "maxmem_mib" in edit:
                changes["maxmem"] = edit.pop("maxmem_mib") * MIB
            if "maxdisk_gib" in edit:
                changes["maxdisk"] = edit.pop("maxdisk_gib") * GIB
            if "tags" in edit:
                changes["tags"] = frozenset(edit.pop("tags"))
            changes.update(edit)
            vms[vmid] = dataclasses.replace(current, **changes)
        elif "cordoned" in edit:  # nodes an earlier run cordoned and never uncordoned
            cluster = dataclasses.replace(observed.cluster, cordoned=frozenset(edit.pop("cordoned")))
            observed = dataclasses.replace(observed, cluster=cluster)
        elif "cluster" in edit:  # cluster-wide facts, e.g. {cluster: {adopted: true}}
            cluster = dataclasses.replace(observed.cluster, **edit.pop("cluster"))
            observed = dataclasses.replace(observed, cluster=cluster)
        elif "talos" in edit:
            name = edit.pop("talos")
            current_t = talos.get(name) or ObservedTalosNode(name, "", "unreachable")
            talos[name] = dataclasses.replace(current_t, **edit)
    return dataclasses.replace(observed, vms=vms, talos=talos)


def load_scenario(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(path.read_text())
    return data


def run_scenario(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    desired = desired_for(data.get("spec"))
    base = Observed() if data.get("observed", "converged") == "empty" else converged(desired_for(data.get("base_spec")))
    observed = edit_observed(base, data.get("observed_edits") or [])
    return desired, observed, plan(desired, observed)


def step_line(step) -> str:  # type: ignore[no-untyped-def]
    return f"{step.kind.value} {step.target}" + (" disruptive" if step.disruptive else "")


def ancestors(plan: Plan, step_id: str) -> set[str]:
    """Every step `step_id` waits for, directly or through others."""
    seen: set[str] = set()
    todo = list(plan.step(step_id).depends_on)
    while todo:
        dep = todo.pop()
        if dep not in seen:
            seen.add(dep)
            todo.extend(plan.step(dep).depends_on)
    return seen
