"""helm-controller, simulated: HelmRelease -> chart lookup -> "install" -> Ready with Flux's reasons."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from . import charts, errors, gateway_api, helm_ownership, lb_ipam
from .catalog import Catalog, ResourceType
from .cluster import ClusterSim
from .conditions import condition, is_ready
from .controller import Controller
from .store import Store

MANAGER = "helm-controller"


class HelmSim(Controller):
    def __init__(self, store: Store, catalog: Catalog, cluster: ClusterSim, events: list[str]) -> None:
        super().__init__(store, catalog, events)
        self.cluster = cluster
        # (controller, url) -> the DNS lookup error source-controller gets for that URL, or None
        self.unresolvable: Callable[[str, str], str | None] = lambda _controller, _url: None
        self.l2_announcements = False  # the installed Cilium release's `l2announcements.enabled`
        # Cilium's operator started with `gatewayAPI.enabled` while the Gateway API CRDs were served; decided at
        # each Cilium install/upgrade (new operator pods), as the operator checks only at start.
        self.gateway_api_started = False
        # (controller, object, new status): the event the controller records for a changed outcome
        self.notify: Callable[[str, dict[str, Any], dict[str, Any]], None] = lambda _c, _o, _s: None

    def reconcile_all(self) -> None:
        rt = self.catalog.by_kind("helm.toolkit.fluxcd.io/v2", "HelmRelease")
        repo_rt = self.catalog.by_kind("source.toolkit.fluxcd.io/v1", "HelmRepository")
        if rt is None or repo_rt is None:
            return
        for repo in self.store.list(repo_rt, None):
            meta = repo["metadata"]
            url = repo.get("spec", {}).get("url", "")
            lookup = self.unresolvable("source-controller", url)
            verdict = (
                (
                    "False",
                    "Failed",
                    f'failed to fetch Helm repository index: Get "{url.rstrip("/")}/index.yaml": {lookup}',
                )
                if lookup
                else ("True", "Succeeded", "stored artifact: revision 'sha256:lab'")
            )
            self.store.set_status(
                repo_rt,
                meta["namespace"],
                meta["name"],
                {
                    "observedGeneration": meta["generation"],
                    "conditions": condition((repo.get("status") or {}).get("conditions"), *verdict, meta["generation"]),
                    "url": url,
                },
            )
        for hr in self.store.list(rt, None):
            status = self._reconcile(hr, repo_rt)
            meta = hr["metadata"]
            changed = self.store.set_status(rt, meta["namespace"], meta["name"], status)
            if changed:
                self.notify(MANAGER, hr, status)
            if changed and is_ready({**hr, "status": status}) and not is_ready(hr):
                self.events.append(f"HelmRelease/{meta['namespace']}/{meta['name']} Ready")

    def _reconcile(self, hr: dict[str, Any], repo_rt: Any) -> dict[str, Any]:
        meta, spec = hr["metadata"], hr.get("spec", {})
        ns, gen = meta["namespace"], meta["generation"]
        old = hr.get("status") or {}

        def result(state: str, reason: str, message: str, **extra: Any) -> dict[str, Any]:
            out = {
                **old,
                "observedGeneration": gen if state != "Unknown" else old.get("observedGeneration", -1),
                "conditions": condition(old.get("conditions"), state, reason, message, gen),
            }
            out.update(extra)
            return out

        for dep in spec.get("dependsOn") or []:
            dep_ns = dep.get("namespace", ns)
            other = self.store.find(self._hr_type(), dep_ns, dep["name"])
            if not is_ready(other):
                return result("False", "DependencyNotReady", f"dependency '{dep_ns}/{dep['name']}' is not ready")
        chart_spec = (spec.get("chart") or {}).get("spec") or {}
        source = chart_spec.get("sourceRef") or {}
        source_ns = source.get("namespace", ns)
        chart_name, version = chart_spec.get("chart", ""), str(chart_spec.get("version", "*"))
        helmchart = f"{source_ns}/{ns}-{meta['name']}"
        if (
            source.get("kind") != "HelmRepository"
            or self.store.find(repo_rt, source_ns, source.get("name", "")) is None
        ):
            return result(
                "False",
                "ArtifactFailed",
                f"HelmChart '{helmchart}' is not ready: failed to get source: "
                f'HelmRepository.source.toolkit.fluxcd.io "{source.get("name", "")}" not found',
            )
        repo = self.store.find(repo_rt, source_ns, source.get("name", "")) or {}
        if not is_ready(repo):
            return result(
                "False",
                "ArtifactFailed",
                f"HelmChart '{helmchart}' is not ready: HelmRepository '{source_ns}/{source.get('name', '')}' "
                "is not ready",
            )
        chart = charts.CHARTS.get(chart_name)
        if chart is None or (version not in ("*", "") and version not in chart.versions):
            return result(
                "False",
                "ArtifactFailed",
                f"HelmChart '{helmchart}' is not ready: invalid chart reference: "
                f"failed to get chart version for remote reference: no '{chart_name}' chart with version "
                f"matching '{version}' found",
            )
        version = chart.versions[-1] if version in ("*", "") else version
        release_ns = spec.get("targetNamespace") or ns
        release = spec.get("releaseName") or (
            f"{release_ns}-{meta['name']}" if spec.get("targetNamespace") else meta["name"]
        )
        storage_ns = spec.get("storageNamespace") or ns
        if old.get("observedGeneration") == gen and old.get("lastAttemptedRevision") == version and is_ready(hr):
            return old
        if not (chart.host_network or self.cluster.cni_ready):
            return result("Unknown", "Progressing", "Running 'install' action with timeout of 5m0s")
        try:
            created = []
            served = frozenset(f"{rt.api_version(v)}/{rt.kind}" for rt in self.catalog.all() for v in rt.versions)
            rendered = charts.side_effects(chart.name, version, spec.get("values") or {}, release_ns, served, release)
            self._check_ownership(rendered, release, release_ns, storage_ns)
            for obj in rendered:
                rt = self.catalog.by_kind(obj["apiVersion"], obj["kind"])
                assert rt is not None
                ns = obj["metadata"].get("namespace")
                created.append(self.store.apply(rt, ns, obj["metadata"]["name"], obj, MANAGER, True))
        except (errors.ApiStatusError, charts.ChartFailed) as e:
            return result(
                "False",
                "InstallFailed",
                f"Helm install failed for release {release_ns}/{release} with "
                f"chart {chart.name}@{version}: {e.message if isinstance(e, errors.ApiStatusError) else e}",
            )
        if chart.name == "cilium":
            values = spec.get("values") or {}
            self.l2_announcements = bool((values.get("l2announcements") or {}).get("enabled"))
            self.gateway_api_started = bool((values.get("gatewayAPI") or {}).get("enabled")) and (
                self.gateway_crds_present()
            )
        pending = [o for o in created if o["kind"] == "Service" and o["spec"].get("type") == "LoadBalancer"]
        waiting = [o for o in pending if not lb_ipam.ingress_ips(o) and not o["spec"].get("externalIPs")]
        if not (spec.get("install") or {}).get("disableWait") and (waiting or not self.workloads_ready(created)):
            # Helm's --wait (helm-controller's default) holds the release until every LoadBalancer Service has
            # an ingress address (helm pkg/kube/ready.go serviceReady).
            return result("Unknown", "Progressing", "Running 'install' action with timeout of 5m0s")
        number = self._record_release(storage_ns, release, release_ns, chart.name, version)
        if chart.name == "cilium":
            self.cluster.set_cni_ready()
        action = "install" if number == 1 else "upgrade"
        return result(
            "True",
            f"{action.capitalize()}Succeeded",
            f"Helm {action} succeeded for release {release_ns}/{release}.v{number} with chart {chart.name}@{version}",
            lastAttemptedRevision=version,
            lastAttemptedReleaseAction=action,
            history=[
                {
                    "chartName": chart.name,
                    "chartVersion": version,
                    "appVersion": version,
                    "name": release,
                    "namespace": release_ns,
                    "version": number,
                    "status": "deployed",
                }
            ],
        )

    def _check_ownership(self, rendered: list[dict[str, Any]], release: str, release_ns: str, storage_ns: str) -> None:
        """Helm refuses to take over an object another release (or no release) owns, before it writes anything."""
        secret_rt = self._rt("v1", "Secret")
        upgrade = any(
            (s["metadata"].get("labels") or {}).get("name") == release
            and (s["metadata"].get("labels") or {}).get("owner") == "helm"
            for s in self.store.list(secret_rt, storage_ns)
        )
        for obj in filter(helm_ownership.is_rendered_by_helm, rendered):
            rt = self._rt(obj["apiVersion"], obj["kind"])
            existing = self.store.find(rt, obj["metadata"].get("namespace"), obj["metadata"]["name"])
            problem = None if existing is None else helm_ownership.ownership_error(existing, release, release_ns)
            if problem is not None:
                raise charts.ChartFailed(f"Unable to continue with {'update' if upgrade else 'install'}: {problem}")

    def workloads_ready(self, created: list[dict[str, Any]]) -> bool:
        """Helm's --wait on the rest of what the twin renders (helm pkg/kube/ready.go): a PVC is ready when
        Bound, a Deployment when its replicas are ready. Only the storage charts render these."""
        for obj in created:
            if obj["kind"] == "PersistentVolumeClaim" and (obj.get("status") or {}).get("phase") != "Bound":
                return False
            if obj["kind"] == "Deployment" and not self.cluster.workload_ready(obj):
                return False
        return True

    def gateway_crds_present(self) -> bool:
        return all(
            any(rt.group == gateway_api.GROUP and rt.plural == plural for rt in self.catalog.all())
            for plural in gateway_api.REQUIRED_PLURALS
        )

    def _hr_type(self) -> ResourceType:
        return self._rt("helm.toolkit.fluxcd.io/v2", "HelmRelease")

    def _record_release(self, storage_ns: str, release: str, release_ns: str, chart: str, version: str) -> int:
        """Helm's release storage: Secrets `sh.helm.release.v1.<name>.v<n>` (what lets Flux adopt a release)."""
        rt = self.catalog.by_kind("v1", "Secret")
        ns_rt = self.catalog.by_kind("v1", "Namespace")
        assert rt is not None and ns_rt is not None
        if self.store.find(ns_rt, None, storage_ns) is None:
            self.store.create(ns_rt, None, {"metadata": {"name": storage_ns}}, MANAGER)
        existing = [
            s
            for s in self.store.list(rt, storage_ns)
            if (s["metadata"].get("labels") or {}).get("name") == release
            and (s["metadata"].get("labels") or {}).get("owner") == "helm"
        ]
        number = max((int(s["metadata"]["labels"].get("version", "0")) for s in existing), default=0) + 1
        payload = base64.b64encode(
            json.dumps(
                {"name": release, "namespace": release_ns, "chart": chart, "version": number, "chartVersion": version}
            ).encode()
        ).decode()
        self.store.create(
            rt,
            storage_ns,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "helm.sh/release.v1",
                "metadata": {
                    "name": f"sh.helm.release.v1.{release}.v{number}",
                    "labels": {"owner": "helm", "name": release, "status": "deployed", "version": str(number)},
                },
                "data": {"release": base64.b64encode(payload.encode()).decode()},
            },
            MANAGER,
        )
        for s in existing:
            self.store.merge_patch(
                rt, storage_ns, s["metadata"]["name"], {"metadata": {"labels": {"status": "superseded"}}}, MANAGER
            )
        return number
