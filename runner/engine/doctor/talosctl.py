"""`talosctl` exists and its version fits the cluster's Talos version.

Talos supports talosctl against nodes of the same minor release; one minor apart mostly works (the
machine config schema and API gain fields each minor), further apart is refused here.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from runner.core.versions import parse_version
from runner.engine.doctor.model import DoctorContext, Result, Row

TAG = re.compile(r"^\s*Tag:\s*(v?\d+\.\d+\.\d+\S*)", re.MULTILINE)


def talosctl_version(ctx: DoctorContext) -> list[Row]:
    name = ctx.settings.talosctl_path
    path = shutil.which(name)
    if path is None:
        return [Row("talosctl", Result.FAIL, f"{name!r} not found", "install talosctl or set talosctl_path")]
    try:
        out = subprocess.run(
            [path, "version", "--client"], capture_output=True, text=True, timeout=30, check=False, env={"PATH": ""}
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [Row("talosctl", Result.FAIL, f"{path} version --client: {exc}", "reinstall talosctl")]
    match = TAG.search(out.stdout)
    if out.returncode != 0 or not match:
        detail = f"{path} version --client: exit {out.returncode}, no client tag in its output"
        return [Row("talosctl", Result.FAIL, detail, "reinstall talosctl")]
    client, wanted = match.group(1), ctx.cluster.talos.version
    (cmaj, cmin, _), (wmaj, wmin, _) = parse_version(client), parse_version(wanted)
    fix = f"install talosctl {wanted} (curl -sL https://talos.dev/install | sh)"
    if cmaj != wmaj or abs(cmin - wmin) > 1:
        return [Row("talosctl", Result.FAIL, f"talosctl {client} does not fit Talos {wanted}", fix)]
    if cmin != wmin:
        return [Row("talosctl", Result.WARN, f"talosctl {client} is one minor apart from Talos {wanted}", fix)]
    return [Row("talosctl", Result.OK, f"talosctl {client} fits Talos {wanted}")]
