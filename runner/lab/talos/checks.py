"""`talosctl health` conditions, evaluated on the simulated nodes (Talos `check.DefaultClusterChecks`).

Kubernetes-level checks (nodes Ready, static pods) are reported healthy once etcd is: the Kubernetes
side lives in a separate twin, and this one only knows what the Talos API would know.
"""

from __future__ import annotations

from typing import Any

from runner.lab.talos.lab import TalosLab


def _not_running(lab: TalosLab, ips: list[str]) -> list[str]:
    return [ip for ip in ips if ip not in lab.nodes or lab.nodes[ip].phase != "running"]


def run(lab: TalosLab, control_plane: list[str], workers: list[str]) -> list[dict[str, Any]]:
    everyone = [*control_plane, *workers]
    results: list[dict[str, Any]] = []

    def add(name: str, errors: list[str]) -> None:
        results.append({"name": name, "error": "; ".join(errors) or None})

    down = _not_running(lab, control_plane)
    add("etcd to be healthy", [f'{ip}: service "etcd" not in expected state "Running"' for ip in down])
    cluster_ids = {lab.nodes[ip].config.cluster_id for ip in control_plane if ip in lab.nodes and lab.nodes[ip].config}  # type: ignore[union-attr]
    member_ips = {m.ip for cid in cluster_ids for m in lab.members(cid).values()}
    missing = sorted(set(control_plane) - member_ips)
    extra = sorted(member_ips - set(control_plane))
    add(
        "etcd members to be control plane nodes",
        [f"etcd member ips {sorted(member_ips)} are not subset of control plane node ips {sorted(control_plane)}"]
        if extra
        else [],
    )
    add("etcd members to be consistent across nodes", [f"{ip}: not an etcd member" for ip in missing])
    add("apid to be ready", [f"{ip}: rpc error: code = Unavailable" for ip in _not_running(lab, everyone)])
    add(
        "all nodes to finish boot sequence", [f"{ip}: boot sequence not finished" for ip in _not_running(lab, everyone)]
    )
    healthy = not any(r["error"] for r in results)
    for name in (
        "all k8s nodes to report",
        "all control plane static pods to be running",
        "all control plane components to be ready",
        "all k8s nodes to report ready",
    ):
        add(name, [] if healthy else ["waiting for etcd and Talos services"])
    return results
