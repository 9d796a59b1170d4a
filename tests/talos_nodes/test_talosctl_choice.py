"""Which talosctl drives a cluster whose nodes run one or two Talos minors."""

from __future__ import annotations

import re

import pytest

from runner.core.talosctl_choice import choose_talosctl, driven_text, drives, parse_minor_key

CLIENTS = [(1, 11), (1, 12), (1, 13)]


@pytest.mark.parametrize(
    ("nodes", "chosen"),
    [
        ({(1, 11)}, (1, 12)),  # the newest that still drives v1.11
        ({(1, 11), (1, 12)}, (1, 12)),  # half-way from v1.11 to v1.12
        ({(1, 12), (1, 13)}, (1, 13)),  # talosctl v1.13 falls back to the legacy upgrade for v1.12 nodes
        ({(1, 13)}, (1, 13)),
        ({(1, 11), (1, 13)}, None),  # no talosctl spans two minors
    ],
)
def test_the_newest_talosctl_that_drives_every_node(nodes: set[tuple[int, int]], chosen: object) -> None:
    assert choose_talosctl(CLIENTS, nodes) == chosen


def test_rule_and_text() -> None:
    assert drives((1, 13), (1, 12)) and not drives((1, 12), (1, 13)) and not drives((1, 13), (1, 11))
    assert driven_text((1, 13)) == "Talos v1.12 and v1.13"
    assert parse_minor_key("v1.12") == (1, 12)
    with pytest.raises(ValueError, match=re.escape("'1.12.3' is not a Talos minor like 1.12")):
        parse_minor_key("1.12.3")


def test_the_driver_refuses_when_no_configured_talosctl_drives_every_node() -> None:
    from runner.core.errors import Permanent
    from runner.drivers.talos.clients import TalosctlClients

    clients = TalosctlClients("talosctl", {(1, 12): "/opt/talosctl-1.12", (1, 13): "/opt/talosctl-1.13"})
    clients.learn({"10.0.0.11": "v1.11.6", "10.0.0.12": "v1.13.9"})
    with pytest.raises(Permanent) as refused:
        clients.path()
    assert str(refused.value) == (
        "no configured talosctl drives every node (nodes run Talos v1.11, v1.13; talosctl_paths has v1.12, v1.13; "
        "a talosctl drives its own minor and the one before): add one to talosctl_paths"
    )
    clients.learn({"10.0.0.12": "v1.12.11"})
    assert clients.path() == "/opt/talosctl-1.12"
