"""`helm install` as the helm CLI does it against an API server: the chart's objects created through the Kubernetes
API with Helm's ownership metadata, then the release record in Helm's Secret storage (helm pkg/action/install.go,
pkg/storage/driver/secrets.go, util.go encodeRelease: JSON, gzip, base64, stored base64 again as Secret data)."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from lightkube import Client, KubeConfig, codecs
from lightkube.core.exceptions import ApiError
from lightkube.resources.core_v1 import Namespace
from ruamel.yaml import YAML


def client(kubeconfig: str, server: str) -> Client:
    """A client from a kubeconfig (as `talosctl kubeconfig` writes it), sent to `server` (where the API answers)."""
    conf = YAML(typ="safe").load(kubeconfig)
    for cluster in conf["clusters"]:
        cluster["cluster"]["server"] = server
    return Client(config=KubeConfig.from_dict(conf), field_manager="helm")


def helm_install(
    api: Client,
    release: str,
    namespace: str,
    chart: str,
    version: str,
    values: dict[str, Any],
    objects: list[dict[str, Any]],
) -> None:
    try:
        api.create(Namespace(metadata={"name": namespace}))  # type: ignore[arg-type]
    except ApiError as e:
        if e.status.code != 409:
            raise
    for obj in objects:
        api.create(codecs.from_dict(obj))
    record = {
        "name": release,
        "namespace": namespace,
        "version": 1,
        "info": {"status": "deployed", "description": "Install complete"},
        "chart": {"metadata": {"name": chart, "version": version, "appVersion": version}},
        "config": values,
        "manifest": "",
    }
    encoded = base64.b64encode(gzip.compress(json.dumps(record).encode())).decode()
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "helm.sh/release.v1",
        "metadata": {
            "name": f"sh.helm.release.v1.{release}.v1",
            "namespace": namespace,
            "labels": {"owner": "helm", "name": release, "status": "deployed", "version": "1"},
        },
        "data": {"release": base64.b64encode(encoded.encode()).decode()},
    }
    api.create(codecs.from_dict(secret))
