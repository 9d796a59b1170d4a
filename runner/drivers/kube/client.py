"""KubeApi over lightkube: the client, node bookkeeping, Flux status, the Flux install (apply: `apply.py`)."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Mapping
from typing import Any

from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.generic_resource import create_global_resource, create_namespaced_resource
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.core_v1 import Namespace, Node
from lightkube.types import PatchType

from runner.core.errors import Permanent, Transient
from runner.core.secret import Secret

from . import flux_install
from .api import KINDS
from .apply import ServerSideApply, as_dict
from .connect import make_client
from .errors import translated
from .flux_upgrade import FluxUpgradeOps
from .helm_storage import HelmStorageReads
from .inventory_ops import InventoryOps
from .issuers import IssuerOps
from .nodes import NodeDrainOps
from .readiness import FluxStatus, flux_status, workload_status


def _register_flux_kinds() -> None:
    """Flux's kinds as lightkube generic resources, from the vendored CRDs (no cluster round trip)."""
    docs = (d for v in flux_install.vendored_versions() for d in flux_install.vendored_components(v))
    for doc in docs:
        if doc["kind"] != "CustomResourceDefinition":
            continue
        spec = doc["spec"]
        create = create_namespaced_resource if spec["scope"] == "Namespaced" else create_global_resource
        for version in spec["versions"]:
            create(spec["group"], version["name"], spec["names"]["kind"], spec["names"]["plural"])


RECONCILE_REQUEST = "reconcile.fluxcd.io/requestedAt"  # fluxcd/pkg apis/meta: ReconcileRequestAnnotation


class LightkubeApi(ServerSideApply, InventoryOps, NodeDrainOps, IssuerOps, FluxUpgradeOps, HelmStorageReads):
    def __init__(
        self,
        kubeconfig: Secret,
        server: str | None = None,
        *,
        timeout: float = 10.0,
        poll_interval: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client: Client = make_client(kubeconfig, server, timeout)
        self._poll = poll_interval
        self._sleep = sleep
        _register_flux_kinds()

    def close(self) -> None:
        self._client.close()

    # reads ---------------------------------------------------------------------------------------
    def api_ready(self) -> bool:
        try:
            with translated("probe the API server"):
                self._client.get(Namespace, "kube-system")
        except Transient:
            return False
        return True

    def flux_settings(self) -> dict[str, str] | None:
        found = self.get("v1", "ConfigMap", flux_install.SETTINGS_CONFIGMAP, flux_install.FLUX_NAMESPACE)
        return None if found is None else {str(k): str(v) for k, v in (found.get("data") or {}).items()}

    def kubelet_versions(self) -> dict[str, str]:
        with translated("list nodes"):
            nodes = [as_dict(n) for n in self._client.list(Node)]
        return {str(n["metadata"]["name"]): str(n["status"]["nodeInfo"]["kubeletVersion"]) for n in nodes}

    def remove_node(self, name: str) -> bool:
        """Cordon then delete a Node leaving the cluster; False when it was already gone."""
        with translated(f"remove node {name}"):
            try:
                self._client.patch(Node, name, {"spec": {"unschedulable": True}}, patch_type=PatchType.MERGE)
            except ApiError as e:
                if e.status.code == 404:
                    return False
                raise
            self._client.delete(Node, name)
        return True

    def flux_version(self) -> str | None:
        return self.flux_facts()[0]

    def request_reconcile(self, kind: str, name: str, namespace: str = "flux-system") -> str:
        if kind not in KINDS:
            raise Permanent(f"kubernetes: request_reconcile does not know kind {kind!r} (known: {', '.join(KINDS)})")
        token = datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")
        res = self._resource(KINDS[kind], kind)
        patch = {"metadata": {"annotations": {RECONCILE_REQUEST: token}}}
        with translated(f"request a reconcile of {kind} {namespace}/{name}"):
            self._client.patch(res, name, patch, namespace=namespace, patch_type=PatchType.MERGE)
        return token

    def flux_facts(self) -> tuple[str | None, str | None]:
        """(installed Flux version, public half of the Flux key it holds), both read off the flux-system
        Namespace in one request; (None, None) when Flux is not installed."""
        ns = self.get("v1", "Namespace", flux_install.FLUX_NAMESPACE)
        if ns is None:
            return None, None
        meta = ns.get("metadata") or {}
        version = (meta.get("labels") or {}).get("app.kubernetes.io/version")
        return version, (meta.get("annotations") or {}).get(flux_install.FLUX_KEY_ANNOTATION)

    def replace_sops_secret(self, sops_age_key: Secret, *, handoff: bool = False) -> None:
        self.apply([flux_install.sops_secret(sops_age_key)], handoff=handoff)
        recipient = {flux_install.FLUX_KEY_ANNOTATION: flux_install.age_recipient(sops_age_key)}
        with translated(f"annotate Namespace {flux_install.FLUX_NAMESPACE}"):
            self._client.patch(
                Namespace,
                flux_install.FLUX_NAMESPACE,
                {"metadata": {"annotations": recipient}},
                patch_type=PatchType.MERGE,
            )

    def kustomizations_status(self) -> list[FluxStatus]:
        res = self._resource(KINDS["Kustomization"], "Kustomization")
        with translated("list Kustomizations"):
            try:
                return [flux_status(as_dict(k)) for k in self._client.list(res, namespace="*")]
            except ApiError as e:
                if e.status.code == 404:  # the type is not served: Flux's CRDs are not installed (yet)
                    return []
                raise

    def wait_ready(
        self, kind: str, name: str, namespace: str = "flux-system", timeout: float = 300.0, handled: str | None = None
    ) -> FluxStatus:
        if kind not in KINDS:
            raise Permanent(f"kubernetes: wait_ready does not know kind {kind!r} (known: {', '.join(KINDS)})")
        judge = workload_status if KINDS[kind] == "apps/v1" else flux_status
        deadline = time.monotonic() + timeout
        last = f"{kind} {namespace}/{name} not found"
        while True:
            obj = self.get(KINDS[kind], kind, name, namespace)
            if obj is not None and handled is not None and flux_status(obj).last_handled_request != handled:
                last = f"{kind} {namespace}/{name} to handle the reconcile request {handled}"
            elif obj is not None:
                status = judge(obj)
                if status.verdict == "ready":
                    return status
                if status.verdict == "failed":
                    raise Permanent(f"{kind} {namespace}/{name}: {status.reason}: {status.message}")
                last = (
                    f"{kind} {namespace}/{name}: {status.reason or 'no Ready condition yet'}: {status.message}".rstrip(
                        ": "
                    )
                )
            if time.monotonic() >= deadline:
                raise Transient(f"timed out after {timeout:g}s waiting for {last}")
            self._sleep(self._poll)

    # Flux ----------------------------------------------------------------------------------------
    def install_flux(
        self,
        git_url: str,
        branch: str,
        path: str,
        sops_age_key: Secret,
        git_auth: Mapping[str, Secret | str] | None = None,
        *,
        handoff: bool = False,
        settings: Mapping[str, str] | None = None,
        version: str | None = None,
    ) -> list[dict[str, Any]]:
        components = flux_install.patched_components(version or flux_install.flux_version())
        for doc in components:  # which Flux key the cluster holds, where observation reads it anyway
            if doc["kind"] == "Namespace" and doc["metadata"]["name"] == flux_install.FLUX_NAMESPACE:
                annotations = doc["metadata"].setdefault("annotations", {})
                annotations[flux_install.FLUX_KEY_ANNOTATION] = flux_install.age_recipient(sops_age_key)
        crds = [d for d in components if d["kind"] == "CustomResourceDefinition"]
        applied = self.apply(crds, handoff=handoff)
        for crd in crds:
            self._wait_established(crd["metadata"]["name"])
        applied += self.apply([d for d in components if d["kind"] != "CustomResourceDefinition"], handoff=handoff)
        sync = flux_install.sync_objects(
            git_url, branch, path, sops_age_key, dict(git_auth) if git_auth else None, settings=dict(settings or {})
        )
        return applied + self.apply(sync, handoff=handoff)

    def _wait_established(self, name: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with translated(f"get CustomResourceDefinition {name}"):
                crd = as_dict(self._client.get(CustomResourceDefinition, name))
            conditions = (crd.get("status") or {}).get("conditions") or []
            if any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
                return
            if time.monotonic() >= deadline:
                raise Transient(f"CustomResourceDefinition {name} not Established after {timeout:g}s")
            self._sleep(self._poll)
