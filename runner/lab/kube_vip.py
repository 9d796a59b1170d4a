"""Which controller holds the control-plane VIP on its link: kube-vip's leader (ARP mode, leader election).

kube-vip v1.2.3 adds `address` with `vip_subnet` (/32 in flux/'s DaemonSet) to `vip_interface` when its pod
starts leading (`pkg/cluster/clusterLeaderElection.go` onStartedLeading, `pkg/vip/address.go` AddIP) and
deletes it when it stops. The lease moves only when the leader cannot renew it: its node stopped, or its
API server (the lease lives in Kubernetes) no longer answers. Talos sees that /32 as one of the node's
addresses like any other (`network.NodeAddress`); what it then advertises is the node twin's business.
"""

from __future__ import annotations

import ipaddress

from runner.lab.talos.lab import TalosLab
from runner.lab.talos.node import SimNode


def hold_vip(lab: TalosLab, vip: str, kube_vip_runs: bool) -> SimNode | None:
    """Put `vip` on the leader's link, or on none while kube-vip does not run; returns the holder."""
    with lab.lock:
        nodes = sorted(lab.nodes.values(), key=lambda n: ipaddress.ip_address(n.ip))
        holder = next((n for n in nodes if vip in n.held), None)
        if holder is not None and kube_vip_runs and _can_lead(lab, holder):
            return holder
        for node in nodes:
            node.held = tuple(a for a in node.held if a != vip)
        if not kube_vip_runs:
            return None
        leader = next((n for n in nodes if _can_lead(lab, n)), None)
        if leader is not None:
            leader.held = (*leader.held, vip)
        return leader


def _can_lead(lab: TalosLab, node: SimNode) -> bool:
    return node.phase == "running" and node.is_controlplane and lab.api_serving(node)
