"""The twin's REST surface, spoken to with plain HTTP requests (httpx) the way kubectl would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.lab.kube import KubeTwin, TwinOptions, ssa
from runner.lab.kube.app import create_app
from runner.lab.serve import serve_in_thread

TOKEN = "lab-token"
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    twin = KubeTwin(TwinOptions(tokens=frozenset({TOKEN})))
    running = serve_in_thread(create_app(twin))
    with httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client
    running.stop()


def status_of(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    assert body["kind"] == "Status" and body["status"] == "Failure"
    return body["code"], body["reason"], body["message"]


def test_discovery(http: httpx.Client) -> None:
    assert http.get("/version").json()["gitVersion"] == "v1.32.1"
    assert http.get("/api").json()["versions"] == ["v1"]
    names = {r["name"] for r in http.get("/api/v1").json()["resources"]}
    assert {"namespaces", "nodes", "nodes/status", "secrets", "configmaps", "serviceaccounts", "services"} <= names
    groups = {g["name"] for g in http.get("/apis").json()["groups"]}
    assert {"apps", "rbac.authorization.k8s.io", "apiextensions.k8s.io"} <= groups


def test_missing_or_wrong_token_is_401() -> None:
    twin = KubeTwin(TwinOptions(tokens=frozenset({TOKEN})))
    running = serve_in_thread(create_app(twin))
    try:
        for headers in ({}, {"Authorization": "Bearer nope"}):
            assert status_of(httpx.get(f"{running.url}/api/v1/namespaces", headers=headers))[:2] == (
                401,
                "Unauthorized",
            )
    finally:
        running.stop()


def test_create_conflicts_and_not_found(http: httpx.Client) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c1"}, "data": {"a": "1"}}
    created = http.post("/api/v1/namespaces/default/configmaps", json=body)
    assert created.status_code == 201
    assert status_of(http.post("/api/v1/namespaces/default/configmaps", json=body)) == (
        409,
        "AlreadyExists",
        'configmaps "c1" already exists',
    )
    stale = {**created.json(), "metadata": {**created.json()["metadata"], "resourceVersion": "1"}}
    code, reason, message = status_of(http.put("/api/v1/namespaces/default/configmaps/c1", json=stale))
    assert (code, reason) == (409, "Conflict") and "the object has been modified" in message
    assert status_of(http.get("/apis/apps/v1/namespaces/default/deployments/none")) == (
        404,
        "NotFound",
        'deployments.apps "none" not found',
    )
    assert status_of(http.post("/api/v1/namespaces/ghost/configmaps", json=body))[:2] == (404, "NotFound")


def test_merge_patch_bumps_resource_version_and_records_the_manager(http: httpx.Client) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c2"}, "data": {"a": "1"}}
    rv = http.post("/api/v1/namespaces/default/configmaps", json=body).json()["metadata"]["resourceVersion"]
    patched = http.patch(
        "/api/v1/namespaces/default/configmaps/c2?fieldManager=editor",
        json={"data": {"a": None, "b": "2"}},
        headers={"Content-Type": "application/merge-patch+json"},
    ).json()
    assert patched["data"] == {"b": "2"}
    assert int(patched["metadata"]["resourceVersion"]) > int(rv)
    assert "editor" in [m["manager"] for m in patched["metadata"]["managedFields"]]


def test_crd_registration_serves_the_kind_and_validates_it(http: httpx.Client) -> None:
    crd = yaml.safe_load((DATA / "widgets-crd.yaml").read_text())
    assert http.get("/apis/example.org/v1/namespaces/default/widgets").status_code == 404
    assert http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd).status_code == 201
    ok = {
        "apiVersion": "example.org/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 3, "colour": "x"},
    }
    created = http.post("/apis/example.org/v1/namespaces/default/widgets", json=ok).json()
    assert created["spec"] == {"size": 3}  # unknown fields are pruned, as the real server does
    bad = {**ok, "metadata": {"name": "v"}, "spec": {}}
    assert status_of(http.post("/apis/example.org/v1/namespaces/default/widgets", json=bad)) == (
        422,
        "Invalid",
        'Widget.example.org "v" is invalid: spec.size: Required value',
    )
    listed = http.get("/apis/example.org/v1/widgets").json()
    assert listed["kind"] == "WidgetList" and [i["metadata"]["name"] for i in listed["items"]] == ["w"]


def test_lab_nodes_endpoint_registers_a_not_ready_node(http: httpx.Client) -> None:
    node = http.post("/lab/nodes", json={"name": "talos-cp-09", "ip": "10.0.0.19", "role": "controlplane"}).json()
    assert node["status"]["conditions"][0]["status"] == "False"
    keys = {t["key"] for t in node["spec"]["taints"]}
    assert keys == {"node.kubernetes.io/not-ready", "node-role.kubernetes.io/control-plane"}
    assert http.get("/lab/state").json()["vip_answers"] is False


# Server-side apply invariants -------------------------------------------------------------------
keys = st.sampled_from(["a", "b", "c", "d"])
leaves = st.one_of(st.integers(0, 3), st.text("xy", max_size=2), st.lists(st.integers(0, 2), max_size=2))
trees: st.SearchStrategy[Any] = st.recursive(
    leaves, lambda inner: st.dictionaries(keys, inner, min_size=1, max_size=3), max_leaves=8
)
configs = st.dictionaries(keys, trees, min_size=1, max_size=3).map(
    lambda spec: {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "spec": spec}
)


@settings(max_examples=150, deadline=None)
@given(configs, configs)
def test_apply_is_idempotent_and_reapplying_drops_removed_fields(first: dict[str, Any], second: dict[str, Any]) -> None:
    obj, managers, conflicts = ssa.apply(None, first, {}, "runner", False, "t")
    assert not conflicts
    again, managers2, _ = ssa.apply(obj, first, managers, "runner", False, "t")
    assert again == obj and {k: v.fields for k, v in managers2.items()} == {k: v.fields for k, v in managers.items()}
    replaced, _, _ = ssa.apply(obj, second, managers, "runner", False, "t")
    assert replaced["spec"] == ssa.merge_patch({}, second["spec"])  # sole owner: the object is exactly the config


@settings(max_examples=150, deadline=None)
@given(configs, configs)
def test_a_second_manager_conflicts_only_on_differing_values(mine: dict[str, Any], theirs: dict[str, Any]) -> None:
    obj, managers, _ = ssa.apply(None, mine, {}, "runner", False, "t")
    _, _, conflicts = ssa.apply(obj, theirs, managers, "other", False, "t")

    def related(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
        return a[: len(b)] == b[: len(a)]

    differing = {
        q
        for q in ssa.leaf_paths(mine)
        if any(related(q, p) for p in ssa.leaf_paths(theirs)) and ssa.get_path(mine, q) != ssa.get_path(theirs, q)
    }
    assert {c[2] for c in conflicts} == {ssa.dotted(p) for p in differing}
    forced, _, none = ssa.apply(obj, theirs, managers, "other", True, "t")
    assert not none
    assert all(ssa.get_path(forced, p) == ssa.get_path(theirs, p) for p in ssa.leaf_paths(theirs))
