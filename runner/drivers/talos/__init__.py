"""Talos driver (talosctl in a subprocess)."""

from runner.drivers.talos.driver import EtcdMember, TalosApi, TalosctlDriver

__all__ = ["EtcdMember", "TalosApi", "TalosctlDriver"]
