"""Rules that changed between the Kubernetes releases the twin serves (v1.32 and v1.36 checked upstream): the
twin answers as the kube-apiserver it runs. Pod Security baseline refuses probe and lifecycle hosts from 1.34
(pod-security-admission `policy/check_hostProbesAndhostLifecycle.go` @v0.36.2); field errors show a slice as
JSON from 1.34 (apimachinery `pkg/util/validation/field/errors.go` `ErrorBody` @v0.34.0); label keys and values
count bytes and a key with two slashes is "a valid label key" from 1.35 (apimachinery
`pkg/api/validate/content/kube.go`, `errors.go` @v0.35.0)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from runner.lab.kube import KubeTwin, TwinOptions, pod_security, release, selectors
from runner.lab.kube.errors import ApiStatusError

PROBING_POD: dict[str, Any] = {
    "containers": [
        {
            "name": "manager",
            "image": "example/manager:v1",
            "readinessProbe": {"httpGet": {"host": "10.0.0.1", "port": 8080, "path": "/readyz"}},
            "lifecycle": {"preStop": {"tcpSocket": {"host": "localhost", "port": 9}}},
        },
        {
            "name": "sidecar",
            "image": "example/sidecar:v1",
            "livenessProbe": {"tcpSocket": {"host": "10.0.0.1", "port": 53}},
        },
    ]
}
PROBE_HOSTS = (
    'probe or lifecycle host (containers "manager", "sidecar" use probe or lifecycle hosts "10.0.0.1", "localhost")'
)


def _twin(version: str) -> KubeTwin:
    twin = KubeTwin(TwinOptions(kubernetes_version=version, pod_security=pod_security.TALOS_DEFAULT, kube_proxy=True))
    twin.add_node("talos-cp-01", "10.0.0.11", "controlplane")
    return twin


def _failure(twin: KubeTwin, pod: dict[str, Any], labels: dict[str, str] | None = None) -> str | None:
    ns_rt = twin.catalog.by_kind("v1", "Namespace")
    rt = twin.catalog.by_kind("apps/v1", "Deployment")
    assert ns_rt is not None and rt is not None
    twin.store.create(ns_rt, None, {"metadata": {"name": "apps", "labels": labels or {}}}, "test")
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "ctl", "namespace": "apps"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": pod},
        },
    }
    twin.store.create(rt, "apps", body, "test")
    twin.cluster.update_workloads()
    conditions = twin.store.get(rt, "apps", "ctl")["status"].get("conditions", [])
    return next((str(c["message"]) for c in conditions if c["type"] == "ReplicaFailure"), None)


@pytest.mark.parametrize("version", ["v1.32.1", "v1.33.9"])
def test_before_1_34_baseline_lets_a_probe_name_its_host(version: str) -> None:
    assert _failure(_twin(version), PROBING_POD) is None


@pytest.mark.parametrize("version", ["v1.34.0", "v1.36.3"])
def test_from_1_34_baseline_refuses_a_probe_or_lifecycle_host(version: str) -> None:
    assert _failure(_twin(version), PROBING_POD) == (
        f'Error creating: pods "ctl-" is forbidden: violates PodSecurity "baseline:latest": {PROBE_HOSTS}'
    )


def test_a_namespace_pinned_to_an_older_policy_version_keeps_its_checks() -> None:
    pinned = {"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "v1.33"}
    assert _failure(_twin("v1.36.3"), PROBING_POD, pinned) is None


def test_the_reasons_follow_the_order_of_the_check_ids() -> None:
    # Sorted check IDs: capabilities_baseline, hostNamespaces, hostPathVolumes, hostPorts,
    # hostProbesAndHostLifecycle, privileged (policy/registry.go `populate`).
    pod = copy.deepcopy(PROBING_POD)
    pod["hostNetwork"] = True
    pod["volumes"] = [{"name": "root", "hostPath": {"path": "/"}}]
    pod["containers"][0]["securityContext"] = {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}}
    pod["containers"][0]["ports"] = [{"containerPort": 8080}]
    reasons = (
        'non-default capabilities (container "manager" must not include "SYS_ADMIN" in '
        "securityContext.capabilities.add), host namespaces (hostNetwork=true), "
        'hostPath volumes (volume "root"), hostPort (container "manager" uses hostPort 8080), '
        f'{PROBE_HOSTS}, privileged (container "manager" must not set securityContext.privileged=true)'
    )
    assert _failure(_twin("v1.36.3"), pod) == (
        f'Error creating: pods "ctl-" is forbidden: violates PodSecurity "baseline:latest": {reasons}'
    )


def _crd(twin: KubeTwin, stored: list[str]) -> list[tuple[str, str]]:
    rt = twin.catalog.by_kind("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    assert rt is not None
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [
                {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {"type": "object"}}}
            ],
        },
    }
    twin.store.create(rt, None, crd, "test")
    with pytest.raises(ApiStatusError) as refused:
        twin.store.merge_patch(rt, None, "widgets.example.com", {"status": {"storedVersions": stored}}, "t", True)
    return [(c["field"], c["message"]) for c in refused.value.body()["details"]["causes"]]


@pytest.mark.parametrize(
    ("version", "shown"),
    [
        ("v1.32.1", '[]string{"v1beta1", "v2"}'),
        ("v1.33.9", '[]string{"v1beta1", "v2"}'),
        ("v1.34.0", '["v1beta1","v2"]'),
    ],
)
def test_a_slice_value_is_shown_in_go_syntax_before_1_34_and_as_json_after(version: str, shown: str) -> None:
    causes = _crd(_twin(version), ["v1beta1", "v2"])
    assert causes[0] == ("status.storedVersions", f"Invalid value: {shown}: must have the storage version v1")


def _label_causes(twin: KubeTwin, labels: dict[str, str]) -> list[str]:
    rt = twin.catalog.by_kind("v1", "ConfigMap")
    assert rt is not None
    with pytest.raises(ApiStatusError) as refused:
        twin.store.create(rt, "default", {"metadata": {"name": "x", "namespace": "default", "labels": labels}}, "t")
    return [c["message"] for c in refused.value.body()["details"]["causes"]]


LONG = "a" * 64
KEY_FORMAT = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character (e.g. 'MyName' or 'my.name' or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' "
    "(e.g. 'example.com/MyName')"
)


@pytest.mark.parametrize(
    ("version", "unit", "key"), [("v1.34.0", "characters", "qualified name"), ("v1.35.0", "bytes", "valid label key")]
)
def test_from_1_35_label_lengths_count_bytes_and_a_key_is_a_label_key(version: str, unit: str, key: str) -> None:
    causes = _label_causes(_twin(version), {LONG: "v", "k": LONG, "a/b/c": "v"})
    assert causes == [
        f'Invalid value: "{LONG}": name part must be no more than 63 {unit}',
        f'Invalid value: "{LONG}": must be no more than 63 {unit}',
        f'Invalid value: "a/b/c": a {key} {KEY_FORMAT}',
    ]


def test_an_object_name_is_still_counted_in_characters_at_1_36() -> None:
    twin = _twin("v1.36.3")
    rt = twin.catalog.by_kind("v1", "ConfigMap")
    assert rt is not None
    with pytest.raises(ApiStatusError) as refused:
        twin.store.create(rt, "default", {"metadata": {"name": "a" * 254, "namespace": "default"}}, "t")
    assert refused.value.body()["details"]["causes"][0]["message"].endswith("must be no more than 253 characters")


@pytest.mark.parametrize(("version", "unit"), [("v1.32.1", "characters"), ("v1.36.3", "bytes")])
def test_a_label_selector_value_is_checked_as_that_release_checks_it(version: str, unit: str) -> None:
    with pytest.raises(ValueError) as refused:
        selectors.parse_labels(f"k={LONG}", release.minor_number(version))
    assert str(refused.value).startswith(
        f'unable to parse requirement: values[0][k]: Invalid value: "{LONG}": must be no more than 63 {unit}'
    )


def _deployment_causes(version: str, spec: dict[str, Any]) -> list[tuple[str, str]]:
    twin = _twin(version)
    rt = twin.catalog.by_kind("apps/v1", "Deployment")
    assert rt is not None
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"}}
    with pytest.raises(ApiStatusError) as refused:
        twin.store.create(rt, "default", {**body, "spec": spec}, "t")
    return [(c["field"], c["message"]) for c in refused.value.body()["details"]["causes"]]


TEMPLATE = {
    "metadata": {"labels": {"tier": "web", "app": "api"}},
    "spec": {"containers": [{"name": "c", "image": "i"}]},
}


@pytest.mark.parametrize(
    ("version", "shown"),
    [("v1.33.9", 'map[string]string{"app":"api", "tier":"web"}'), ("v1.34.0", '{"app":"api","tier":"web"}')],
)
def test_template_labels_a_selector_misses_are_shown_as_that_release_shows_them(version: str, shown: str) -> None:
    causes = _deployment_causes(version, {"selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE})
    assert causes == [
        ("spec.template.metadata.labels", f"Invalid value: {shown}: `selector` does not match template `labels`")
    ]


@pytest.mark.parametrize(
    ("version", "shown"),
    [
        (
            "v1.32.1",
            "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}",
        ),
        ("v1.36.3", "{}"),
    ],
)
def test_an_empty_selector_is_shown_as_that_release_shows_it(version: str, shown: str) -> None:
    causes = _deployment_causes(version, {"selector": {"matchLabels": {}}, "template": TEMPLATE})
    assert causes == [("spec.selector", f"Invalid value: {shown}: empty selector is invalid for deployment")]


@pytest.mark.parametrize(("version", "shown"), [("v1.33.9", "map[string]string(nil)"), ("v1.36.3", "null")])
def test_a_template_without_labels_is_shown_as_that_release_shows_a_nil_map(version: str, shown: str) -> None:
    template = {"spec": {"containers": [{"name": "c", "image": "i"}]}}
    causes = _deployment_causes(version, {"selector": {"matchLabels": {"app": "web"}}, "template": template})
    assert causes == [
        ("spec.template.metadata.labels", f"Invalid value: {shown}: `selector` does not match template `labels`")
    ]


@pytest.mark.parametrize(("minor", "reasons"), [(34, ["runAsNonRoot != true"]), (35, [])])
def test_from_1_35_restricted_lets_a_pod_in_a_user_namespace_run_as_root(minor: int, reasons: list[str]) -> None:
    # check_runAsNonRoot.go @v0.36.2: policy 1.35 allows any runAsNonRoot when `hostUsers: false`
    pod = {
        "hostUsers": False,
        "containers": [{"name": "c", "image": "i", "securityContext": {"allowPrivilegeEscalation": False}}],
    }
    found = pod_security.violations("restricted", pod, minor)
    assert [r.split(" (")[0] for r in found] == reasons
