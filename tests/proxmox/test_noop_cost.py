"""A no-op reconcile costs exactly one Proxmox API call whatever the node count (counted in the twin's call log).

The converged cluster is built the way the benchmark builds it (real driver, real HTTPS, twin with no task
delays), so the test and the benchmark measure the same thing; the test asserts counts, never times.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))  # the benchmarks import each other as scripts
from proxmox_parallel import noop_calls


@pytest.mark.parametrize("nodes", [5, 50])
def test_noop_reconcile_costs_one_proxmox_call(nodes: int, tmp_path: Path) -> None:
    count, remaining, calls = noop_calls(nodes, tmp_path)
    assert remaining == 0, "the converged cluster still wants VM steps"
    assert calls == ["GET /cluster/resources"]  # the design's one call: VMs, status and tags of every node
    assert count == 1
