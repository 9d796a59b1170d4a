"""The twin keeps a CRD's `status.storedVersions` and refuses to drop a stored version, as kube-apiserver does
(apiextensions-apiserver strategy.go and ValidateCustomResourceDefinitionStoredVersions @v0.33.13), with the
Flux Bucket CRD of the two vendored releases: v2.3 stores v1beta2, v2.9 serves v1 only."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from runner.core.flux_migration import bridge_crd
from runner.drivers.kube import flux_install
from runner.lab.kube import KubeTwin, TwinOptions
from runner.lab.kube.app import create_app
from runner.lab.serve import serve_in_thread

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
NAME = "buckets.source.toolkit.fluxcd.io"
APPLY = {"Content-Type": "application/apply-patch+yaml"}
MERGE = {"Content-Type": "application/merge-patch+json"}
BUCKETS = "/apis/source.toolkit.fluxcd.io/{}/namespaces/flux-system/buckets"
MISSING = (
    "missing from spec.versions; v1beta2 was previously a storage version, and must remain in spec.versions until "
    "a storage migration ensures no data remains persisted in v1beta2 and removes v1beta2 from status.storedVersions"
)


def bucket_crd(version: str) -> dict[str, Any]:
    return copy.deepcopy(next(d for d in flux_install.vendored_components(version) if d["metadata"]["name"] == NAME))


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    twin = KubeTwin(TwinOptions())
    running = serve_in_thread(create_app(twin))
    with httpx.Client(base_url=running.url) as client:
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}}
        assert client.post("/api/v1/namespaces", json=namespace).status_code == 201
        assert apply(client, bucket_crd("v2.3.0")).status_code == 201
        yield client
    running.stop()


def apply(http: httpx.Client, crd: dict[str, Any]) -> httpx.Response:
    return http.patch(
        f"{CRDS}/{crd['metadata']['name']}",
        params={"fieldManager": "runner"},
        headers=APPLY,
        content=json.dumps(crd).encode(),
    )


def stored(http: httpx.Client) -> list[str]:
    return list(http.get(f"{CRDS}/{NAME}").json()["status"]["storedVersions"])


def test_a_new_crd_stores_its_storage_version(http: httpx.Client) -> None:
    assert stored(http) == ["v1beta2"]


def test_an_update_dropping_a_stored_version_is_refused(http: httpx.Client) -> None:
    answer = apply(http, bucket_crd("v2.9.0"))
    assert answer.status_code == 422
    body = answer.json()
    assert body["reason"] == "Invalid"
    assert body["message"] == (
        f'CustomResourceDefinition.apiextensions.k8s.io "{NAME}" is invalid: status.storedVersions[0]: '
        f'Invalid value: "v1beta2": {MISSING}'
    )
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": f'Invalid value: "v1beta2": {MISSING}',
            "field": "status.storedVersions[0]",
        }
    ]
    # Nothing changed: v1beta2 is still served and stored.
    assert http.get(BUCKETS.format("v1beta2")).status_code == 200
    assert stored(http) == ["v1beta2"]


def test_a_new_storage_version_is_added_to_the_stored_ones_never_replacing_them(http: httpx.Client) -> None:
    bridge = bridge_crd(http.get(f"{CRDS}/{NAME}").json(), bucket_crd("v2.9.0"))
    assert bridge is not None
    assert apply(http, bridge).status_code == 200
    assert stored(http) == ["v1beta2", "v1"]


def test_the_status_must_keep_the_storage_version(http: httpx.Client) -> None:
    answer = http.patch(f"{CRDS}/{NAME}/status", headers=MERGE, json={"status": {"storedVersions": ["v1beta1"]}})
    assert answer.status_code == 422
    causes = [(c["field"], c["message"]) for c in answer.json()["details"]["causes"]]
    assert causes == [
        ("status.storedVersions", 'Invalid value: []string{"v1beta1"}: must have the storage version v1beta2')
    ]


def test_after_the_migration_the_new_crd_applies_and_the_old_version_is_gone(http: httpx.Client) -> None:
    bucket = {
        "apiVersion": "source.toolkit.fluxcd.io/v1beta2",
        "kind": "Bucket",
        "metadata": {"name": "b", "namespace": "flux-system"},
        "spec": {"bucketName": "b", "endpoint": "minio:9000", "interval": "5m"},
    }
    assert http.post(BUCKETS.format("v1beta2"), json=bucket).status_code == 201
    bridge = bridge_crd(http.get(f"{CRDS}/{NAME}").json(), bucket_crd("v2.9.0"))
    assert bridge is not None and apply(http, bridge).status_code == 200
    # `flux migrate`: an empty patch at the storage version writes the object back (re-encoded at v1) ...
    before = http.get(f"{BUCKETS.format('v1')}/b").json()["metadata"]["resourceVersion"]
    migrated = http.patch(f"{BUCKETS.format('v1')}/b", headers=MERGE, json={})
    assert migrated.status_code == 200 and migrated.json()["metadata"]["resourceVersion"] != before
    # ... once: an object already at the storage version is not written again.
    again = http.patch(f"{BUCKETS.format('v1')}/b", headers=MERGE, json={})
    assert again.json()["metadata"]["resourceVersion"] == migrated.json()["metadata"]["resourceVersion"]
    status = http.patch(f"{CRDS}/{NAME}/status", headers=MERGE, json={"status": {"storedVersions": ["v1"]}})
    assert status.status_code == 200 and stored(http) == ["v1"]
    assert apply(http, bucket_crd("v2.9.0")).status_code == 200
    assert stored(http) == ["v1"]
    assert http.get(f"{BUCKETS.format('v1')}/b").status_code == 200
    assert http.get(f"{BUCKETS.format('v1beta2')}/b").status_code == 404
    refused = http.post(
        BUCKETS.format("v1beta2"), json={**bucket, "metadata": {"name": "c", "namespace": "flux-system"}}
    )
    assert refused.status_code == 404
