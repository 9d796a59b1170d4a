"""A pull request cannot choose where the runner sends its credentials.

The real engine plans a PR whose `cluster.yaml` points `proxmox.url` (and the factory and Flux URLs) at a
listener of the PR author's and adds a node at a new address. The plan is observed against the protected
branch's Proxmox (a twin holding the token), lists the changed targets under "Applies after merge", and the
listener sees no connection at all. A fork's PR is planned offline: not even the protected Proxmox is asked.
"""

from __future__ import annotations

import io
import shutil
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from servicekit import FORGE_TOKEN, REPO, payload, wait_until

from runner.core.secret import Secret
from runner.drivers.forge import GitHubForge
from runner.drivers.sops import SopsCli
from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.engine.reconcile.reconciler import Engine
from runner.engine.reconcile.target_settings import TargetSettings
from runner.engine.service.run_fn import make_run_fn
from runner.lab.gitserver import LabGitServer, commit_files
from runner.lab.proxmox import Delays, ProxmoxTwin, ProxmoxTwinState, serve_proxmox_twin
from runner.lab.proxmox.host_setup import HostPlan, prepare_host
from runner.lab.proxmox.tls import write_self_signed

ROOT = Path(__file__).resolve().parents[2]
AGE_KEY = ROOT / "tests/keys/lab.agekey"
FAST = Delays(task=0.01, create=0.01, start=0.01, shutdown=0.01, download=0.01)
PR = 5


@dataclass
class Listener:
    """An HTTPS port (any certificate: the PR says `verifyTls: false`) that records every connection and the
    first bytes sent over it, where a `PVEAPIToken` header would show."""

    sock: socket.socket
    tls: ssl.SSLContext
    received: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.sock.getsockname()[1]}"

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2.0)
                try:
                    with self.tls.wrap_socket(conn, server_side=True) as secure:
                        self.received.append(secure.recv(65536))
                except OSError:
                    self.received.append(b"(connection without a request)")


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    certs = write_self_signed(tmp_path / "mallory")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certs.certfile, certs.keyfile)
    sock = socket.create_server(("127.0.0.1", 0))
    found = Listener(sock, tls)
    threading.Thread(target=found.serve, daemon=True).start()
    yield found
    sock.close()


def token(repo: Path) -> tuple[str, str]:
    data = SopsCli(age_key_file=AGE_KEY).decrypt((repo / "clusters/home/secrets.sops.yaml").read_bytes(), "s.yaml")
    return str(data["proxmox"]["tokenId"]), str(data["proxmox"]["tokenSecret"])


@pytest.fixture
def proxmox(tmp_path: Path) -> Iterator[ProxmoxTwin]:
    token_id, secret = token(ROOT)
    state = ProxmoxTwinState(tokens={token_id: secret}, delays=replace(FAST))
    prepare_host(state, HostPlan(token_id), secret)  # the token holds exactly the documented role
    twin = serve_proxmox_twin(state, tmp_path / "pve")
    yield twin
    twin.stop()


def edit_spec(text: str, change: Any) -> str:
    yaml = YAML()
    doc = yaml.load(text)
    change(doc)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


@pytest.fixture
def repo_git(tmp_path: Path, proxmox: ProxmoxTwin) -> LabGitServer:
    """The lab repo holding the real home cluster (encrypted secrets), its Proxmox at the twin."""
    seed = tmp_path / "seed"
    shutil.copytree(ROOT / "clusters/home", seed / "clusters/home")
    spec = seed / "clusters/home/cluster.yaml"
    spec.write_text(edit_spec(spec.read_text(), lambda d: d["proxmox"].update(url=proxmox.url)))
    server = LabGitServer(tmp_path / "protected-git", full_name=REPO).create()
    server.seed(seed)
    return server


def hostile(listener_url: str) -> Any:
    def change(doc: Any) -> None:
        doc["proxmox"]["url"] = listener_url
        doc["proxmox"]["verifyTls"] = False
        doc["imageFactory"]["url"] = listener_url
        doc["flux"]["url"] = listener_url + "/home.git"
        doc["nodes"].append({"name": "talos-worker-09", "role": "worker", "ip": "10.0.0.29", "vmid": 309})

    return change


def pr_body(sha: str, head_repo: str) -> dict[str, Any]:
    body = payload("github_pull_request.json")
    body["action"], body["number"] = "opened", PR
    pr = body["pull_request"]
    pr["number"], pr["head"]["sha"] = PR, sha
    pr["head"]["repo"]["full_name"] = head_repo
    pr["base"]["repo"]["full_name"] = REPO
    body["repository"]["full_name"] = REPO
    return body


@pytest.mark.parametrize(
    ("head_repo", "forks_online", "offline"),
    [(REPO, False, False), ("mallory/home", False, True), ("mallory/home", True, False)],
    ids=["same-repo", "fork", "fork-allowed-online"],
)
def test_a_pr_never_sends_a_credential_where_it_points(
    repo_git, start_runner, forge_twin, proxmox, listener, tmp_path, head_repo, forks_online, offline
) -> None:
    state, forge_url = forge_twin
    state.add_pull(REPO, PR)
    settings = TargetSettings(
        db_path=tmp_path / "state.db", age_key_file=AGE_KEY, proxmox_ca_bundle=proxmox.ca_bundle, talosctl_path="false"
    )
    run_fn = make_run_fn(Engine(settings, ClusterStateStore(settings.db_path)))
    runner = start_runner(
        run_fn,
        repo_url=repo_git.url,
        forge=GitHubForge(forge_url, Secret(FORGE_TOKEN)),
        fork_plans_online=forks_online,
    )
    protected_url = str(YAML().load((ROOT / "clusters/home/cluster.yaml").read_text())["proxmox"]["url"])
    assert protected_url != proxmox.url  # the twin's URL comes only from the seeded protected branch

    work = repo_git.clone(tmp_path / "work")
    spec_path = "clusters/home/cluster.yaml"
    text = edit_spec((work / spec_path).read_text(), hostile(listener.url))
    sha = commit_files(work, {spec_path: text}, "point the runner at me", "hostile")
    repo_git.push(work, "hostile")
    proxmox.state.calls.reset()

    assert runner.hook("github", pr_body(sha, head_repo), event="pull_request").status_code == 202
    wait_until(lambda: listener.received or len(state.statuses_for(REPO, sha)) == 2, 60, "a final status")
    tokens = sum(b"PVEAPIToken=" in r for r in listener.received)
    assert listener.received == [], f"{len(listener.received)} connections, {tokens} with the token"  # none at all
    assert [s.state for s in state.statuses_for(REPO, sha)] == ["pending", "success"], runner.runs()
    asked = proxmox.state.calls.matching()
    assert (len(asked) == 0) if offline else (len(asked) >= 1)
    [comment] = state.comments_on(REPO, PR)
    assert "**Applies after merge**" in comment.body
    for line in (
        f"proxmox.url: {proxmox.url} -> {listener.url}; this plan used {proxmox.url}",
        "proxmox.verifyTls: true -> false; this plan used true",
        f"imageFactory.url: https://factory.talos.dev -> {listener.url}; this plan used https://factory.talos.dev",
        "nodes[talos-worker-09].ip: 10.0.0.29 is a new address; it was not contacted",
    ):
        assert f"- {line}" in comment.body, comment.body
    offline_note = "planned offline (a pull request from a fork): nothing was contacted"
    assert (offline_note in comment.body) is offline
    assert "create VM 309 talos-worker-09" in comment.body
