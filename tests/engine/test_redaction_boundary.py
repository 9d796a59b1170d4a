"""Redaction happens once, inside the engine: a driver error that echoes a secret reaches no one unredacted.

The Proxmox twin fails the image download with a task error that repeats the Proxmox token secret (as a
misbehaving proxy or plugin might). The run is applied through the real engine with the CLI's reporter
and the service's journal reporter with a live listener; every line they got, the plan handed out, the
run's outcome and summary, and every log record show `***` where the secret was.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from ruamel.yaml import YAML

from runner.cli.reporter import ConsoleReporter
from runner.core.render import render_json
from runner.core.secret import Redactor
from runner.core.steps import Step
from runner.drivers.sops import SopsCli
from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.engine.reconcile.reconciler import Engine
from runner.engine.reconcile.source import DirSource
from runner.engine.reconcile.target_settings import TargetSettings
from runner.engine.service.database import Database
from runner.engine.service.journal import Journal
from runner.engine.service.queue import RunRequest
from runner.engine.service.run_context import RunContext
from runner.engine.service.run_fn import JournalReporter
from runner.lab.imagefactory import FactoryState
from runner.lab.imagefactory import create_app as factory_app
from runner.lab.proxmox import Delays, ProxmoxTwin, ProxmoxTwinState, serve_proxmox_twin
from runner.lab.proxmox.faults import Fault
from runner.lab.proxmox.host_setup import HostPlan, prepare_host
from runner.lab.serve import RunningServer, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
AGE_KEY = ROOT / "tests/keys/lab.agekey"
FAST = Delays(task=0.01, create=0.01, start=0.01, shutdown=0.01, download=0.01)


def lab_token() -> tuple[str, str]:
    path = ROOT / "clusters/home/secrets.sops.yaml"
    data = SopsCli(age_key_file=AGE_KEY).decrypt(path.read_bytes(), str(path))
    return str(data["proxmox"]["tokenId"]), str(data["proxmox"]["tokenSecret"])


@pytest.fixture
def proxmox(tmp_path: Path) -> Iterator[ProxmoxTwin]:
    token_id, secret = lab_token()
    state = ProxmoxTwinState(tokens={token_id: secret}, delays=replace(FAST))
    prepare_host(state, HostPlan(token_id), secret)  # the token holds exactly the documented role
    twin = serve_proxmox_twin(state, tmp_path / "pve")
    yield twin
    twin.stop()


@pytest.fixture
def factory() -> Iterator[RunningServer]:
    server = serve_in_thread(factory_app(FactoryState()))
    yield server
    server.stop()


@pytest.fixture
def repo(tmp_path: Path, proxmox: ProxmoxTwin) -> Path:
    shutil.copytree(ROOT / "clusters/home", tmp_path / "repo/clusters/home")
    spec = tmp_path / "repo/clusters/home/cluster.yaml"
    yaml = YAML()
    doc = yaml.load(spec.read_text())
    doc["proxmox"]["url"] = proxmox.url
    out = io.StringIO()
    yaml.dump(doc, out)
    spec.write_text(out.getvalue())
    return tmp_path / "repo"


class Both:
    """Hands every event to the CLI's reporter and to the service's journal reporter."""

    def __init__(self, *reporters: Any) -> None:
        self.reporters = reporters

    def step_started(self, step: Step) -> None:
        for r in self.reporters:
            r.step_started(step)

    def step_finished(self, step: Step, status: str, message: str, seconds: float) -> None:
        for r in self.reporters:
            r.step_finished(step, status, message, seconds)

    def log(self, message: str) -> None:
        for r in self.reporters:
            r.log(message)


def test_a_driver_error_that_echoes_a_secret_is_redacted_at_the_engine(
    repo, proxmox, factory, tmp_path, caplog
) -> None:
    _, secret = lab_token()
    echo = f"download refused: upstream said the token {secret} is not allowed"
    proxmox.state.faults.add(Fault("POST", "/nodes/*/storage/*/download-url", task_error=echo, task_error_count=99))
    settings = TargetSettings(
        db_path=tmp_path / "state.db",
        age_key_file=AGE_KEY,
        proxmox_ca_bundle=proxmox.ca_bundle,
        image_factory_url=factory.url,
        talosctl_path="false",
    )
    engine = Engine(settings, ClusterStateStore(settings.db_path))
    cli = io.StringIO()
    heard: list[tuple[str, Any]] = []
    journal = Journal(Database(tmp_path / "journal.db"))
    request = RunRequest("home", "c" * 40, "main", "manual", "apply", "r")
    run_id = journal.start_run(request)
    ctx = RunContext(journal, run_id, None, lambda: False)  # type: ignore[arg-type]
    service = JournalReporter(ctx, request, lambda event, _req, payload: heard.append((event, payload)))
    reporter = Both(ConsoleReporter(Console(file=cli, width=400)), service)
    plans: list[Any] = []

    with caplog.at_level(logging.DEBUG):
        outcome = engine.reconcile(
            DirSource(repo), "home", apply=True, reporter=reporter, redactor=Redactor(), on_plan=plans.append
        )
        logging.getLogger("runner.test").error("the run failed: %s", echo)  # any log line, anywhere

    assert outcome.result is not None and outcome.result.failed_step is not None
    assert "download refused: upstream said the token *** is not allowed" in outcome.result.error
    detail = journal.run(run_id)
    shown = {
        "cli": cli.getvalue(),
        "listener": "\n".join(repr(payload) for _, payload in heard),
        "journal": json.dumps(detail, default=str),
        "summary": outcome.summary(),
        "error": outcome.result.error,
        "plan": render_json(plans[0]),
        "logs": "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records),
    }
    assert {where: secret in text for where, text in shown.items()} == dict.fromkeys(shown, False)
    assert "the token *** is not allowed" in shown["cli"] and "the token *** is not allowed" in shown["listener"]
    assert "the token *** is not allowed" in shown["logs"]
