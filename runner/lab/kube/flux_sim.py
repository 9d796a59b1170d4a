"""source-controller + kustomize-controller, simulated over the twin's own store.

A Kustomization is reconciled like the real controller does it: source artifact -> dependsOn -> build
(kustomize) -> decrypt (SOPS) -> server-side apply with force, Flux's ownership labels and field manager
-> prune what left the inventory -> wait for health -> Ready with `Applied revision: <branch>@sha1:<sha>`.
The controllers only act while their Deployments could run (see cluster.py), so an unpatched Flux
install stays idle on a cluster whose nodes are NotReady, as it would for real.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from . import errors, flux_pods, kustomize, pod_network, postbuild, sops
from .apply_memo import ApplyMemo
from .catalog import Catalog, ResourceType
from .cluster import ClusterSim
from .conditions import condition, is_ready, kstatus, ready_of
from .controller import Controller
from .gitsource import GitSource, SourceError, Tree
from .retry import RetrySchedule
from .store import Store

MANAGER = "kustomize-controller"
NAME_LABEL = "kustomize.toolkit.fluxcd.io/name"
NAMESPACE_LABEL = "kustomize.toolkit.fluxcd.io/namespace"
_FIRST = ("CustomResourceDefinition", "Namespace")


class FluxSim(Controller):
    def __init__(self, store: Store, catalog: Catalog, cluster: ClusterSim, git: GitSource, events: list[str]) -> None:
        super().__init__(store, catalog, events)
        self.cluster = cluster
        self.git = git
        self.memo = ApplyMemo(store)
        self.trees: dict[tuple[str, str], Tree] = {}  # (namespace, GitRepository name) -> checked-out tree
        self.retry = RetrySchedule()
        # (controller, object, new status): the event the controller records for a changed outcome
        self.notify: Callable[[str, dict[str, Any], dict[str, Any]], None] = lambda _c, _o, _s: None

    def controller_running(self, name: str) -> bool:
        """Its Deployment is Available and a pod of it has a node (flux_pods: found by the controller's image)."""
        found = flux_pods.locate(self.store, self.catalog, name)
        return (
            found is not None
            and self.cluster.workload_ready(found.deployment)
            and flux_pods.placed_pod(self.store, self.catalog, found.deployment) is not None
        )

    def unresolvable(self, controller: str, url: str) -> str | None:
        """The lookup error a controller gets for the URL's host from the resolver its DNS policy gives it
        (pod_network.lookup_error); None when the name resolves (or the URL has an IP)."""
        found = flux_pods.locate(self.store, self.catalog, controller)
        host = pod_network.needs_dns(url)
        if host is None:
            return None
        pod = found.pod_spec if found else {}
        return pod_network.lookup_error(host, pod, flux_pods.FLUX_NS, self.cluster.cluster_dns_answers)

    # source-controller ---------------------------------------------------------------------------
    def reconcile_sources(self) -> None:
        rt = self.catalog.by_kind("source.toolkit.fluxcd.io/v1", "GitRepository")
        if rt is None or not self.controller_running("source-controller"):
            return
        for repo in self.store.list(rt, None):
            meta, spec = repo["metadata"], repo.get("spec", {})
            branch = (spec.get("ref") or {}).get("branch", "master")
            old = repo.get("status") or {}
            try:
                lookup = self.unresolvable("source-controller", spec.get("url", ""))
                if lookup:
                    raise SourceError(
                        f"failed to checkout and determine revision: unable to clone '{spec.get('url', '')}': {lookup}"
                    )
                tree = self.git.checkout(spec.get("url", ""), branch)
            except SourceError as e:
                self.trees.pop((meta["namespace"], meta["name"]), None)
                status = {
                    **old,
                    "observedGeneration": meta["generation"],
                    "conditions": condition(
                        old.get("conditions"), "False", "GitOperationFailed", str(e), meta["generation"]
                    ),
                }
            else:
                self.trees[(meta["namespace"], meta["name"])] = tree
                revision = f"{branch}@sha1:{tree.sha}"
                status = {
                    **old,
                    "observedGeneration": meta["generation"],
                    "artifact": {
                        "revision": revision,
                        "path": f"gitrepository/{meta['namespace']}/{meta['name']}/{tree.sha}.tar.gz",
                    },
                    "conditions": condition(
                        old.get("conditions"),
                        "True",
                        "Succeeded",
                        f"stored artifact for revision '{revision}'",
                        meta["generation"],
                    ),
                }
            self._set_status(rt, repo, status)

    # kustomize-controller ------------------------------------------------------------------------
    def reconcile_kustomizations(self) -> None:
        rt = self.catalog.by_kind("kustomize.toolkit.fluxcd.io/v1", "Kustomization")
        if rt is None or not self.controller_running("kustomize-controller"):
            return
        for ks in self.store.list(rt, None):
            current = self.store.find(rt, ks["metadata"]["namespace"], ks["metadata"]["name"])
            if current is None or self.retry.waiting(current, self._source_revision(current)):
                continue
            self._set_status(rt, current, self.retry.attempted(current, self._reconcile(current)))

    def _source_revision(self, ks: dict[str, Any]) -> str | None:
        source = ks.get("spec", {}).get("sourceRef") or {}
        git_rt = self.catalog.by_kind("source.toolkit.fluxcd.io/v1", "GitRepository")
        ns = source.get("namespace", ks["metadata"]["namespace"])
        repo = self.store.find(git_rt, ns, source.get("name", "")) if git_rt else None
        revision = (((repo or {}).get("status") or {}).get("artifact") or {}).get("revision")
        return str(revision) if revision else None

    def _reconcile(self, ks: dict[str, Any]) -> dict[str, Any]:
        meta, spec = ks["metadata"], ks.get("spec", {})
        ns, gen = meta["namespace"], meta["generation"]
        old = ks.get("status") or {}

        def result(state: str, reason: str, message: str, **extra: Any) -> dict[str, Any]:
            return {
                **old,
                "observedGeneration": gen,
                **extra,
                "conditions": condition(old.get("conditions"), state, reason, message, gen),
            }

        source = spec.get("sourceRef") or {}
        source_ns = source.get("namespace", ns)
        source_id = f"{source.get('kind')}/{source_ns}/{source.get('name')}"
        git_rt = self.catalog.by_kind("source.toolkit.fluxcd.io/v1", "GitRepository")
        repo = self.store.find(git_rt, source_ns, source.get("name", "")) if git_rt else None
        if source.get("kind") != "GitRepository" or repo is None:
            return result("False", "ArtifactFailed", f"Source '{source_id}' not found")
        tree = self.trees.get((source_ns, source.get("name", "")))
        if tree is None or ready_of(repo)[0] != "True":
            return result("False", "ArtifactFailed", "Source artifact not found, retrying in 30s")
        revision = repo["status"]["artifact"]["revision"]
        for dep in spec.get("dependsOn") or []:
            dep_ns = dep.get("namespace", ns)
            other = self.store.find(self._rt(ks["apiVersion"], ks["kind"]), dep_ns, dep["name"])
            if not is_ready(other):
                return result("False", "DependencyNotReady", f"dependency '{dep_ns}/{dep['name']}' is not ready")
        try:
            objects = self._build(ks, tree)
        except (kustomize.BuildError, sops.DecryptionError) as e:  # postbuild.VariablesError is a BuildError
            return result("False", "BuildFailed", str(e), lastAttemptedRevision=revision)
        try:
            applied = self._apply(ks, objects)
        except errors.ApiStatusError as e:
            return result("False", "ReconciliationFailed", e.message, lastAttemptedRevision=revision)
        inventory = {"entries": [{"id": _inventory_id(o), "v": o["apiVersion"].rpartition("/")[2]} for o in applied]}
        if spec.get("prune"):
            self._prune(old.get("inventory") or {}, inventory)
        base = {"lastAttemptedRevision": revision, "inventory": inventory}
        if spec.get("wait"):
            self.cluster.update_workloads()
            failed, pending = self._health(applied)
            if failed:
                return result(
                    "False",
                    "HealthCheckFailed",
                    f"health check failed after 0s: failed early due to stalled resources: [{', '.join(failed)}]",
                    **base,
                )
            if pending:
                return result(
                    "Unknown",
                    "Progressing",
                    f"Running health checks for revision '{revision}' with a "
                    f"timeout of {spec.get('timeout', spec.get('interval', '5m'))}",
                    **base,
                )
        return result(
            "True", "ReconciliationSucceeded", f"Applied revision: {revision}", lastAppliedRevision=revision, **base
        )

    def _build(self, ks: dict[str, Any], tree: Tree) -> list[dict[str, Any]]:
        post = ks.get("spec", {}).get("postBuild")
        variables = postbuild.variables(self.store, self.catalog, ks) if post is not None else {}
        strict = postbuild.strict(self.store, self.catalog)
        return self.memo.build(ks, tree.sha, variables, strict, lambda: self._build_now(ks, tree, variables, strict))

    def _build_now(
        self, ks: dict[str, Any], tree: Tree, variables: dict[str, str], strict: bool
    ) -> list[dict[str, Any]]:
        objects = kustomize.build(tree, ks.get("spec", {}).get("path", "./"))
        decryption = ks.get("spec", {}).get("decryption") or {}
        post = ks.get("spec", {}).get("postBuild")
        out = []
        for obj in objects:
            if sops.is_encrypted(obj):
                name = f"{obj['kind']}/{(obj.get('metadata') or {}).get('namespace', '')}/{obj['metadata'].get('name')}"
                if decryption.get("provider") != "sops":
                    raise kustomize.BuildError(f"{name}: SOPS-encrypted manifest but spec.decryption is not set")
                obj = sops.decrypt(obj, self._identities(ks, decryption, name))
            if post is not None:
                obj = postbuild.substitute(obj, variables, strict)
            out.append(obj)
        return out

    def _identities(self, ks: dict[str, Any], decryption: dict[str, Any], what: str) -> list[Any]:
        secret_name = (decryption.get("secretRef") or {}).get("name", "")
        secret_rt = self.catalog.by_kind("v1", "Secret")
        secret = self.store.find(secret_rt, ks["metadata"]["namespace"], secret_name) if secret_rt else None
        if secret is None:
            raise sops.DecryptionError(f'decryption secret error: Secret "{secret_name}" not found')
        identities = sops.identities_from_secret(secret.get("data") or {})
        if not identities:
            raise sops.DecryptionError(f"failed to decrypt {what}: no age identities in Secret '{secret_name}'")
        return identities

    def _apply(self, ks: dict[str, Any], objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ks_meta = ks["metadata"]
        ordered = sorted(objects, key=lambda o: 0 if o["kind"] in _FIRST else 1)
        applied = []
        for desired in ordered:
            rt = self.catalog.by_kind(desired["apiVersion"], desired["kind"])
            same = self.memo.unchanged(ks, desired, rt) if rt is not None else None
            if same is not None:
                applied.append(same)
                continue
            obj = copy.deepcopy(desired)
            meta = obj.setdefault("metadata", {})
            rt = self.catalog.by_kind(obj["apiVersion"], obj["kind"])
            ident = f"{obj['kind']}/{meta.get('namespace') + '/' if meta.get('namespace') else ''}{meta.get('name')}"
            if rt is None:
                raise errors.ApiStatusError(
                    400,
                    "BadRequest",
                    f'{ident} dry-run failed: no matches for kind "{obj["kind"]}" in version "{obj["apiVersion"]}"',
                )
            labels = meta.setdefault("labels", {})
            labels[NAME_LABEL] = ks_meta["name"]
            labels[NAMESPACE_LABEL] = ks_meta["namespace"]
            if rt.namespaced and not meta.get("namespace"):
                meta["namespace"] = ks.get("spec", {}).get("targetNamespace") or "default"
            try:
                applied.append(
                    self.store.apply(
                        rt, meta.get("namespace") if rt.namespaced else None, meta["name"], obj, MANAGER, force=True
                    )
                )
                self.memo.remember(ks, desired, applied[-1])
            except errors.ApiStatusError as e:
                raise errors.ApiStatusError(
                    e.code, e.reason, f"{ident} dry-run failed ({e.reason}): {e.message}"
                ) from e
        return applied

    def _prune(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        keep = {e["id"] for e in new.get("entries", [])}
        for entry in old.get("entries", []):
            if entry["id"] in keep:
                continue
            ns, name, group, kind = entry["id"].split("_", 3)
            rt = self.catalog.by_kind(f"{group}/{entry['v']}" if group else entry["v"], kind)
            if rt is not None and self.store.find(rt, ns or None, name) is not None:
                self.store.delete(rt, ns or None, name)

    def _health(self, applied: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
        failed, pending = [], []
        for obj in applied:
            meta = obj["metadata"]
            ident = f"{obj['kind']}/{meta.get('namespace', '')}/{meta['name']}".replace("//", "/")
            rt = self.catalog.by_kind(obj["apiVersion"], obj["kind"])
            live = self.store.find(rt, meta.get("namespace"), meta["name"]) if rt else None
            if live is None:
                pending.append(f"{ident} status: 'NotFound'")
            elif obj["kind"] in ("Deployment", "DaemonSet", "StatefulSet"):
                if not self.cluster.workload_ready(live):
                    pending.append(f"{ident} status: 'InProgress'")
            elif obj["kind"] in ("HelmRelease", "Kustomization"):
                state = ready_of(live)[0]
                if state == "False" and (live.get("status") or {}).get("observedGeneration") == meta.get("generation"):
                    failed.append(f"{ident} status: 'Failed'")
                elif not is_ready(live):
                    pending.append(f"{ident} status: 'InProgress'")
            elif (verdict := kstatus(live)) != "Current":
                (failed if verdict == "Failed" else pending).append(f"{ident} status: '{verdict}'")
        return failed, pending

    # helpers -------------------------------------------------------------------------------------
    def _set_status(self, rt: ResourceType, obj: dict[str, Any], status: dict[str, Any]) -> None:
        was = is_ready(obj)
        meta = obj["metadata"]
        if self.store.set_status(rt, meta.get("namespace"), meta["name"], status):
            controller = "source-controller" if obj["kind"] == "GitRepository" else MANAGER
            self.notify(controller, obj, status)
            now_ready = is_ready({**obj, "status": status})
            if now_ready and not was:
                self.events.append(f"{obj['kind']}/{meta.get('namespace')}/{meta['name']} Ready")


def _inventory_id(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    group = obj["apiVersion"].rpartition("/")[0]
    return f"{meta.get('namespace', '')}_{meta['name']}_{group}_{obj['kind']}"
