"""Put a `talosctl` executable on a PATH that runs the twin's talosctl against a control server."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from runner.lab.talos.client import URL_ENV
from runner.lab.talos.client_release import VERSION_ENV


def install_talosctl_shim(bin_dir: Path, control_url: str, version: str | None = None, name: str = "talosctl") -> Path:
    """Write `bin_dir/<name>`, a tiny sh script calling this Python's `-m runner.lab.talos.talosctl`, imitating
    the talosctl release `version` (v1.11.2 when None)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    # The package must import from wherever this interpreter finds it, whatever the caller's cwd.
    package_root = Path(__file__).resolve().parents[3]
    script = bin_dir / name
    release = f"{VERSION_ENV}={shlex.quote(version)} " if version else ""
    pythonpath = f"{shlex.quote(str(package_root))}${{PYTHONPATH:+:$PYTHONPATH}}"
    script.write_text(
        "#!/bin/sh\n"
        f"{URL_ENV}={shlex.quote(control_url)} {release}PYTHONPATH={pythonpath} "
        f'exec {shlex.quote(sys.executable)} -m runner.lab.talos.talosctl "$@"\n'
    )
    script.chmod(0o755)
    return script
