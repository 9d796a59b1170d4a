"""Talos driver (talosctl in a subprocess)."""

from runner.drivers.talos.api import EtcdMember, NodeConfig, NodeStatus, TalosApi
from runner.drivers.talos.driver import TalosctlDriver

__all__ = ["EtcdMember", "NodeConfig", "NodeStatus", "TalosApi", "TalosctlDriver"]
