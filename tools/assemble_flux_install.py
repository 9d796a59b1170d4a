"""Assemble a Flux release's install manifest the way `flux install --export` builds it, from git sources.

`flux install` downloads the release's `manifests.tar.gz`, whose per-component files are `kustomize build` of
fluxcd/flux2 `manifests/bases/<component>` (the controller's CRDs and Deployment from its own release at the
tag pinned in `manifests/crds/kustomization.yaml`, the ServiceAccount, the component labels and `patch.yaml`),
plus `manifests/rbac` and `manifests/policies` (manifests/scripts/bundle.sh). It then runs kustomize once more
with the generated kustomization of pkg/manifestgen/install/templates.go (namespace, instance/version labels,
`roles` with the `-flux-system` suffix, node selector, the args replaced by the default options, ghcr.io images).

Only the four default components are built (source, kustomize, helm, notification), with `flux install`'s
defaults. Usage: assemble_flux_install.py FLUX2_GIT_DIR TAG CONTROLLERS_GIT_DIR_PATTERN > gotk-components.yaml
where the pattern holds `{name}` (e.g. `git/{name}.git`); each is a git directory of fluxcd/<name>.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from typing import Any

import yaml

COMPONENTS = ("source-controller", "kustomize-controller", "helm-controller", "notification-controller")
NAMESPACE = "flux-system"
CLUSTER_DOMAIN = "cluster.local"
REGISTRY = "ghcr.io/fluxcd"
EVENTS_ADDR = f"http://notification-controller.{NAMESPACE}.svc.{CLUSTER_DOMAIN}./"
CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}


def show(git_dir: str, tag: str, path: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", git_dir, "show", f"{tag}:{path}"], check=True, capture_output=True, text=True
    ).stdout


def docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def kustomization_resources(git_dir: str, tag: str, directory: str) -> list[str]:
    k = yaml.safe_load(show(git_dir, tag, f"{directory}/kustomization.yaml"))
    return [str(r) for r in k["resources"]]


def json_patch(obj: dict[str, Any], ops: list[dict[str, Any]]) -> None:
    """RFC 6902 add/replace on the paths kustomize's patches use (array index or `-`, map keys)."""
    for op in ops:
        *parents, last = op["path"].strip("/").split("/")
        node: Any = obj
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        value = copy.deepcopy(op["value"])
        if isinstance(node, list):
            if last == "-":
                node.append(value)
            elif op["op"] == "add":
                node.insert(int(last), value)
            else:
                node[int(last)] = value
        else:
            node[last] = value


def add_labels(obj: dict[str, Any], labels: dict[str, str], template: bool) -> None:
    """A LabelTransformer; `template`: its fieldSpecs include Deployment spec/template/metadata/labels."""
    obj["metadata"].setdefault("labels", {}).update(labels)
    if template and obj["kind"] == "Deployment":
        obj["spec"]["template"].setdefault("metadata", {}).setdefault("labels", {}).update(labels)


def controller(flux2: str, tag: str, name: str, pinned: str, git_dir: str) -> list[dict[str, Any]]:
    """`kustomize build manifests/bases/<name>`: CRDs, the release's Deployment (+Service), the account."""
    out = []
    for res in kustomization_resources(git_dir, pinned, "config/crd"):
        out += docs(show(git_dir, pinned, f"config/crd/{res}"))
    for res in kustomization_resources(git_dir, pinned, "config/manager"):
        out += docs(show(git_dir, pinned, f"config/manager/{res}"))
    for obj in out:
        if obj["kind"] == "Deployment":
            for c in obj["spec"]["template"]["spec"]["containers"]:
                if c["image"] == f"fluxcd/{name}":
                    c["image"] = f"fluxcd/{name}:{pinned}"
            json_patch(obj, yaml.safe_load(show(flux2, tag, f"manifests/bases/{name}/patch.yaml")))
    out += docs(show(flux2, tag, f"manifests/bases/{name}/account.yaml"))
    transformer = yaml.safe_load(show(flux2, tag, f"manifests/bases/{name}/labels.yaml"))
    template = any(f.get("kind") == "Deployment" for f in transformer["fieldSpecs"])
    for obj in out:
        add_labels(obj, transformer["labels"], template)
    return legacy_sorted(out)


# kustomize's legacy resource order (api/resid/gvk.go orderFirst / orderLast), then by name.
ORDER_FIRST = [
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
]
ORDER_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]


def legacy_sorted(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def key(obj: dict[str, Any]) -> tuple[int, str, str]:
        kind = obj["kind"]
        rank = (
            ORDER_FIRST.index(kind)
            if kind in ORDER_FIRST
            else len(ORDER_FIRST) + (1 + ORDER_LAST.index(kind) if kind in ORDER_LAST else 0)
        )
        return rank, "" if kind in ORDER_FIRST or kind in ORDER_LAST else kind, obj["metadata"]["name"]

    return sorted(objs, key=key)


def install(flux2: str, tag: str, pattern: str) -> list[dict[str, Any]]:
    pin_of: dict[str, str] = {}
    for version, name in re.findall(
        r"download/(v[0-9.]+)/([a-z-]+)\.crds\.yaml", show(flux2, tag, "manifests/crds/kustomization.yaml")
    ):
        pin_of[name] = version
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": NAMESPACE,
            "labels": {
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/warn-version": "latest",
            },
        },
    }
    policies = [
        d
        for r in kustomization_resources(flux2, tag, "manifests/policies")
        for d in docs(show(flux2, tag, f"manifests/policies/{r}"))
    ]
    roles = [
        d
        for r in kustomization_resources(flux2, tag, "manifests/rbac")
        for d in docs(show(flux2, tag, f"manifests/rbac/{r}"))
    ]
    cluster_roles = {o["metadata"]["name"] for o in roles if o["kind"] == "ClusterRole"}
    for obj in roles:  # kustomizationRolesTmpl: nameSuffix -<namespace>, references to renamed roles follow
        obj["metadata"]["name"] += f"-{NAMESPACE}"
        ref = obj.get("roleRef") or {}
        if ref.get("kind") == "ClusterRole" and ref.get("name") in cluster_roles:
            ref["name"] += f"-{NAMESPACE}"
    # install.go's labelsTmpl: its fieldSpecs name Deployment pod templates from the release that adds them
    template = "spec/template/metadata/labels" in show(flux2, tag, "pkg/manifestgen/install/templates.go")
    objs = [namespace, *legacy_sorted(policies), *legacy_sorted(roles)]
    for name in COMPONENTS:
        objs += controller(flux2, tag, name, pin_of[name], pattern.format(name=name))
    for obj in objs:
        if obj["kind"] not in CLUSTER_SCOPED:
            obj["metadata"]["namespace"] = NAMESPACE
        if obj["kind"] in ("ClusterRoleBinding", "RoleBinding"):
            for subject in obj.get("subjects") or []:
                if subject.get("kind") == "ServiceAccount":
                    subject["namespace"] = NAMESPACE
        if obj["kind"] == "Deployment":
            name = obj["metadata"]["name"]
            pod = obj["spec"]["template"]["spec"]
            pod["nodeSelector"] = {"kubernetes.io/os": "linux"}
            args = pod["containers"][0]["args"]
            if name == "notification-controller":
                args[0:2] = ["--watch-all-namespaces=true", "--log-level=info"]
            else:
                args[0:3] = [f"--events-addr={EVENTS_ADDR}", "--watch-all-namespaces=true", "--log-level=info"]
            if name == "source-controller":
                args[6] = f"--storage-adv-addr={name}.$(RUNTIME_NAMESPACE).svc.{CLUSTER_DOMAIN}."
            for c in pod["containers"]:
                image, _, version = c["image"].partition(":")
                if image == f"fluxcd/{name}":
                    c["image"] = f"{REGISTRY}/{name}:{version}"
        add_labels(
            obj,
            {
                "app.kubernetes.io/instance": NAMESPACE,
                "app.kubernetes.io/version": tag,
                "app.kubernetes.io/part-of": "flux",
            },
            template,
        )
    return objs


def main() -> None:
    flux2, tag, pattern = sys.argv[1:4]
    header = (
        "---\n# This manifest was generated by flux. DO NOT EDIT.\n"
        f"# Flux Version: {tag}\n# Components: {','.join(COMPONENTS)}\n"
    )
    body = "---\n".join(yaml.safe_dump(o, sort_keys=True, width=10**6) for o in install(flux2, tag, pattern))
    sys.stdout.write(header + body)


if __name__ == "__main__":
    main()
