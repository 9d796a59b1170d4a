"""`runner lab`'s live view on an 80-column terminal: every node on one line, its name whole."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from runner.cli.lab.view import LabView
from runner.engine.reconcile.load import load_cluster
from runner.engine.reconcile.source import DirSource

ROOT = Path(__file__).resolve().parents[2]
# The longest each column gets while the reference cluster comes up (LabWorld.node_view's words).
BUSIEST = ("running 16384 MiB", "maintenance", "NotReady")


def shown(width: int, part: str) -> list[str]:
    cluster = load_cluster(DirSource(ROOT), "home", decrypt=None).cluster
    view = LabView(cluster, lambda vmid, ip, name: BUSIEST, width=lambda: width)
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None)
    console.print(view.render() if part == "panel" else view.nodes_table(width))
    return out.getvalue().splitlines()


def test_at_80_columns_each_node_is_one_whole_line_in_the_live_panel_and_the_summary() -> None:
    cluster = load_cluster(DirSource(ROOT), "home", decrypt=None).cluster
    for part in ("panel", "table"):
        lines = shown(80, part)
        assert not [line for line in lines if "…" in line], lines
        assert max(len(line) for line in lines) <= 80
        for node in cluster.nodes:
            [row] = [line for line in lines if f" {node.name} " in f" {line} "]
            assert all(word in row for word in BUSIEST), row  # the live state stays on the node's line
        header = next(line for line in lines if line.strip(" │").startswith("node"))
        assert header.strip(" │").split()[-3:] == ["VM", "Talos", "Kubernetes"], header
        assert any("→ ○ Talos" in line and "Flux hand-off" in line for line in lines) or part == "table"


def test_a_wide_terminal_shows_role_and_address_too() -> None:
    header = next(line for line in shown(160, "table") if line.lstrip().startswith("node"))
    assert header.split() == ["node", "role", "ip", "VM", "Talos", "Kubernetes"]
