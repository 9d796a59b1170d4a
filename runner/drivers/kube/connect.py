"""Build a lightkube Client from a kubeconfig held as a Secret, optionally talking to another address.

The override replaces only the URL (the lab maps https://10.0.0.11:6443 to a loopback port); CA,
client certificate and hostname verification are kept. The TLS material never reaches lightkube, which
would write it to temporary files (see `tls.py`).
"""

from __future__ import annotations

import copy
from typing import Any

import httpx2
from lightkube import Client, KubeConfig
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from runner.core.errors import Permanent
from runner.core.secret import Secret

from .tls import ssl_context, without_tls

FIELD_MANAGER = "runner"


def parse_kubeconfig(kubeconfig: Secret, server: str | None = None) -> dict[str, Any]:
    try:
        conf = YAML(typ="safe", pure=True).load(kubeconfig.reveal())
    except YAMLError as e:
        raise Permanent(f"kubeconfig: not valid YAML ({type(e).__name__})") from None
    if not isinstance(conf, dict) or not conf.get("clusters") or not conf.get("contexts"):
        raise Permanent("kubeconfig: needs 'clusters' and 'contexts'")
    conf = copy.deepcopy(conf)
    if server is not None:
        current = conf.get("current-context") or conf["contexts"][0]["name"]
        context = next((c for c in conf["contexts"] if c.get("name") == current), None)
        if context is None:
            raise Permanent(f"kubeconfig: current-context '{current}' is not defined")
        for cluster in conf["clusters"]:
            if cluster.get("name") == context["context"].get("cluster"):
                cluster["cluster"]["server"] = server
    return conf


def make_client(kubeconfig: Secret, server: str | None = None, timeout: float = 10.0) -> Client:
    conf = parse_kubeconfig(kubeconfig, server)
    try:
        # trust_env=False: proxies and SSL_CERT_FILE from the environment must not change where we connect.
        transport = httpx2.HTTPTransport(verify=ssl_context(conf), trust_env=False)
        return Client(
            KubeConfig.from_dict(without_tls(conf)),
            field_manager=FIELD_MANAGER,
            trust_env=False,
            timeout=httpx2.Timeout(timeout),
            transport=transport,
        )
    except Permanent:
        raise
    except Exception as e:
        raise Permanent(f"kubeconfig: cannot build a client: {type(e).__name__}") from None
