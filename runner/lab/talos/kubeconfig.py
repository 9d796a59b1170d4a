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
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {"server": config.endpoint, "certificate-authority-data": _b64(config.k8s_ca_crt)},
            }
        ],
        "users": [
            {"name": f"admin@{name}", "user": {"client-certificate-data": _b64(crt), "client-key-data": _b64(key)}}
        ],
        "contexts": [
            {"name": f"admin@{name}", "context": {"cluster": name, "namespace": "default", "user": f"admin@{name}"}}
        ],
        "current-context": f"admin@{name}",
    }
    out = io.StringIO()
    yaml = YAML()
    yaml.width = 1 << 16  # never fold the base64 data lines
    yaml.dump(doc, out)
    return out.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
