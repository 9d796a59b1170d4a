"""Fixtures: a Kubernetes twin served over HTTPS with the cluster CA, a lightkube driver against it, and
a bare git repository with the project's flux/ tree for the simulated Flux."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from runner.core.flux_settings import cluster_settings
from runner.core.secret import Secret
from runner.core.validate import validate_text
from runner.drivers.kube import LightkubeApi
from runner.lab.kube import (
    CertificateAuthority,
    KubeTwin,
    RunningKubeTwin,
    TwinOptions,
    admin_kubeconfig,
    pod_security,
    serve_kube_twin,
)

from .gitrepo import PROJECT, FluxRepo, seed
from .pve import TOPOLOGY, PveLab, start_pve

# Where the kubeconfig says the API is; the driver's server override sends it to the twin instead.
CLUSTER_ENDPOINT = "https://10.0.0.11:6443"
CONTROLLERS = [("talos-cp-01", "10.0.0.11"), ("talos-cp-02", "10.0.0.12"), ("talos-cp-03", "10.0.0.13")]
WORKERS = [("talos-worker-01", "10.0.0.21"), ("talos-worker-02", "10.0.0.22")]
# The cluster-settings ConfigMap the runner writes for the reference cluster (VIP, NIC, LoadBalancer range).
SETTINGS = cluster_settings(
    validate_text((PROJECT / "clusters/home/cluster.yaml").read_text(), "clusters/home/cluster.yaml")[0]
)


@dataclass
class Lab:
    twin: KubeTwin
    running: RunningKubeTwin
    kubeconfig: Secret
    repo: FluxRepo
    pve: PveLab | None = None  # the Proxmox host Proxmox CSI allocates on (node VMs, the CSI's own token)

    def api(self, **kwargs: object) -> LightkubeApi:
        return LightkubeApi(self.kubeconfig, server=self.running.url, poll_interval=0.01, **kwargs)  # type: ignore[arg-type]

    def nodes_ready(self) -> dict[str, bool]:
        """Node -> whether its Ready condition is True, as the API server holds it."""
        rt = self.twin.catalog.by_kind("v1", "Node")
        assert rt is not None
        return {
            str(n["metadata"]["name"]): any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in n.get("status", {}).get("conditions", [])
            )
            for n in self.twin.store.list(rt, None)
        }

    def join_all_nodes(self) -> None:
        """Every node's kubelet registers, with the topology labels its machine config gives it and the SMBIOS
        UUID of its VM (so the CSI finds the VM behind the node)."""
        uuids = self.pve.uuids if self.pve else {}
        for name, ip in CONTROLLERS:
            self.twin.add_node(name, ip, "controlplane", TOPOLOGY, uuids.get(name))
        for name, ip in WORKERS:
            self.twin.add_node(name, ip, "worker", TOPOLOGY, uuids.get(name))


@pytest.fixture(scope="session")
def cluster_ca() -> CertificateAuthority:
    return CertificateAuthority.generate()


@pytest.fixture(scope="session")
def age_key() -> Secret:
    """The Flux key (what the runner hands Flux as sops-age), not the runner's own."""
    lines = (PROJECT / "tests" / "keys" / "flux-lab.agekey").read_text().splitlines()
    return Secret(next(line for line in lines if line.startswith("AGE-SECRET-KEY-")))


@pytest.fixture
def flux_repo(tmp_path: Path) -> FluxRepo:
    return seed(tmp_path / "cluster.git")


@pytest.fixture
def pve(tmp_path: Path) -> Iterator[PveLab]:
    yield from start_pve(tmp_path / "pve")


@pytest.fixture
def lab(cluster_ca: CertificateAuthority, flux_repo: FluxRepo, pve: PveLab) -> Iterator[Lab]:
    # A twin of the cluster the runner builds: Talos's default Pod Security admission, kube-proxy off, and the
    # Proxmox host its CSI driver allocates disks on.
    twin = KubeTwin(
        TwinOptions(
            git_repos={flux_repo.url: flux_repo.path},
            pod_security=pod_security.TALOS_DEFAULT,
            proxmox_endpoints=pve.endpoints(),
            proxmox_ca_bundle=str(pve.twin.ca_bundle),
        )
    )
    running = serve_kube_twin(twin, cluster_ca)
    try:
        yield Lab(twin, running, Secret(admin_kubeconfig(cluster_ca, CLUSTER_ENDPOINT)), flux_repo, pve)
    finally:
        running.stop()


@pytest.fixture
def api(lab: Lab) -> Iterator[LightkubeApi]:
    client = lab.api()
    try:
        yield client
    finally:
        client.close()
