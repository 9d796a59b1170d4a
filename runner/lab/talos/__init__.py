"""Twins of Talos nodes: simulated machines behind a control server, and a talosctl-compatible executable.

Exports load lazily: the talosctl twin runs as a fresh process per call and must not pay for FastAPI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.lab.talos.control import TalosTwin, create_app, start_talos_twin
    from runner.lab.talos.lab import TalosLab
    from runner.lab.talos.node import Delays, NodeFaults
    from runner.lab.talos.shim import install_talosctl_shim

_EXPORTS = {
    "Delays": "runner.lab.talos.node",
    "NodeFaults": "runner.lab.talos.node",
    "TalosLab": "runner.lab.talos.lab",
    "TalosTwin": "runner.lab.talos.control",
    "create_app": "runner.lab.talos.control",
    "start_talos_twin": "runner.lab.talos.control",
    "install_talosctl_shim": "runner.lab.talos.shim",
}
__all__ = [
    "Delays",
    "NodeFaults",
    "TalosLab",
    "TalosTwin",
    "create_app",
    "install_talosctl_shim",
    "start_talos_twin",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(name)
