"""A machine config the Talos schema rejects never leaves the runner: the step fails first, naming the field.

Both steps that send a config to a configured node check it: `apply_config`, and `move_endpoint` (the same
config naming the VIP as control-plane endpoint)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runner.core.cluster_secrets import ClusterSecrets
from runner.core.derive import derive
from runner.core.errors import Permanent
from runner.core.loader import load_cluster
from runner.core.secret import Secret
from runner.core.steps import Kind, Step
from runner.core.talos import bundle_from_yaml
from runner.drivers.talos import TalosctlDriver
from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.engine.reconcile.configs import NodeConfig, node_configs
from runner.engine.reconcile.connection_targets import ConnectionTargets
from runner.engine.reconcile.handlers import StepRunner
from runner.engine.reconcile.target_settings import TargetSettings
from runner.engine.reconcile.targets import Connections
from runner.lab.imagefactory import FactoryState, create_app
from runner.lab.serve import serve_in_thread

ROOT = Path(__file__).parents[2]
NODE = "talos-cp-01"
# The reference cluster as pinned at Talos v1.11.2: the broken field below is v1.11's `machine.network`
SPEC = ROOT / "tests/data/home-talos-v1.11.yaml"
# A stand-in talosctl: records every call; a node in maintenance mode that runs once a config arrived.
RECORDING_TALOSCTL = """#!/bin/sh
echo "$*" >> {log}
case "$*" in
  *machinestatus*)
    if grep -q apply-config {log}; then stage=running; else stage=maintenance; fi
    printf 'spec:\\n  stage: %s\\n' "$stage";;
esac
"""
# A configured, running node: its current config is an older one (so the VIP config is not "already applied").
RUNNING_TALOSCTL = """#!/bin/sh
echo "$*" >> {log}
case "$*" in
  *machinestatus*) printf 'spec:\\n  stage: running\\n';;
  *machineconfig*) printf 'spec: |\\n  version: v1alpha1\\n  machine:\\n    type: controlplane\\n';;
  *version*) printf 'Client:\\n\\tTag: v1.11.2\\nServer:\\n\\tNODE: 10.0.0.11\\n\\tTag: v1.11.2\\n';;
esac
"""


def _step_runner(tmp_path: Path, break_config: bool, script: str = RECORDING_TALOSCTL) -> tuple[StepRunner, Path]:
    cluster, _ = load_cluster(SPEC.read_text(), "clusters/home/cluster.yaml")
    bundle = bundle_from_yaml((ROOT / "tests/data/talos-secrets-bundle.yaml").read_text())
    secrets = ClusterSecrets("runner@pve!runner", Secret("token"), Secret("tskey-auth-k1"), None, None, None)
    desired = derive(cluster)
    configs = node_configs(cluster, desired, secrets, bundle)
    if break_config:  # a renderer bug: an address as a mapping where Talos wants a string
        good = configs[NODE]
        text = good.text.reveal().replace("- 10.0.0.11/16", "- {address: 10.0.0.11/16}", 1)
        assert text != good.text.reveal()
        configs[NODE] = NodeConfig(Secret(text), good.hash, good.secrets, good.redacted)
    log = tmp_path / "talosctl.log"
    talosctl = tmp_path / "talosctl"
    talosctl.write_text(script.format(log=log))
    talosctl.chmod(0o755)
    driver = TalosctlDriver(bundle.certs.os.crt.encode(), bundle.certs.os.key, talosctl_path=str(talosctl))
    # The runner registers the node's schematic with the factory before installing: a local factory twin.
    factory = serve_in_thread(create_app(FactoryState()))
    settings = TargetSettings(
        db_path=tmp_path / "runner.db", boot_timeout=10, poll_seconds=0.05, image_factory_url=factory.url
    )
    conns = Connections(settings, ConnectionTargets.of(cluster), secrets, _talos=driver)
    store = ClusterStateStore(tmp_path / "runner.db")
    runner = StepRunner(cluster, desired, conns, configs, store, None, False, log=lambda _: None)
    runner.endpoint_configs = {NODE: configs[NODE]}  # the checks look at the text alone, whatever it names
    return runner, log


STEP = Step(
    f"node/{NODE}/config",
    Kind.APPLY_CONFIG,
    f"node/{NODE}",
    "new node: apply controlplane config",
    (),
    False,
    {"node_name": NODE, "ip": "10.0.0.11", "insecure": True, "mode": "auto"},
)


def test_a_config_the_schema_rejects_fails_the_step_before_talosctl_runs(tmp_path: Path) -> None:
    runner, log = _step_runner(tmp_path, break_config=True)
    with pytest.raises(Permanent) as failed:
        runner(STEP)
    assert str(failed.value) == (
        f"machine config of {NODE} document 1 (Talos v1.11 schema): machine.network.interfaces[0].addresses[0]: "
        "{'address': '10.0.0.11/16'} is not of type 'string'"
    )
    assert not log.exists()  # talosctl was never started: not even asked for the node's stage


def test_a_valid_config_is_sent(tmp_path: Path) -> None:
    """The same set-up with the config as rendered: the stand-in talosctl receives it (the check above is real)."""
    runner, log = _step_runner(tmp_path, break_config=False)
    assert runner(STEP) == "config applied in maintenance mode; node installed and running"
    assert any(line.startswith("-n 10.0.0.11 apply-config") for line in log.read_text().splitlines())


def test_schema_messages_never_quote_a_secret_of_the_config(tmp_path: Path) -> None:
    runner, _ = _step_runner(tmp_path, break_config=False)
    good = runner.configs[NODE]
    token = re.search(r"\n    token: (\S+)\n", good.text.reveal()).group(1)  # type: ignore[union-attr]
    assert token in good.secrets
    text = good.text.reveal().replace("\ndebug: false\n", f"\ndebug: {token}\n", 1)
    assert token in text and text != good.text.reveal()
    runner.configs[NODE] = NodeConfig(Secret(text), good.hash, good.secrets, good.redacted)
    with pytest.raises(Permanent) as failed:
        runner(STEP)
    assert "debug" in str(failed.value) and token not in str(failed.value)


VIP = "https://10.0.0.20:6443"
MOVE = Step(
    f"node/{NODE}/endpoint",
    Kind.MOVE_ENDPOINT,
    f"node/{NODE}",
    f"{NODE}: control-plane endpoint https://10.0.0.11:6443→{VIP}",
    (),
    False,
    {"node_name": NODE, "ip": "10.0.0.11", "endpoint": VIP},
)


def test_an_endpoint_config_the_schema_rejects_is_never_sent(tmp_path: Path) -> None:
    runner, log = _step_runner(tmp_path, break_config=True, script=RUNNING_TALOSCTL)
    with pytest.raises(Permanent) as failed:
        runner(MOVE)
    assert str(failed.value) == (
        f"machine config of {NODE} naming {VIP} document 1 (Talos v1.11 schema): "
        "machine.network.interfaces[0].addresses[0]: {'address': '10.0.0.11/16'} is not of type 'string'"
    )
    assert not log.exists()  # nothing reached the node, not even a question


def test_a_valid_endpoint_config_is_sent_without_a_reboot(tmp_path: Path) -> None:
    runner, log = _step_runner(tmp_path, break_config=False, script=RUNNING_TALOSCTL)
    assert runner(MOVE) == f"control-plane endpoint is now {VIP} (applied without a reboot)"
    assert any("apply-config" in line and "--mode no-reboot" in line for line in log.read_text().splitlines())
