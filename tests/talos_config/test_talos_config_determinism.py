"""Same inputs, same bytes and the same hash; any valid node input gives a schema-valid config."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from talos_testdata import CONTROLLER, REFERENCE_NODES, WORKER

from runner.core.secret import Secret
from runner.core.talos import (
    MachineConfigInput,
    config_hash,
    machine_config,
    parse_machine_config,
    render_machine_config,
)
from runner.drivers.talos_schema import schema_errors

FIXTURE_OK = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
hostnames = st.from_regex(r"^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$", fullmatch=True)


@st.composite
def node_inputs(draw: st.DrawFn) -> MachineConfigInput:
    prefixlen = draw(st.sampled_from([8, 16, 20, 24, 28]))
    network = ipaddress.IPv4Network((draw(st.integers(0x0A000000, 0x0AFFFFFF)), prefixlen), strict=False)
    hosts = st.integers(1, network.num_addresses - 2).map(lambda i: str(network.network_address + i))
    controllers = draw(st.lists(hosts, min_size=1, max_size=5, unique=True))
    tailscale = draw(st.booleans())
    talos = draw(st.sampled_from(["v1.11", "v1.12", "v1.13"])) + f".{draw(st.integers(0, 9))}"
    return MachineConfigInput(
        cluster_name=draw(hostnames),
        name=draw(hostnames),
        role=draw(st.sampled_from(["controlplane", "worker"])),
        ip=draw(hosts),
        prefixlen=prefixlen,
        gateway=draw(hosts),
        nameservers=tuple(draw(st.lists(st.ip_addresses(v=4).map(str), min_size=1, max_size=3))),
        interface=draw(st.sampled_from(["eth0", "ens18", "enp0s1"])),
        install_disk=draw(st.sampled_from(["/dev/sda", "/dev/vda", "/dev/nvme0n1"])),
        installer_image=f"factory.talos.dev/installer/{draw(st.text('0123456789abcdef', min_size=64, max_size=64))}"
        f":{talos}",
        talos_version=talos,
        kubernetes_version=f"v1.{draw(st.integers(29, 36))}.{draw(st.integers(0, 12))}",
        cluster_endpoint=f"https://{controllers[0]}:6443",
        vip=draw(hosts),
        controller_ips=tuple(controllers),
        tailscale_login_server=draw(st.sampled_from(["https://hs.example.org", None])) if tailscale else None,
        tailscale_auth_key=Secret("tskey-" + draw(st.text("abcdefXYZ0123456789", min_size=8, max_size=40)))
        if tailscale
        else None,
        vip_owner=draw(st.sampled_from(["kube-vip", "talos"])),
    )


# Runs in a fresh interpreter: nothing cached, another hash seed (so set and dict-of-set orders differ).
RENDER_ELSEWHERE = """
import hashlib, sys
sys.path.insert(0, sys.argv[1])
from talos_testdata import REFERENCE_NODES, fixture_bundle
from runner.core.talos import render_machine_config
bundle = fixture_bundle()
for node in REFERENCE_NODES:
    print(node.name, hashlib.sha256(render_machine_config(node, bundle).encode()).hexdigest())
"""


def _digests_from_another_process(hash_seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", RENDER_ELSEWHERE, str(Path(__file__).parent)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.splitlines()


def test_reference_configs_render_byte_for_byte_the_same_in_separate_processes(bundle):
    here = [
        f"{node.name} {hashlib.sha256(render_machine_config(node, bundle).encode()).hexdigest()}"
        for node in REFERENCE_NODES
    ]
    assert len(here) == 5
    assert _digests_from_another_process("1") == here
    assert _digests_from_another_process("2") == here


def test_nodes_differ_in_their_configs_and_hashes(bundle):
    hashes = {config_hash(machine_config(node, bundle)) for node in REFERENCE_NODES}
    assert len(hashes) == len(REFERENCE_NODES)


def test_hash_changes_with_the_spec_and_with_the_secrets(bundle, fresh_bundle):
    base = config_hash(machine_config(WORKER, bundle))
    assert config_hash(machine_config(replace(WORKER, kubernetes_version="v1.32.2"), bundle)) != base
    assert config_hash(machine_config(WORKER, fresh_bundle)) != base
    other_key = replace(WORKER, tailscale_auth_key=Secret("tskey-another-one"))
    assert config_hash(machine_config(other_key, bundle)) != base


def test_switching_the_endpoint_to_the_vip_changes_the_hash(bundle):
    on_vip = replace(CONTROLLER, cluster_endpoint="https://10.0.0.20:6443")
    assert config_hash(machine_config(on_vip, bundle)) != config_hash(machine_config(CONTROLLER, bundle))


@FIXTURE_OK
@given(node=node_inputs())
def test_any_node_input_renders_deterministically_and_hashes_like_its_yaml(bundle, node):
    text = render_machine_config(node, bundle)
    assert render_machine_config(node, bundle) == text
    documents = machine_config(node, bundle)
    assert config_hash(parse_machine_config(text)) == config_hash(documents)


@FIXTURE_OK
@given(node=node_inputs())
def test_any_node_input_gives_schema_valid_documents(bundle, node):
    for document in machine_config(node, bundle):
        assert schema_errors(document, node.talos_version) == []
