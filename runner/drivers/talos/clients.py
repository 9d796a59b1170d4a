"""Which talosctl binary a call runs: one per Talos minor when the settings name several (an upgrade across
minors passes through clusters whose nodes run two), else the one `talosctl_path` names.

The driver learns each node's minor from what `talosctl version` answers (every observation asks it) and
picks the newest configured talosctl that drives them all (runner/core/talosctl_choice.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Iterable, Mapping

from runner.core.errors import Permanent
from runner.core.talosctl_choice import Minor, choose_talosctl, no_talosctl_message

TAG = re.compile(r"^\s*Tag:\s*(v?\d+\.\d+\.\d+\S*)", re.MULTILINE)


def client_version(path: str, timeout: float = 30.0) -> str:
    """What `talosctl version --client` prints as `Tag:`; Permanent when it cannot say."""
    try:
        out = subprocess.run(
            [path, "version", "--client"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={"PATH": os.environ.get("PATH", "")},  # nothing else of ours (secrets) reaches the child
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Permanent(f"{path} version --client: {exc}") from exc
    match = TAG.search(out.stdout)
    if out.returncode != 0 or not match:
        raise Permanent(f"{path} version --client: exit {out.returncode}, no client tag in its output")
    return match.group(1)


def minor_of(version: str) -> Minor:
    major, minor = version.lstrip("v").split(".")[:2]
    return int(major), int(minor)


class TalosctlClients:
    def __init__(self, default: str, per_minor: Mapping[Minor, str] | None = None) -> None:
        self.default = default
        self.per_minor = dict(per_minor or {})
        self._nodes: dict[str, Minor] = {}  # node address -> the minor it last said it runs
        self._client_minors: dict[str, Minor] = {path: m for m, path in self.per_minor.items()}
        self._lock = threading.Lock()

    def learn(self, versions: Mapping[str, str]) -> None:
        with self._lock:
            for ip, version in versions.items():
                try:
                    self._nodes[ip] = minor_of(version)
                except ValueError:
                    continue

    def path(self, ips: Iterable[str] = ()) -> str:
        """The talosctl for calls now: the newest configured one that drives every known node."""
        with self._lock:
            nodes = set(self._nodes.values())
        if not self.per_minor or not nodes:
            return self.default
        chosen = choose_talosctl(self.per_minor, nodes)
        if chosen is None:
            raise Permanent(no_talosctl_message(self.per_minor, nodes))
        return self.per_minor[chosen]

    def client_minor(self, path: str) -> Minor:
        with self._lock:
            known = self._client_minors.get(path)
        if known is None:
            known = minor_of(client_version(path))
            with self._lock:
                self._client_minors[path] = known
        return known
