"""The driver against the twin over HTTPS: server-side apply semantics and error translation."""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner.core.errors import Permanent, Transient
from runner.core.secret import Secret
from runner.drivers.kube import LightkubeApi
from runner.drivers.kube.connect import parse_kubeconfig
from runner.drivers.workdir import WORK_DIR_ENV
from runner.lab.kube import CertificateAuthority, admin_kubeconfig
from runner.lab.serve import free_port

from .conftest import CLUSTER_ENDPOINT, Lab

CONFIGMAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "settings", "namespace": "default"},
    "data": {"mode": "a"},
}


def test_apply_creates_then_is_a_no_op(api: LightkubeApi) -> None:
    [first] = api.apply([CONFIGMAP])
    [second] = api.apply([CONFIGMAP])
    assert first["metadata"]["resourceVersion"] == second["metadata"]["resourceVersion"]
    managers = [m["manager"] for m in second["metadata"]["managedFields"]]
    assert managers == ["runner"]


def test_apply_removes_fields_we_no_longer_set(api: LightkubeApi) -> None:
    api.apply([{**CONFIGMAP, "data": {"mode": "a", "extra": "x"}}])
    [obj] = api.apply([CONFIGMAP])
    assert obj["data"] == {"mode": "a"}


def test_conflict_on_our_object_is_taken_back(lab: Lab, api: LightkubeApi) -> None:
    api.apply([CONFIGMAP])
    rt = lab.twin.catalog.by_kind("v1", "ConfigMap")
    assert rt is not None
    lab.twin.store.merge_patch(rt, "default", "settings", {"data": {"mode": "edited"}}, "kubectl-edit")
    [obj] = api.apply([CONFIGMAP])
    assert obj["data"]["mode"] == "a"


def test_conflict_on_someone_elses_object_is_permanent(lab: Lab, api: LightkubeApi) -> None:
    rt = lab.twin.catalog.by_kind("v1", "ConfigMap")
    assert rt is not None
    lab.twin.store.apply(rt, "default", "settings", {**CONFIGMAP, "data": {"mode": "theirs"}}, "someone", False)
    with pytest.raises(Permanent, match=r'Apply failed with 1 conflict: conflict with "someone" using v1: .data.mode'):
        api.apply([CONFIGMAP])


def test_get_missing_object_is_none_and_invalid_object_is_permanent(api: LightkubeApi) -> None:
    assert api.get("v1", "ConfigMap", "nope", "default") is None
    with pytest.raises(Permanent, match=r'404 NotFound: namespaces "nowhere" not found'):
        api.apply([{**CONFIGMAP, "metadata": {"name": "x", "namespace": "nowhere"}}])


def test_unknown_kind_is_permanent(api: LightkubeApi) -> None:
    with pytest.raises(Permanent, match=r"no resource type Widget in example\.org/v1"):
        api.apply([{"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"name": "w"}}])


def test_api_ready_and_connection_refused(lab: Lab, api: LightkubeApi) -> None:
    assert api.api_ready()
    closed = LightkubeApi(lab.kubeconfig, server=f"https://127.0.0.1:{free_port()}", timeout=2)
    try:
        assert not closed.api_ready()
        with pytest.raises(Transient, match="cannot connect"):
            closed.kubelet_versions()
    finally:
        closed.close()


def test_a_foreign_ca_fails_tls_verification(lab: Lab) -> None:
    stranger = CertificateAuthority.generate("someone-else")
    other = LightkubeApi(Secret(admin_kubeconfig(stranger, CLUSTER_ENDPOINT)), server=lab.running.url, timeout=2)
    try:
        with pytest.raises(Permanent, match="TLS verification"):
            other.kubelet_versions()
    finally:
        other.close()


def test_a_rejected_token_is_a_permanent_401(lab: Lab, tmp_path: Path) -> None:
    conf = yaml.safe_load(lab.kubeconfig.reveal())
    conf["users"][0]["user"]["token"] = "not-a-known-token"
    client = LightkubeApi(Secret(yaml.safe_dump(conf)), server=lab.running.url, timeout=2)
    try:
        with pytest.raises(Permanent, match="401 Unauthorized"):
            client.kubelet_versions()
    finally:
        client.close()


def test_server_override_replaces_only_the_url(lab: Lab) -> None:
    conf = parse_kubeconfig(lab.kubeconfig, server="https://127.0.0.1:1234")
    original = yaml.safe_load(lab.kubeconfig.reveal())
    assert original["clusters"][0]["cluster"]["server"] == CLUSTER_ENDPOINT
    assert conf["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:1234"
    assert conf["users"] == original["users"]
    ca = conf["clusters"][0]["cluster"]["certificate-authority-data"]
    assert ca == original["clusters"][0]["cluster"]["certificate-authority-data"]


def test_bad_kubeconfig_is_permanent_and_hides_its_content() -> None:
    with pytest.raises(Permanent) as failure:
        LightkubeApi(Secret("clusters: [unclosed"))
    assert "unclosed" not in str(failure.value)


@pytest.mark.parametrize("memfd", [True, False], ids=["memfd", "no-memfd"])
def test_the_client_key_is_loaded_from_memory_or_from_the_work_root_only(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memfd: bool
) -> None:
    """The TLS context takes the client key from an anonymous memory file; where there is none, from the
    runner's swept work root, removed once loaded. The twin requires the client certificate, so the call
    proves the key was loaded."""
    work = tmp_path / "work"
    monkeypatch.setenv(WORK_DIR_ENV, str(work))
    if not memfd:
        monkeypatch.delattr(os, "memfd_create")
    loaded: list[str] = []
    load = ssl.SSLContext.load_cert_chain

    def seen(self: ssl.SSLContext, certfile: Any, *args: Any, **kwargs: Any) -> None:
        loaded.append(str(certfile))
        load(self, certfile, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", seen)
    api = lab.api()
    try:
        assert api.api_ready()
    finally:
        api.close()
    [path] = loaded
    if memfd:
        assert path.startswith("/proc/self/fd/")
    else:
        assert Path(path).is_relative_to(work) and not Path(path).exists()
    assert [p for p in work.rglob("*") if p.is_file()] == []
