"""`talosctl` exists and its version fits the cluster's Talos version; each talosctl of `talosctl_paths` is
the minor it is listed under, and the row says which node versions it drives (runner/core/talosctl_choice.py).

The runner's policy (Sidero documents no skew; its install guides pin talosctl to the Talos release): the
same minor release passes, one minor apart is a warning (the machine config schema and the API gain fields
each minor), further apart fails. The version is what `talosctl version --client` prints as `Tag:`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from runner.core.errors import Permanent
from runner.core.talosctl_choice import driven_text, parse_minor_key
from runner.core.versions import minor_of, parse_version
from runner.drivers.talos.clients import client_version
from runner.engine.commands.doctor.model import DoctorContext, Result, Row, failed, passed

TAG = re.compile(r"^\s*Tag:\s*(v?\d+\.\d+\.\d+\S*)", re.MULTILINE)


def talosctl_version(ctx: DoctorContext) -> list[Row]:
    return [
        *_default_talosctl(ctx),
        *(_per_minor(key, name) for key, name in sorted(ctx.settings.talosctl_paths.items())),
    ]


def _per_minor(key: str, name: str) -> Row:
    check, minor = f"talosctl {key}", parse_minor_key(key)
    path = shutil.which(name)
    if path is None:
        return Row(
            check,
            Result.FAIL,
            f"{name!r} not found",
            f"install talosctl v{key}.x there or remove it from talosctl_paths",
        )
    try:
        client = client_version(path)
    except Permanent as exc:
        return Row(check, Result.FAIL, str(exc), "reinstall talosctl")
    if minor_of(client) != minor:
        fix = f"install talosctl v{key}.x there (curl -sL https://talos.dev/install | sh)"
        return Row(check, Result.FAIL, f"{path} is talosctl {client}, not a v{key} release", fix)
    return Row(check, Result.OK, f"talosctl {client} drives {driven_text(minor)}")


def _default_talosctl(ctx: DoctorContext) -> list[Row]:
    name = ctx.settings.talosctl_path
    path = shutil.which(name)
    if path is None:
        return failed("talosctl", f"{name!r} not found", "install talosctl or set talosctl_path")
    try:
        out = subprocess.run(
            [path, "version", "--client"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env={"PATH": os.environ.get("PATH", "")},  # nothing else of ours (secrets) reaches the child
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return failed("talosctl", f"{path} version --client: {exc}", "reinstall talosctl")
    match = TAG.search(out.stdout)
    if out.returncode != 0 or not match:
        detail = f"{path} version --client: exit {out.returncode}, no client tag in its output"
        return failed("talosctl", detail, "reinstall talosctl")
    client, wanted = match.group(1), ctx.cluster.talos.version
    (cmaj, cmin, _), (wmaj, wmin, _) = parse_version(client), parse_version(wanted)
    fix = f"install talosctl {wanted} (curl -sL https://talos.dev/install | sh)"
    if cmaj != wmaj or abs(cmin - wmin) > 1:
        return failed("talosctl", f"talosctl {client} does not fit Talos {wanted}", fix)
    if cmin != wmin:
        return [Row("talosctl", Result.WARN, f"talosctl {client} is one minor apart from Talos {wanted}", fix)]
    return passed("talosctl", f"talosctl {client} fits Talos {wanted}")
