"""The TLS side of a kubeconfig (CA, client certificate and key) as an `ssl.SSLContext`, with no key on disk.

lightkube turns each `*-data` field into a named temporary file in the system temp directory while it
builds a client (`lightkube/config/models.py` FileStr, 1.0.1); a runner killed in that moment leaves the
admin client key there, where nothing sweeps. So the runner builds the context itself and hands lightkube a
kubeconfig without TLS material, plus a transport carrying the context. The CA loads from memory
(`cadata`). Python's ssl loads a client key only from a path, so the key goes into an anonymous memory file
(memfd_create(2)) opened through /proc/self/fd: it is on no filesystem and ends with the process. Without
memfd or /proc, it goes into the runner's private work root (swept at the next start after a crash) and
is removed as soon as it is loaded.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2

from runner.core.errors import Permanent
from runner.drivers.workdir import private_dir

CLUSTER_TLS = ("certificate-authority", "certificate-authority-data", "insecure-skip-tls-verify")
USER_TLS = ("client-certificate", "client-certificate-data", "client-key", "client-key-data")


def _named(conf: dict[str, Any], section: str, name: str | None) -> dict[str, Any]:
    entry = next((e for e in conf.get(section) or [] if e.get("name") == name), None)
    return dict((entry or {}).get(section[:-1]) or {})


def _pem(entry: dict[str, Any], field: str) -> bytes | None:
    """The PEM in `<field>-data` (base64) or in the file `<field>` names; None when neither is set."""
    try:
        if entry.get(f"{field}-data"):
            return base64.b64decode(entry[f"{field}-data"])
        if entry.get(field):
            return Path(entry[field]).read_bytes()
    except (binascii.Error, ValueError):
        raise Permanent(f"kubeconfig: {field}-data is not base64") from None
    except OSError as e:
        raise Permanent(f"kubeconfig: cannot read {field} {entry[field]}: {e.strerror}") from None
    return None


@contextlib.contextmanager
def _key_path(pem: bytes) -> Iterator[str]:
    """A path that reads as `pem` for as long as the block runs."""
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        fd = os.memfd_create("kube-client", os.MFD_CLOEXEC)
        try:
            view = memoryview(pem)
            while view:
                view = view[os.write(fd, view) :]
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    with private_dir("kube") as workdir:
        path = workdir / "client.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        yield str(path)


def ssl_context(conf: dict[str, Any]) -> ssl.SSLContext:
    """The context the current context's cluster and user call for, as lightkube would build it."""
    current = conf.get("current-context") or conf["contexts"][0]["name"]
    context = _named(conf, "contexts", current)
    cluster, user = _named(conf, "clusters", context.get("cluster")), _named(conf, "users", context.get("user"))
    ca = _pem(cluster, "certificate-authority")
    if ca is not None:
        ctx = ssl.create_default_context(cadata=ca.decode(errors="replace"))
    else:
        ctx = httpx2.create_ssl_context(verify=not cluster.get("insecure-skip-tls-verify"), trust_env=False)
    cert, key = _pem(user, "client-certificate"), _pem(user, "client-key")
    if cert is not None and key is not None:
        with _key_path(cert + b"\n" + key) as path:
            ctx.load_cert_chain(path)  # the chain and the key from the one (memory) file
    return ctx


def without_tls(conf: dict[str, Any]) -> dict[str, Any]:
    """The kubeconfig with every CA, client certificate and key taken out (lightkube would write them to disk)."""
    clusters = [{**c, "cluster": _drop(c.get("cluster"), CLUSTER_TLS)} for c in conf.get("clusters") or []]
    users = [{**u, "user": _drop(u.get("user"), USER_TLS)} for u in conf.get("users") or []]
    return {**conf, "clusters": clusters, "users": users}


def _drop(entry: dict[str, Any] | None, fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in (entry or {}).items() if k not in fields}
