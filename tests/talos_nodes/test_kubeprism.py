"""KubePrism's endpoints as Talos builds them: the configured endpoint, the local API server on a controller,
and the controllers discovery reports (none when the discovery service cannot be reached)."""

from __future__ import annotations

from runner.lab.talos import TalosLab, machineconfig
from runner.lab.talos.kubeprism import kubeprism_endpoints
from tests.talos_nodes.conftest import Bundle


def cluster(bundle: Bundle, endpoint: str) -> TalosLab:
    lab = TalosLab()
    for ip, role, name in (
        ("10.0.0.11", "controlplane", "cp1"),
        ("10.0.0.12", "controlplane", "cp2"),
        ("10.0.0.21", "worker", "w1"),
    ):
        node = lab.register(ip, name)
        node.config = machineconfig.load(bundle.config(role, name, endpoint=endpoint), node.version)
        node.installed, node.phase = True, "running"
    return lab


def test_a_worker_without_discovery_knows_only_the_configured_endpoint(bundle: Bundle) -> None:
    lab = cluster(bundle, "10.0.0.11")
    assert kubeprism_endpoints(lab, lab.nodes["10.0.0.21"]) == ["10.0.0.11:6443"]


def test_a_controller_adds_its_own_api_server(bundle: Bundle) -> None:
    lab = cluster(bundle, "10.0.0.20")
    assert kubeprism_endpoints(lab, lab.nodes["10.0.0.12"]) == ["10.0.0.20:6443", "10.0.0.12:6443"]


def test_with_the_discovery_service_every_controller_is_an_endpoint(bundle: Bundle) -> None:
    lab = cluster(bundle, "10.0.0.11")
    lab.discovery_service = True
    assert kubeprism_endpoints(lab, lab.nodes["10.0.0.21"]) == ["10.0.0.11:6443", "10.0.0.12:6443"]
