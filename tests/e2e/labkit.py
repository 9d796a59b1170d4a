"""Helpers for the end-to-end stories: start a lab, edit the cluster as an operator would, look inside the twins.

Everything here acts through the same doors a person would use (git push, signed webhooks, the runner's
journal) or reads the twins' own state to check what really happened to the "machines".
"""

from __future__ import annotations

import io
import json
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from ruamel.yaml import YAML

from runner.cli.lab.session import LabSession
from runner.engine.service.journal import RunFilter
from runner.lab.proxmox import Call
from runner.lab.world_inputs import Pace
from runner.server.app import service_of
from runner.server.signatures import sign, sign_generic
from tests.polling import poll_until

HERE = Path(__file__).parent
REPO_ROOT = HERE.parents[1]
DATA = HERE / "data"
CLUSTER = "home"
CLUSTER_YAML = f"clusters/{CLUSTER}/cluster.yaml"
EXPECTED_ENDPOINT = "https://10.0.0.20:6443"

# Short waits keep a failing story fast; the lab at Pace.fast() needs a few seconds per node at most.
FAST_SETTINGS: dict[str, Any] = {"boot_timeout": 30, "flux_timeout": 40, "retry_backoff": 0.5}

T = TypeVar("T")

# What the `home` fixture gives: a lab whose home cluster a first push has bootstrapped, and that first run.
Home = tuple[LabSession, dict[str, Any]]


def start_lab(workdir: Path, repo_root: Path = REPO_ROOT, **overrides: Any) -> LabSession:
    session = LabSession(repo_root, workdir, pace=Pace.fast(), settings_overrides={**FAST_SETTINGS, **overrides})
    return session.start()


# The reference cluster as pinned at Talos v1.11.2 / Kubernetes v1.32.1 (so Flux v2.3.0): where the stories of
# those versions, and the upgrades that start there, begin.
SPEC_TALOS_V1_11 = REPO_ROOT / "tests/data/home-talos-v1.11.yaml"


def repo_with_spec(root: Path, spec: Path) -> Path:
    """A repository under `root` like this one, its home cluster's cluster.yaml replaced by `spec` (same secrets,
    keys, schemas and Flux tree): what a lab started from it bootstraps."""
    for rel in (".sops.yaml", "schemas", "flux", "tests/keys"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(REPO_ROOT / rel)
    shutil.copytree(REPO_ROOT / f"clusters/{CLUSTER}", root / f"clusters/{CLUSTER}")
    shutil.copyfile(spec, root / CLUSTER_YAML)
    return root


def wait_until(check: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` (no timing is asserted)."""
    return poll_until(check, what, timeout=timeout, interval=0.1)


def describe(run: dict[str, Any]) -> str:
    return f"run {run['id']} {run['result']}: {run['summary']} / {run['error']}"


def run_details(session: LabSession, run: dict[str, Any]) -> dict[str, Any]:
    details = session.journal.run(int(run["id"]))
    assert details is not None
    return details


def plan_steps(run: dict[str, Any]) -> list[dict[str, Any]]:
    assert run["plan_json"], f"run {run['id']} recorded no plan"
    steps: list[dict[str, Any]] = json.loads(run["plan_json"])["steps"]
    return steps


def runs(session: LabSession, mode: str | None = None) -> list[dict[str, Any]]:
    return session.journal.runs(RunFilter(cluster=CLUSTER, mode=mode), limit=500)


def queue_empty(session: LabSession) -> bool:
    """Nothing queued or running: every delivery so far has been worked off."""
    return not service_of(session.app).queue.items()


def last_run_id(session: LabSession) -> int:
    every = session.journal.runs(limit=1)
    return int(every[0]["id"]) if every else 0


# --- the operator's edits --------------------------------------------------------------------------


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: comments, order and the modeline stay as the operator wrote them
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def edit_cluster(session: LabSession, change: Callable[[Any], None]) -> str:
    """cluster.yaml of the working copy with `change` applied to its parsed document (not yet committed)."""
    yaml = _yaml()
    doc = yaml.load((session.clone / CLUSTER_YAML).read_text())
    change(doc)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def bootstrap_at(session: LabSession, talos: str, kubernetes: str) -> dict[str, Any]:
    """Seed the clone, pin the cluster to `talos` and `kubernetes`, push, and return the bootstrap run (success)."""
    session.seed_clone()

    def versions(doc: Any) -> None:
        doc["talos"]["version"], doc["kubernetes"]["version"] = talos, kubernetes

    session.commit({CLUSTER_YAML: edit_cluster(session, versions)}, f"Talos {talos}, Kubernetes {kubernetes}")
    run = session.wait_for_run(session.push(), timeout=150)
    assert run["result"] == "success", describe(run)
    return run


def set_node_fields(session: LabSession, node: str, **fields: Any) -> str:
    def change(doc: Any) -> None:
        entry = next(n for n in doc["nodes"] if n["name"] == node)
        entry.update(fields)

    return edit_cluster(session, change)


def add_node(session: LabSession, node: dict[str, Any]) -> str:
    return edit_cluster(session, lambda doc: doc["nodes"].append(node))


def load_data(name: str) -> Any:
    return YAML(typ="safe", pure=True).load((DATA / name).read_text())


# --- a forge's pull_request webhook -----------------------------------------------------------------


def send_pull_request(
    session: LabSession, *, action: str, number: int, head_ref: str, head_sha: str, base_sha: str
) -> httpx.Response:
    """POST a signed Gitea pull_request event to the runner, as Gitea does (the lab git server sends only pushes)."""
    payload = json.loads((DATA / "gitea_pull_request.json").read_text())
    full_name = session.settings.full_name
    owner, name = full_name.split("/", 1)
    payload["action"] = action
    payload["number"] = number
    pr = payload["pull_request"]
    pr.update(number=number, id=number)
    pr["head"].update(label=head_ref, ref=head_ref, sha=head_sha)
    pr["base"].update(sha=base_sha)
    pr["merge_base"] = base_sha
    for repo in (pr["head"]["repo"], pr["base"]["repo"], payload["repository"]):
        repo.update(name=name, full_name=full_name)
    payload["repository"]["owner"].update(login=owner, username=owner)
    payload["repository"]["clone_url"] = session.settings.repo_url
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Gitea-Event": "pull_request",
        "X-Gitea-Delivery": str(uuid.uuid4()),
        "X-Gitea-Signature": sign(session.settings.webhook_secret.reveal(), body),
    }
    return httpx.post(f"{session.server.url}/hooks/gitea", content=body, headers=headers, timeout=10)


def request_run(session: LabSession, mode: str = "apply") -> httpx.Response:
    """A manual run of the branch head through the generic hook (what `runner` drift/manual triggers send)."""
    body = json.dumps({"ref": session.settings.branch, "cluster": CLUSTER, "mode": mode}).encode()
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Runner-Delivery": str(uuid.uuid4()),
        "X-Runner-Timestamp": str(stamp),
        "X-Runner-Signature": "sha256=" + sign_generic(session.settings.webhook_secret.reveal(), stamp, body),
    }
    return httpx.post(f"{session.server.url}/hooks/generic", content=body, headers=headers, timeout=10)


# --- looking inside the twins -----------------------------------------------------------------------


def proxmox_writes(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.method != "GET"]


def managed_vms(session: LabSession) -> dict[int, Any]:
    state = session.world.proxmox_state
    with state.lock:
        return {
            vmid: vm for vmid, vm in state.vms.items() if "managed-by-runner" in vm.config.get("tags", "").split(";")
        }


def talos_phases(session: LabSession) -> dict[str, str]:
    lab = session.world.talos.lab
    with lab.lock:
        return {node.hostname: node.phase for node in lab.nodes.values()}


def etcd_member_ips(session: LabSession) -> set[str]:
    lab = session.world.talos.lab
    with lab.lock:
        return {m.ip for members in lab.etcd.values() for m in members.values()}


def _objects(session: LabSession, api_version: str, kind: str) -> list[dict[str, Any]]:
    twin = session.world.kube_twin
    rt = twin.catalog.by_kind(api_version, kind)
    return twin.store.list(rt, None) if rt is not None else []


def ready_kube_nodes(session: LabSession) -> set[str]:
    return {
        n["metadata"]["name"]
        for n in _objects(session, "v1", "Node")
        if any(c["type"] == "Ready" and c["status"] == "True" for c in n.get("status", {}).get("conditions", []))
    }


def kustomizations_ready(session: LabSession) -> dict[str, bool]:
    return {
        k["metadata"]["name"]: any(
            c["type"] == "Ready" and c["status"] == "True" for c in (k.get("status") or {}).get("conditions", [])
        )
        for k in _objects(session, "kustomize.toolkit.fluxcd.io/v1", "Kustomization")
    }
