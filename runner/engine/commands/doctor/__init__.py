"""`runner doctor`: read-only checks of a real installation before the first apply.

Each group of checks is one module (proxmox, factory, talosctl, secrets, service); `registry.CHECKS` lists
them in order. A check is a function `(DoctorContext) -> list[Row]`.
"""

from __future__ import annotations

from runner.engine.commands.doctor.model import Check, DoctorContext, Result, Row
from runner.engine.commands.doctor.run import build_context, failed, run_checks

__all__ = ["Check", "DoctorContext", "Result", "Row", "build_context", "failed", "run_checks"]
