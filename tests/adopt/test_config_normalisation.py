"""What the adoption diff counts as no difference, because Talos reads both configs the same way."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from runner.core.adoption.machineconfig import compare_configs
from runner.core.talos import config_hash


def _controller(sans: list[str], endpoint: str = "https://10.0.0.20:6443") -> list[dict[str, Any]]:
    return [
        {"version": "v1alpha1", "cluster": {"controlPlane": {"endpoint": endpoint}, "apiServer": {"certSANs": sans}}}
    ]


def test_the_endpoint_host_is_always_an_api_server_san() -> None:
    """v1.12's generator no longer lists the endpoint's host; machined adds it to the certificate either way."""
    live = _controller(["10.0.0.11", "10.0.0.12"])
    assert compare_configs(live, _controller(["10.0.0.20", "10.0.0.11", "10.0.0.12"])).changes == ()
    assert compare_configs(live, _controller(["10.0.0.11", "10.0.0.12", "10.0.0.20"])).changes == ()


def test_a_san_besides_the_endpoint_host_still_counts() -> None:
    live = _controller(["10.0.0.11"])
    assert compare_configs(live, _controller(["10.0.0.11", "10.0.0.13"])).changes == (
        "v1alpha1.cluster.apiServer.certSANs: [10.0.0.11, 10.0.0.20] → [10.0.0.11, 10.0.0.13, 10.0.0.20]",
    )
    moved = _controller(["10.0.0.11"], "https://10.0.0.30:6443")
    assert compare_configs(live, moved).changes == (
        "v1alpha1.cluster.apiServer.certSANs: [10.0.0.11, 10.0.0.20] → [10.0.0.11, 10.0.0.30]",
        "v1alpha1.cluster.controlPlane.endpoint: https://10.0.0.20:6443 → https://10.0.0.30:6443",
    )


def test_a_static_hostname_with_auto_off_is_the_same_hostname() -> None:
    def hostname(**fields: str) -> list[dict[str, Any]]:
        return [{"version": "v1alpha1"}, {"apiVersion": "v1alpha1", "kind": "HostnameConfig", **fields}]

    assert compare_configs(hostname(auto="off", hostname="cp-01"), hostname(hostname="cp-01")).changes == ()
    assert compare_configs(hostname(auto="stable"), hostname(hostname="cp-01")).changes == (
        "HostnameConfig.auto: stable → off",
        "HostnameConfig.hostname: (absent) → cp-01",
    )


def test_the_config_hash_counts_what_talos_reads_the_same_as_the_same() -> None:
    """The plan compares a node's config with the spec's by hash: the differences the adoption diff does not count
    (the endpoint's host as an API server SAN, SAN order, a static hostname's `auto: off`) change no hash, so an
    adopted cluster whose report shows no config difference gets no apply-config either."""
    v12_generator = _controller(["10.0.0.11", "10.0.0.12"])
    assert config_hash(v12_generator) == config_hash(_controller(["10.0.0.20", "10.0.0.11", "10.0.0.12"]))
    assert config_hash(v12_generator) == config_hash(_controller(["10.0.0.12", "10.0.0.20", "10.0.0.11"]))
    assert config_hash(v12_generator) != config_hash(_controller(["10.0.0.11", "10.0.0.13"]))
    assert config_hash(v12_generator) != config_hash(_controller(["10.0.0.11", "10.0.0.12"], "https://10.0.0.30:6443"))

    def hostname(**fields: str) -> list[dict[str, Any]]:
        return [{"version": "v1alpha1"}, {"apiVersion": "v1alpha1", "kind": "HostnameConfig", **fields}]

    assert config_hash(hostname(auto="off", hostname="cp-01")) == config_hash(hostname(hostname="cp-01"))
    assert config_hash(hostname(auto="stable")) != config_hash(hostname(hostname="cp-01"))
    assert config_hash(hostname(hostname="cp-01")) != config_hash(hostname(hostname="cp-02"))
    worker = [{"version": "v1alpha1", "cluster": {"controlPlane": {"endpoint": "https://10.0.0.20:6443"}}}]
    assert config_hash(worker) != config_hash(_controller([]))  # a worker's config gets no API server SANs


@given(
    sans=st.lists(st.ip_addresses(v=4).map(str), max_size=5, unique=True),
    with_host=st.booleans(),
    order=st.randoms(use_true_random=False),
)
def test_san_order_and_the_endpoint_host_never_change_the_hash(sans: list[str], with_host: bool, order: Any) -> None:
    listed = [*sans, "10.0.0.20"] if with_host else list(sans)
    order.shuffle(listed)
    assert config_hash(_controller(listed)) == config_hash(_controller(sorted(sans)))
