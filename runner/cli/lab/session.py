"""A lab session: the lab world, the runner service pointed at it, and an operator's working copy.

Used by `runner lab` and by the end-to-end tests, so both exercise the same wiring: a commit pushed to
the lab's git server runs its real post-receive hook, which sends a signed webhook to the runner.
"""

from __future__ import annotations

import json
import secrets as pysecrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pygit2
from ruamel.yaml import YAML

from runner.cli.lab.pulls import LAB_FILE
from runner.core.cluster_secrets import parse_secrets
from runner.core.secret import reveal_tree
from runner.core.spec import Cluster
from runner.core.talos import bundle_from_dict
from runner.drivers.sops import SopsCli
from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.engine.reconcile.load import load_cluster
from runner.engine.reconcile.reconciler import Engine
from runner.engine.reconcile.source import DirSource
from runner.engine.service.journal import Journal, RunFilter
from runner.engine.service.run_fn import Listener, make_run_fn
from runner.engine.service.settings import Settings
from runner.lab.forge.pulls import WebhookTarget
from runner.lab.gitserver import commit_files
from runner.lab.kube.storage_charts import CSI_CONFIG
from runner.lab.proxmox.host_setup import HostPlan
from runner.lab.serve import RunningServer, free_port, serve_in_thread
from runner.lab.world import FORGE_TOKEN, LabWorld
from runner.lab.world_inputs import LabInputs, Pace
from runner.server.app import create_app, service_of

LAB_KEY = Path("tests/keys/lab.agekey")  # the runner's key: opens the machine secrets
FLUX_LAB_KEY = Path("tests/keys/flux-lab.agekey")  # the home cluster's Flux key (flux.ageKey in the secrets file)
SEED_PATHS = (".sops.yaml", "schemas", "flux")
SIGNATURE = pygit2.Signature("Lab Operator", "operator@lab.invalid")


@dataclass
class LabSession:
    repo_root: Path
    workdir: Path
    cluster_name: str = "home"
    pace: Pace = field(default_factory=Pace)
    listener: Listener | None = None
    port: int | None = None
    settings_overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def age_key(self) -> Path:
        return self.repo_root / LAB_KEY

    @property
    def flux_age_key(self) -> Path:
        return self.repo_root / FLUX_LAB_KEY

    @property
    def clone(self) -> Path:
        return self.workdir / "cluster"

    def _inputs(self) -> tuple[Cluster, LabInputs]:
        sops = SopsCli(age_key_file=self.age_key)
        loaded = load_cluster(DirSource(self.repo_root), self.cluster_name, decrypt=None)
        cluster = loaded.cluster
        secrets_file = self.repo_root / f"clusters/{self.cluster_name}/secrets.sops.yaml"
        data = sops.decrypt(secrets_file.read_bytes(), str(secrets_file.relative_to(self.repo_root)))
        secrets = parse_secrets(data, "secrets.sops.yaml")
        bundle = bundle_from_dict(reveal_tree(secrets.talos))
        assert cluster.flux is not None, "the lab cluster needs a flux section"
        host = HostPlan(
            token_id=secrets.proxmox_token_id,
            node=cluster.proxmox.node,
            storage=cluster.proxmox.storage,
            image_storage=cluster.proxmox.image_storage,
            bridge=cluster.proxmox.bridge,
        )
        return cluster, LabInputs(
            host=host,
            proxmox_token_secret=secrets.proxmox_token_secret.reveal(),
            kube_ca_crt=bundle.certs.k8s.crt.encode(),
            kube_ca_key=bundle.certs.k8s.key.reveal().encode(),
            kubernetes_version=cluster.kubernetes.version,
            talos_version=cluster.talos.version,
            controller_ips=tuple(str(n.ip) for n in cluster.controllers),
            vip=str(cluster.network.vip),
            flux_url=cluster.flux.url,
            csi_token=self._csi_token(),
        )

    def _csi_token(self) -> tuple[str, str] | None:
        """Proxmox CSI's token from the Flux tree (opened with the Flux key), for the lab to prepare its host."""
        path = self.repo_root / CSI_CONFIG
        if not path.exists():
            return None
        doc = SopsCli(age_key_file=self.flux_age_key).decrypt(path.read_bytes(), CSI_CONFIG)
        config = YAML(typ="safe").load(str((doc.get("stringData") or {}).get("config.yaml", ""))) or {}
        first = (config.get("clusters") or [{}])[0]
        return str(first.get("token_id", "")), str(first.get("token_secret", ""))

    def start_world(self) -> LabWorld:
        """The twins alone, for runners that live elsewhere (`runner serve` processes pointed at them)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cluster, inputs = self._inputs()
        self.world = LabWorld(self.workdir / "lab", inputs, self.pace).start()
        return self.world

    def start(self) -> LabSession:
        inputs = self.start_world().inputs
        port = self.port or free_port()
        webhook_secret = pysecrets.token_hex(16)
        values: dict[str, Any] = {
            "repo_url": self.world.git.url,
            "repo_full_name": inputs.repo_full_name,
            "branch": "main",
            "webhook_secret": webhook_secret,
            "db_path": self.workdir / "runner.db",
            "cache_dir": self.workdir / "git-cache",
            "backup_dir": self.workdir / "backups",  # the lab's snapshots stay with the lab, never in the repo
            "settle_seconds": 0.2,
            "drift_interval": 0,
            "poll_interval": 0,
            "retry_backoff": 1.0,
            "forge_kind": "gitea",
            "forge_url": self.world.forge.url,
            "forge_token": FORGE_TOKEN,
            "port": port,
            "public_url": f"http://127.0.0.1:{port}",
            "age_key_file": self.age_key,
            "boot_timeout": 120,
            "flux_timeout": 120,
            "poll_seconds": 0.25,
            **self.world.target_settings(),
        }
        # Overrides replace the lab's defaults (shorter timeouts in tests, say) rather than clash with them.
        self.settings = Settings(**{**values, **self.settings_overrides})
        self.store = ClusterStateStore(self.settings.db_path)
        self.config_file.write_text(self._operator_config())
        self._serve()
        return self

    @property
    def config_file(self) -> Path:
        return self.workdir / "runner.toml"

    def _operator_config(self) -> str:
        """What `runner status|kubeconfig|talosconfig|plan|apply` need to reach the lab (RUNNER_CONFIG=this file)."""
        s = self.settings
        amap = ", ".join(f'"{k}" = "{v}"' for k, v in sorted(s.address_map.items()))
        clients = ", ".join(f'"{k}" = "{v}"' for k, v in sorted(s.talosctl_paths.items()))
        return (
            "# Settings for running runner commands against this lab: RUNNER_CONFIG=<this file> runner status\n"
            f'db_path = "{s.db_path}"\n'
            f'backup_dir = "{s.backup_dir}"\n'
            f'age_key_file = "{s.age_key_file}"\n'
            f'proxmox_url = "{s.proxmox_url}"\n'
            f'proxmox_ca_bundle = "{s.proxmox_ca_bundle}"\n'
            f'image_factory_url = "{s.image_factory_url}"\n'
            f'talosctl_path = "{s.talosctl_path}"\n'
            f"talosctl_paths = {{ {clients} }}\n"
            f"address_map = {{ {amap} }}\n"
        )

    def _serve(self) -> None:
        self.engine = Engine(self.settings, self.store)
        self.app = create_app(self.settings, make_run_fn(self.engine, self.listener))
        self.server: RunningServer = serve_in_thread(self.app, port=self.settings.port)
        hook_secret = self.settings.webhook_secret.reveal()
        forge = self.world.forge.url
        self.world.git.configure_webhook(f"{self.server.url}/hooks/gitea", hook_secret, "gitea", forge_url=forge)
        self.world.forge_state.pulls.webhook = WebhookTarget(f"{self.server.url}/hooks/gitea", hook_secret, "gitea")
        # Where `runner lab merge` finds this lab's forge (the lab picks free ports).
        about = {"forge": forge, "repo": self.world.git.full_name, "runner": self.server.url}
        (self.workdir / LAB_FILE).write_text(json.dumps(about))

    def _stop_service(self) -> None:
        stopper = threading.Thread(target=self.server.stop, daemon=True)
        stopper.start()
        stopper.join(10)

    def restart_service(self) -> None:
        """Stop the runner service alone (as a crash or redeploy would) and start a fresh one on the same
        database, cache and lab world: whatever it was doing must be picked up again by the new one."""
        self._stop_service()
        self._serve()

    @property
    def journal(self) -> Journal:
        return service_of(self.app).journal

    # --- the operator's side -------------------------------------------------------------------
    def seed_clone(self) -> None:
        """A working copy holding this repo's cluster and flux/ (what an operator's repo would hold)."""
        repo = pygit2.init_repository(str(self.clone), initial_head="main")
        sources = [*SEED_PATHS, f"clusters/{self.cluster_name}"]
        for rel in sources:
            src, dst = self.repo_root / rel, self.clone / rel
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            elif src.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
        (self.clone / "README.md").write_text(
            f"# The {self.cluster_name} cluster (lab copy)\n\nEdit clusters/{self.cluster_name}/cluster.yaml, "
            "commit and push: the runner plans and applies.\n"
        )
        repo.index.add_all()
        repo.index.write()
        repo.create_commit("HEAD", SIGNATURE, SIGNATURE, "Initial cluster", repo.index.write_tree(), [])
        repo.remotes.create("origin", self.world.git.url)

    def commit(self, files: dict[str, str | bytes | None], message: str, branch: str = "main") -> str:
        return commit_files(self.clone, files, message, branch)

    def push(self, branch: str = "main") -> str:
        return self.world.git.push(self.clone, branch)

    # --- waiting -------------------------------------------------------------------------------
    def wait_for_run(
        self, commit: str, mode: str = "apply", timeout: float = 180.0, tick: Callable[[], None] | None = None
    ) -> dict[str, Any]:
        """The finished journal row of the run of `commit` (the last one, if retried)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.journal.runs(RunFilter(cluster=self.cluster_name, mode=mode))
            finished = [
                r
                for r in runs
                if r["commit_sha"] == commit and r["status"] == "finished" and r["result"] != "interrupted"
            ]
            # Until its queue item is gone the worker may still be posting the run's PR comment and status.
            busy = service_of(self.app).queue.items()
            if finished and not busy:
                return finished[0]
            if tick:
                tick()
            time.sleep(0.2)
        raise TimeoutError(f"no finished {mode} run for {commit[:12]} within {timeout:.0f}s")

    def stop(self) -> None:
        self._stop_service()
        self.world.stop()
        self.store.close()
