"""Serve the twin over HTTPS on loopback, requiring client certificates signed by the cluster CA."""

from __future__ import annotations

import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from runner.lab.serve import RunningServer, Served, serve_in_thread

from .app import create_app
from .pki import DEFAULT_SERVER_NAMES, CertificateAuthority
from .twin import KubeTwin


@dataclass
class RunningKubeTwin(Served):
    twin: KubeTwin
    server: RunningServer
    ca: CertificateAuthority
    folder: Path  # its certificate and key, removed when it stops

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def serve_kube_twin(
    twin: KubeTwin,
    ca: CertificateAuthority,
    *,
    server_names: tuple[str, ...] = DEFAULT_SERVER_NAMES,
    port: int | None = None,
) -> RunningKubeTwin:
    cert, key = ca.issue("kube-apiserver", names=server_names, server=True)
    folder = Path(tempfile.mkdtemp(prefix="kube-twin-"))
    (folder / "tls.crt").write_bytes(cert + ca.cert_pem)
    (folder / "tls.key").write_bytes(key)
    (folder / "tls.key").chmod(0o600)
    running = serve_in_thread(create_app(twin), port=port, certfile=folder / "tls.crt", keyfile=folder / "tls.key")
    # The shared server helper only takes a cert and key; client-certificate authentication is switched on
    # on its live SSL context (it applies to every handshake from here on; nothing has connected yet).
    context = running.server.config.ssl
    assert isinstance(context, ssl.SSLContext)
    context.load_verify_locations(cadata=ca.cert_pem.decode())
    context.verify_mode = ssl.CERT_OPTIONAL if twin.options.tokens else ssl.CERT_REQUIRED
    return RunningKubeTwin(twin=twin, server=running, ca=ca, folder=folder)
