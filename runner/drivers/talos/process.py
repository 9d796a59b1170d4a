"""Running talosctl: a private work dir per call (see `runner.drivers.workdir`), a timeout, clear errors."""

from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from runner.core.errors import Permanent, Transient
from runner.core.secret import Redactor, Secret
from runner.drivers.workdir import private_dir

log = logging.getLogger(__name__)
OUTPUT_PREFIX = "out-"  # files talosctl is told to write into the work dir are read back by this prefix


@dataclass(frozen=True)
class TalosctlResult:
    returncode: int
    stdout: str
    stderr: str
    redact: Redactor  # knows every secret this call handled
    outputs: dict[str, str]  # `out-*` files talosctl wrote into the work dir


def _write_private(path: Path, content: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(content)


def run_talosctl(
    talosctl: str, args: list[str], *, files: dict[str, Secret], timeout: float, redact: Redactor, what: str
) -> TalosctlResult:
    """Run `talosctl args` with `files` written (0600) into a fresh 0700 dir that `{workdir}` in args names.

    The dir, and with it every credential and config, is removed before this returns; if the process dies
    first, the next runner to start sweeps it.
    """
    with private_dir("talos") as workdir:
        for name, content in files.items():
            _write_private(workdir / name, content.reveal())
        argv = [talosctl, *[a.replace("{workdir}", str(workdir)) for a in args]]
        log.debug("running %s", what)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=workdir, check=False)
        except FileNotFoundError as e:
            raise Permanent(f"talosctl not found at {talosctl!r}: install talosctl or set its path") from e
        except PermissionError as e:
            raise Permanent(f"talosctl at {talosctl!r} is not executable") from e
        except subprocess.TimeoutExpired as e:
            raise Transient(f"{what} timed out after {timeout:g}s") from e
        outputs = {p.name: p.read_text() for p in workdir.iterdir() if p.name.startswith(OUTPUT_PREFIX)}
        if proc.returncode != 0:
            log.info("%s failed: %s", what, redact(proc.stderr.strip()))
        return TalosctlResult(proc.returncode, proc.stdout, proc.stderr, redact, outputs)
