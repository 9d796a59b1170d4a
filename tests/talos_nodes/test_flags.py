"""Invariants of the cobra-compatible flag parser (no processes involved)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.lab.talos.commands import GLOBAL_FLAGS, command_tree
from runner.lab.talos.flags import UsageError, parse, parse_duration

ips = st.lists(st.ip_addresses(v=4).map(str), min_size=1, max_size=4)


@given(ips)
def test_node_lists_parse_the_same_in_every_spelling(nodes: list[str]) -> None:
    joined = ",".join(nodes)
    spellings = [
        ["-n", joined, "version"],
        [f"--nodes={joined}", "version"],
        ["version", "--nodes", joined],
        ["version", *[arg for n in nodes for arg in ("-n", n)]],
        ["version", f"-n{joined}"],
    ]
    for argv in spellings:
        parsed = parse(command_tree(), argv, GLOBAL_FLAGS)
        assert parsed.path == ["version"]
        assert parsed.values["nodes"] == nodes


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12))
def test_unknown_long_flags_are_rejected(name: str) -> None:
    known = {f.name for f in GLOBAL_FLAGS} | {f.name for f in command_tree().children["bootstrap"].flags}
    if name in known or name.startswith("-"):
        return
    with pytest.raises(UsageError, match=f"^unknown flag: --{name}$"):
        parse(command_tree(), ["bootstrap", f"--{name}"], GLOBAL_FLAGS)


@given(st.integers(0, 10_000), st.sampled_from(["ms", "s", "m", "h"]))
def test_durations_parse_like_go(amount: int, unit: str) -> None:
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    assert parse_duration(f"{amount}{unit}") == pytest.approx(amount * scale)


def test_bool_flags_take_no_separate_value() -> None:
    assert parse(command_tree(), ["health", "--server=false"], GLOBAL_FLAGS).values["server"] is False
    # `--server false` makes "false" a positional argument, which health (NoArgs) refuses, as cobra does.
    with pytest.raises(UsageError, match='unknown command "false" for "talosctl health"'):
        parse(command_tree(), ["health", "--server", "false"], GLOBAL_FLAGS)


def test_combined_short_bools_and_value() -> None:
    parsed = parse(command_tree(), ["kubeconfig", "-fm=false", "out"], GLOBAL_FLAGS)
    assert parsed.values["force"] is True and parsed.values["merge"] is False and parsed.args == ["out"]
