"""A runner process for the crash tests: `python crash_child.py <what> <inputs.json>`.

It does one real piece of the runner's work (an etcd snapshot, an etcd recovery, building a Kubernetes
client) until a pause point, writes its PID to the `pid` file named in the inputs, and waits there for the
test to kill it with SIGKILL. `restart` is the runner starting again: it builds the engine every command
and the service start from, which sweeps what dead runners left.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import time
from pathlib import Path
from typing import Any

from runner.core.secret import Secret
from runner.drivers.talos import TalosctlDriver
from runner.engine.reconcile.backups import BackupStore
from runner.engine.reconcile.etcd_snapshots import Controller, take_snapshot
from runner.engine.reconcile.waits import wait_until


def talos(inputs: dict[str, Any]) -> TalosctlDriver:
    # The talosctl here runs the twin's talosctl, then stops at the call the test chose (see the test module).
    ca_key = Secret(inputs["os_ca_key"])
    return TalosctlDriver(inputs["os_ca_crt"].encode(), ca_key, talosctl_path=inputs["talosctl"], timeout=60)


def controllers(inputs: dict[str, Any]) -> list[Controller]:
    return [Controller(name, ip) for name, ip in inputs["controllers"]]


def snapshot(inputs: dict[str, Any]) -> None:
    store = BackupStore(Path(inputs["backups"]))
    take_snapshot(
        talos(inputs), controllers(inputs), store, cluster="home", keep=3, recipients=[inputs["recipient"]], reason="t"
    )


def restore(inputs: dict[str, Any]) -> None:
    from runner.engine.commands.recovery import recover_etcd

    info, encrypted = BackupStore(Path(inputs["backups"])).get("home", inputs["snapshot_id"])

    def wait(check: Any, what: str) -> None:
        wait_until(check, timeout=60, what=what, poll=0.05)

    recover_etcd(
        talos(inputs),
        controllers(inputs),
        encrypted,
        Path(inputs["key_file"]),
        info,
        cluster="home",
        force=False,
        wait=wait,
        log=print,
    )


def kube_client(inputs: dict[str, Any]) -> None:
    """Build the Kubernetes driver; stop right after the n-th time a TLS context takes a client key (or, if
    building takes fewer, once the client is built)."""
    from runner.drivers.kube import LightkubeApi

    load, loads = ssl.SSLContext.load_cert_chain, []

    def load_then_stop(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        load(self, *args, **kwargs)
        loads.append(args)
        if len(loads) == inputs["stop_at_load"]:
            stop(inputs)

    ssl.SSLContext.load_cert_chain = load_then_stop  # type: ignore[method-assign]
    LightkubeApi(Secret(inputs["kubeconfig"]), server="https://127.0.0.1:9")
    stop(inputs)


def stop(inputs: dict[str, Any]) -> None:
    Path(inputs["ready"]).touch()
    time.sleep(600)


def restart(inputs: dict[str, Any]) -> None:
    from runner.engine.reconcile.local import local_engine
    from runner.engine.reconcile.target_settings import TargetSettings

    local_engine(TargetSettings(db_path=Path(inputs["db"])))


if __name__ == "__main__":
    what, inputs = sys.argv[1], json.loads(Path(sys.argv[2]).read_text())
    Path(inputs["pid"]).write_text(str(os.getpid()))
    {"snapshot": snapshot, "restore": restore, "kube-client": kube_client, "restart": restart}[what](inputs)
