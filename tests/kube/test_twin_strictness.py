"""The twin refuses what kube-apiserver v1.32 refuses, with the same status code and Status, and keeps serving.

The refused requests and their answers are scenario data (data/refusals.yaml); each rule's upstream source is
in FIDELITY.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.lab.kube import KubeTwin, TwinOptions
from runner.lab.kube.app import create_app
from runner.lab.serve import serve_in_thread

DATA = Path(__file__).parent / "data"
CASES = yaml.safe_load((DATA / "refusals.yaml").read_text())
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "x"}]}},
    },
}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    twin = KubeTwin(TwinOptions())
    running = serve_in_thread(create_app(twin))
    with httpx.Client(base_url=running.url) as client:
        crd = yaml.safe_load((DATA / "widgets-crd.yaml").read_text())
        assert client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd).status_code == 201
        yield client
    running.stop()


def send(http: httpx.Client, request: dict[str, Any], body: Any = None) -> httpx.Response:
    headers = {"Content-Type": request.get("content_type", "application/json")}
    content = None if body is None else yaml.safe_dump(body).encode() if "yaml" in headers["Content-Type"] else None
    return http.request(
        request["method"],
        request["path"],
        params=request.get("query"),
        headers=headers,
        json=body if content is None and body is not None else None,
        content=content,
    )


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_the_twin_refuses_what_the_api_server_refuses(http: httpx.Client, case: dict[str, Any]) -> None:
    for step in case.get("setup", []):
        assert send(http, step, step["body"]).status_code == 201, step
    response = send(http, case["request"], case.get("body"))
    status = response.json()
    assert (response.status_code, status["kind"], status["status"], status["code"]) == (
        case["code"],
        "Status",
        "Failure",
        case["code"],
    )
    assert status.get("reason", "") == case["reason"]
    if "message" in case:
        assert status["message"] == case["message"]
    for part in (case.get("contains"), case.get("also_contains")):
        assert part is None or part in status["message"]


def test_invalid_objects_name_each_broken_rule_as_a_cause(http: httpx.Client) -> None:
    body = {"metadata": {"name": "Web", "labels": {"app": "-web"}}, "spec": {"ports": [{"port": 80}]}}
    status = http.post("/api/v1/namespaces/default/services", json=body).json()
    assert status["details"]["kind"] == "Service" and status["details"]["name"] == "Web"
    assert [(c["reason"], c["field"]) for c in status["details"]["causes"]] == [
        ("FieldValueInvalid", "metadata.name"),
        ("FieldValueInvalid", "metadata.labels"),
    ]
    empty = http.post("/apis/apps/v1/namespaces/default/deployments", json={**DEPLOYMENT, "spec": {}}).json()
    assert [(c["reason"], c["field"]) for c in empty["details"]["causes"]] == [
        ("FieldValueRequired", "spec.selector"),
        ("FieldValueInvalid", "spec.template.metadata.labels"),
        ("FieldValueRequired", "spec.template.spec.containers"),
    ]


def test_unknown_fields_are_dropped_with_a_warning_unless_strict_or_ignored(http: httpx.Client) -> None:
    body = {"metadata": {"name": "c"}, "data": {"a": "1"}, "dat": {"b": "2"}}
    created = http.post("/api/v1/namespaces/default/configmaps", json=body)
    assert created.status_code == 201 and created.headers.get_list("warning") == ['299 - "unknown field \\"dat\\""']
    assert "dat" not in http.get("/api/v1/namespaces/default/configmaps/c").json()
    ignored = http.post(
        "/api/v1/namespaces/default/configmaps?fieldValidation=Ignore", json={**body, "metadata": {"name": "d"}}
    )
    assert ignored.status_code == 201 and "warning" not in ignored.headers


def test_an_eviction_naming_its_pod_is_judged_on_the_pod(http: httpx.Client) -> None:
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "web-1", "namespace": "default"}}
    response = http.post("/api/v1/namespaces/default/pods/web-1/eviction", json=eviction)
    assert (response.status_code, response.json()["message"]) == (404, 'pods "web-1" not found')


def test_selectors_that_parse_select(http: httpx.Client) -> None:
    for name, labels in (("a", {"app": "web", "tier": "1"}), ("b", {"app": "api", "tier": "3"}), ("c", {})):
        assert http.post("/api/v1/namespaces/default/configmaps", json={"metadata": {"name": name, "labels": labels}})

    def names(**query: str) -> list[str]:
        response = http.get("/api/v1/namespaces/default/configmaps", params=query)
        assert response.status_code == 200, response.text
        return [o["metadata"]["name"] for o in response.json()["items"]]

    assert names(labelSelector="app in (web,api),tier>2") == ["b"]
    assert names(labelSelector="!app") == ["c"]
    assert names(labelSelector="app!=web") == ["b", "c"]
    assert names(fieldSelector="metadata.name!=a") == ["b", "c"]


def test_a_deployment_of_the_wrong_type_is_never_stored_and_the_twin_keeps_answering(http: httpx.Client) -> None:
    bad = {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "replicas": "two"}}
    assert http.post("/apis/apps/v1/namespaces/default/deployments", json=bad).status_code == 400
    assert http.get("/apis/apps/v1/namespaces/default/deployments").json()["items"] == []
    assert http.get("/api/v1/namespaces").status_code == 200


def test_a_malformed_object_in_the_store_does_not_take_the_api_down(monkeypatch: pytest.MonkeyPatch) -> None:
    twin = KubeTwin(TwinOptions())
    rt = twin.catalog.by_kind("apps/v1", "Deployment")
    assert rt is not None
    # However it got there (an older, laxer twin wrote it), the simulated Deployment controller trips on it.
    with monkeypatch.context() as lax:
        lax.setattr(twin.store.codec, "check_body", lambda *_: None)
        lax.setattr(twin.store.codec, "admit", lambda _rt, obj: obj)
        twin.store.create(rt, "default", {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "replicas": "two"}}, "test")
    running = serve_in_thread(create_app(twin))
    try:
        for path in (
            "/api/v1/namespaces",
            "/apis/apps/v1/deployments",
            "/apis/apps/v1/namespaces/default/deployments/web",
        ):
            assert httpx.get(f"{running.url}{path}").status_code == 200
        assert twin.controller_errors, "the controller's failure is recorded"
    finally:
        running.stop()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text("ab-1 =!", max_size=4),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from(["a", "name", "replicas"]), inner, max_size=2)
    ),
    max_leaves=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    replicas=JSON,
    selector=JSON,
    container=JSON,
    labels=st.dictionaries(st.text("aZ-_./ 1", max_size=5), st.text("aZ-_./ 1", max_size=5), max_size=2),
    name=st.text("abZ-.1_", min_size=1, max_size=8),
)
def test_whatever_a_client_writes_the_twin_answers_with_a_status_and_keeps_serving(
    http: httpx.Client, replicas: Any, selector: Any, container: Any, labels: dict[str, str], name: str
) -> None:
    spec = {
        "replicas": replicas,
        "selector": selector,
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
    }
    body = {**DEPLOYMENT, "metadata": {"name": name, "labels": labels}, "spec": spec}
    response = http.post("/apis/apps/v1/namespaces/default/deployments", json=body)
    assert response.status_code in (201, 400, 409, 422), response.text
    listed = http.get("/apis/apps/v1/deployments")
    assert listed.status_code == 200
    if response.status_code == 201:
        http.delete(f"/apis/apps/v1/namespaces/default/deployments/{name}")


@pytest.mark.parametrize(("version", "code"), [("v1.32.1", 400), ("v1.33.0", 201)])
def test_the_schemas_are_those_of_the_imitated_release(version: str, code: int) -> None:
    """`lifecycle.stopSignal` came with Kubernetes 1.33: a 1.32 server does not know the field."""
    twin = KubeTwin(TwinOptions(kubernetes_version=version))
    running = serve_in_thread(create_app(twin))
    container = {"name": "web", "image": "x", "lifecycle": {"stopSignal": "SIGTERM"}}
    spec = {
        **DEPLOYMENT["spec"],
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container]}},
    }
    try:
        response = httpx.post(
            f"{running.url}/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict",
            json={**DEPLOYMENT, "spec": spec},
        )
        assert response.status_code == code, response.text
        if code == 400:
            assert 'unknown field "spec.template.spec.containers[0].lifecycle.stopSignal"' in response.json()["message"]
    finally:
        running.stop()
