"""The main story on one lab: a first push bootstraps the cluster to the Flux hand-off; later pushes change it,
cost nothing when nothing changed, and an invalid spec is refused without touching anything."""

from __future__ import annotations

import re

import pytest

from runner.cli.lab.session import LabSession

from .labkit import (
    CLUSTER_YAML,
    EXPECTED_ENDPOINT,
    Home,
    describe,
    etcd_member_ips,
    kustomizations_ready,
    last_run_id,
    load_data,
    managed_vms,
    plan_steps,
    proxmox_writes,
    queue_empty,
    ready_kube_nodes,
    request_run,
    run_details,
    runs,
    set_node_fields,
    talos_phases,
    wait_until,
)
from .leaks import leaks

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("bootstrap-story")]

NODES = {"talos-cp-01", "talos-cp-02", "talos-cp-03", "talos-worker-01", "talos-worker-02"}
CONTROLLER_IPS = {"10.0.0.11", "10.0.0.12", "10.0.0.13"}


def forge_states(session: LabSession, commit: str) -> list[str]:
    return [s.state for s in session.world.forge_state.statuses_for(session.settings.full_name, commit)]


def test_a_first_push_bootstraps_the_cluster_and_hands_off_to_flux(home: Home) -> None:
    session, run = home
    details = run_details(session, run)
    planned = plan_steps(run)
    assert {s["step_id"] for s in details["steps"]} == {s["id"] for s in planned}
    assert all(s["status"] == "succeeded" for s in details["steps"]), details["steps"]
    assert forge_states(session, run["commit_sha"]) == ["pending", "success"]

    vms = managed_vms(session)
    assert sorted(vms) == [300, 301, 302, 303, 304]
    assert {vm.config["name"] for vm in vms.values()} == NODES
    assert all(vm.status == "running" for vm in vms.values())

    phases = talos_phases(session)
    assert {name: phases.get(name) for name in NODES} == dict.fromkeys(NODES, "running")
    assert etcd_member_ips(session) == CONTROLLER_IPS
    assert ready_kube_nodes(session) == NODES
    ks = kustomizations_ready(session)
    assert ks and all(ks.values()), ks

    facts = session.store.get("home")
    assert facts.handoff_at is not None
    assert facts.endpoint == EXPECTED_ENDPOINT
    assert session.world.kube_twin.vip_answers


def test_a_nothing_changed_costs_no_work(home: Home) -> None:
    session, _ = home
    wait_until(lambda: queue_empty(session), "the runner to be idle")  # whatever ran on this lab before is done
    proxmox = session.world.proxmox_state.calls
    sops_calls = session.engine.sops.calls
    before = last_run_id(session)

    # A README change touches no cluster: no run at all.
    proxmox.reset()
    session.commit({"README.md": "# The home cluster\n\nNothing to see here.\n"}, "Reword the README")
    session.push()
    wait_until(lambda: queue_empty(session), "the runner to finish with the README push")
    assert last_run_id(session) == before
    assert proxmox.matching() == []

    # A comment in cluster.yaml touches the cluster but not its meaning: one run, empty plan, secrets still cached.
    text = (session.clone / CLUSTER_YAML).read_text() + "# reviewed by the operator\n"
    commit = session.commit({CLUSTER_YAML: text}, "Note the review")
    proxmox.reset()
    run = session.wait_for_run(session.push())
    assert run["commit_sha"] == commit
    assert run["result"] == "success", describe(run)
    assert plan_steps(run) == []
    assert len(proxmox.matching()) <= 2, proxmox.matching()
    assert session.engine.sops.calls == sops_calls

    # A manual (drift) run of the branch head: the same.
    proxmox.reset()
    assert request_run(session).status_code == 202
    manual = wait_until(
        lambda: [r for r in runs(session, "apply") if r["trigger"] == "manual" and r["status"] == "finished"],
        "the manual run",
    )[0]
    assert manual["result"] == "success", describe(manual)
    assert plan_steps(manual) == []
    assert len(proxmox.matching()) <= 2, proxmox.matching()
    assert session.engine.sops.calls == sops_calls


def test_b_a_memory_change_reboots_just_that_vm(home: Home) -> None:
    session, _ = home
    new_memory = 12288
    commit = session.commit(
        {CLUSTER_YAML: set_node_fields(session, "talos-worker-01", memory=new_memory)}, "More headroom? Less."
    )
    run = session.wait_for_run(session.push())
    assert run["commit_sha"] == commit
    assert run["result"] == "success", describe(run)

    steps = plan_steps(run)
    # The reboot is wrapped in the node's drain and uncordon: its pods move first, and come back after.
    assert [(s["kind"], s["target"], s["disruptive"]) for s in steps] == [
        ("drain_node", "node/talos-worker-01", True),
        ("update_vm", "vm/303", True),
        ("uncordon_node", "node/talos-worker-01", False),
    ], steps
    assert "memory" in steps[0]["reason"]
    assert all(s["status"] == "succeeded" for s in run_details(session, run)["steps"])

    vm = managed_vms(session)[303]
    assert vm.config["memory"] == str(new_memory)
    assert not vm.pending, "the change must be live, not pending until some later reboot"
    assert vm.status == "running"
    assert talos_phases(session)["talos-worker-01"] == "running"
    assert "talos-worker-01" in ready_kube_nodes(session)


def test_d_an_invalid_spec_fails_with_file_and_line_and_touches_nothing(home: Home) -> None:
    session, _ = home
    case = load_data("invalid_duplicate_ip.patch.yaml")
    good = (session.clone / CLUSTER_YAML).read_text()
    vms_before = {vmid: dict(vm.config) for vmid, vm in managed_vms(session).items()}
    proxmox = session.world.proxmox_state.calls
    proxmox.reset()

    commit = session.commit({CLUSTER_YAML: set_node_fields(session, case["node"], **case["set"])}, "Oops")
    run = session.wait_for_run(session.push())
    try:
        assert run["commit_sha"] == commit
        assert run["result"] == "failure", describe(run)
        expect = case["expect"]
        located = re.search(rf"{re.escape(expect['file'])}:(\d+):\d+: nodes\[\d+\]\.{expect['field']}:", run["error"])
        assert located, run["error"]
        line = int(located.group(1))
        assert (session.clone / CLUSTER_YAML).read_text().splitlines()[line - 1].strip() == f"ip: {case['set']['ip']}"
        assert all(word in run["error"] for word in expect["mentions"]), run["error"]
        assert forge_states(session, commit)[-1] == "failure"

        assert proxmox_writes(proxmox.matching()) == []
        assert {vmid: dict(vm.config) for vmid, vm in managed_vms(session).items()} == vms_before
        assert set(talos_phases(session).values()) == {"running"}
        assert session.store.get("home").endpoint == EXPECTED_ENDPOINT
    finally:  # put the good spec back; it is the one last applied, so the runner only takes the push in (no run)
        session.commit({CLUSTER_YAML: good}, "Revert the oops")
        session.push()
        wait_until(lambda: queue_empty(session), "the runner to take in the revert")  # the next test finds it idle


def test_no_secret_ever_shows(home: Home) -> None:
    session, _ = home
    wait_until(lambda: queue_empty(session), "the runner to be idle")
    assert leaks(session) == []
