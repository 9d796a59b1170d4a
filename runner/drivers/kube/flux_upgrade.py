"""Moving a running Flux to another vendored release: the CRD stored-version migration of `flux migrate`
(through a bridge CRD when the new one drops a stored version), the new release installed, the old install's
leftovers pruned. What is decided is core.flux_migration's; this module only reads and writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.types import PatchType

from runner.core.flux_migration import PART_OF, PRUNABLE, CrdMigration, plan_crd_migrations, prune_targets
from runner.core.secret import Secret

from . import flux_install
from .apply import as_dict
from .errors import translated


class FluxUpgradeOps:
    _client: Client

    # provided by the classes this mixes into (ServerSideApply, LightkubeApi)
    def _resource(self, api_version: str, kind: str) -> Any:
        raise NotImplementedError

    def apply(self, objs: Sequence[Mapping[str, Any]], *, handoff: bool = False) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _wait_established(self, name: str, timeout: float = 60.0) -> None:
        raise NotImplementedError

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
        raise NotImplementedError

    def upgrade_flux(
        self,
        version: str,
        git_url: str,
        branch: str,
        path: str,
        sops_age_key: Secret,
        git_auth: Mapping[str, Secret | str] | None = None,
        *,
        handoff: bool = False,
        settings: Mapping[str, str] | None = None,
    ) -> list[str]:
        done: list[str] = []
        new_crds = [d for d in flux_install.vendored_components(version) if d["kind"] == "CustomResourceDefinition"]
        for migration in plan_crd_migrations(self._flux_crds(), new_crds):
            done += self._migrate(migration)
        self.install_flux(
            git_url, branch, path, sops_age_key, git_auth, handoff=handoff, settings=settings, version=version
        )
        done.append(f"Flux {version} applied")
        new = flux_install.patched_components(version)
        for api_version, kind, namespace, name in prune_targets(self._install_objects(), new):
            res = self._resource(api_version, kind)
            where = f"{namespace}/" if namespace else ""
            with translated(f"delete {kind} {where}{name}"):
                try:
                    self._client.delete(res, name, namespace=namespace or None)
                except ApiError as e:
                    if e.status.code != 404:
                        raise
            done.append(f"pruned {kind} {where}{name}")
        return done

    def _flux_crds(self) -> list[dict[str, Any]]:
        with translated("list Flux CustomResourceDefinitions"):
            return [as_dict(c) for c in self._client.list(CustomResourceDefinition, labels={PART_OF[0]: PART_OF[1]})]

    def _migrate(self, m: CrdMigration) -> list[str]:
        """`flux migrate` for one CRD, to the new release's storage version."""
        done = []
        if m.bridge is not None:
            self.apply([m.bridge])
            self._wait_established(m.name)
            done.append(f"{m.name}: serving {m.storage} beside the stored {', '.join(m.stored)}")
        if not m.rewrite:
            return done
        res = self._resource(f"{m.group}/{m.storage}", m.kind)
        with translated(f"list {m.kind} at {m.group}/{m.storage}"):
            items = [as_dict(o) for o in self._client.list(res, namespace="*")]
        for item in items:
            meta = item["metadata"]
            # An empty merge patch: the server writes the object back encoded at the storage version.
            with translated(f"migrate {m.kind} {meta.get('namespace', '')}/{meta['name']}"):
                try:
                    self._client.patch(
                        res, meta["name"], {}, namespace=meta.get("namespace"), patch_type=PatchType.MERGE
                    )
                except ApiError as e:
                    if e.status.code != 404:  # deleted meanwhile: nothing left to migrate
                        raise
        with translated(f"set the stored versions of {m.name}"):
            self._client.patch(
                CustomResourceDefinition.Status,
                m.name,
                {"status": {"storedVersions": [m.storage]}},
                patch_type=PatchType.MERGE,
            )
        done.append(f"{m.name}: {len(items)} object(s) rewritten at {m.storage}, stored versions {m.storage}")
        return done

    def _install_objects(self) -> list[dict[str, Any]]:
        """Every object of a kind an install holds that carries the install's part-of label."""
        out = []
        for kind, api_version in PRUNABLE.items():
            res = self._resource(api_version, kind)
            labels: dict[str, Any] = {PART_OF[0]: PART_OF[1]}
            with translated(f"list {kind}"):
                if kind in ("ClusterRole", "ClusterRoleBinding"):
                    found = self._client.list(res, labels=labels)
                else:
                    found = self._client.list(res, namespace=flux_install.FLUX_NAMESPACE, labels=labels)
                out += [{**as_dict(o), "kind": kind} for o in found]
        return out
