"""The admin kubeconfig a control-plane node hands out (Talos `pkg/kubeconfig.GenerateAdmin`)."""

from __future__ import annotations

import base64
import datetime as dt
import io

from ruamel.yaml import YAML

from runner.lab.talos import pki
from runner.lab.talos.machineconfig import MachineConfig

ADMIN_CERT_LIFETIME = dt.timedelta(days=365)  # cluster.adminKubeconfig.certLifetime default (8760h)


def admin_kubeconfig(config: MachineConfig) -> str:
    ca_cert = pki.load_certificate(config.k8s_ca_crt)
    ca_key = pki.load_private_key(config.k8s_ca_key)
    crt, key = pki.issue_client_cert(ca_cert, ca_key, "admin", "system:masters", ADMIN_CERT_LIFETIME)
    name = config.cluster_name
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": config.endpoint, "certificate-authority-data": b64(config.k8s_ca_crt)}}
        ],
        "users": [{"name": f"admin@{name}", "user": {"client-certificate-data": b64(crt), "client-key-data": b64(key)}}],
        "contexts": [
            {"name": f"admin@{name}", "context": {"cluster": name, "namespace": "default", "user": f"admin@{name}"}}
        ],
        "current-context": f"admin@{name}",
    }
    out = io.StringIO()
    YAML().dump(doc, out)
    return out.getvalue()
