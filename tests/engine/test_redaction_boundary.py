"""Redaction happens once, inside the engine: a driver error that echoes a secret reaches no one unredacted.

The Proxmox twin fails the image download with a task error that repeats the Proxmox token secret, or every
value of the cluster's secrets file (as a misbehaving proxy or plugin might). The run is applied through the
real engine with the CLI's reporter and the service's journal reporter with a live listener; every line they
got, the plan handed out, the run's outcome and summary, and every log record show `***` where it was.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from runner.cli.reporter import ConsoleReporter
from runner.core.render import render_json
from runner.core.secret import Redactor, Secret
from runner.core.steps import Step
from runner.drivers.sops import SopsCli
from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.engine.reconcile.outcome import Outcome
from runner.engine.reconcile.reconciler import Engine
from runner.engine.reconcile.source import DirSource
from runner.engine.service.database import open_database
from runner.engine.service.journal import Journal
from runner.engine.service.queue import RunRequest
from runner.engine.service.run_context import RunContext
from runner.engine.service.run_fn import JournalReporter
from runner.lab.proxmox import ProxmoxTwin
from runner.lab.proxmox.faults import Fault
from runner.lab.serve import RunningServer
from tests.engine.twins import AGE_KEY, edit_spec, engine_settings, lab_token


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


def echoed_run(
    repo: Path, proxmox: ProxmoxTwin, factory: RunningServer, tmp_path: Path, caplog: Any, echo: str
) -> tuple[Outcome, dict[str, str]]:
    """Apply through the engine while the image download fails with `echo`; everything each audience got."""
    proxmox.state.faults.add(Fault("POST", "/nodes/*/storage/*/download-url", task_error=echo, task_error_count=99))
    settings = engine_settings(tmp_path, proxmox, factory)
    engine = Engine(settings, ClusterStateStore(settings.db_path))
    cli = io.StringIO()
    heard: list[tuple[str, Any]] = []
    journal = Journal(open_database(tmp_path / "journal.db"))
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

    assert outcome.result is not None and outcome.result.failed_step is not None and outcome.result.error
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
    return outcome, shown


def test_a_driver_error_that_echoes_a_secret_is_redacted_at_the_engine(
    repo, proxmox, factory, tmp_path, caplog
) -> None:
    _, secret = lab_token()
    echo = f"download refused: upstream said the token {secret} is not allowed"
    outcome, shown = echoed_run(repo, proxmox, factory, tmp_path, caplog, echo)
    assert outcome.result is not None and outcome.result.error
    assert "download refused: upstream said the token *** is not allowed" in outcome.result.error
    assert {where: secret in text for where, text in shown.items()} == dict.fromkeys(shown, False)
    assert "the token *** is not allowed" in shown["cli"] and "the token *** is not allowed" in shown["listener"]
    assert "the token *** is not allowed" in shown["logs"]


# Not secrets: the token's id names the Proxmox user (doctor and the privilege check print it); so does the git user.
NAMES = {"proxmox.tokenId", "flux.gitUsername"}


def leaves(data: Any, path: str = "") -> dict[str, str]:
    if isinstance(data, dict):
        return {k: v for key, value in data.items() for k, v in leaves(value, f"{path}.{key}".lstrip(".")).items()}
    if isinstance(data, list):
        return {k: v for i, value in enumerate(data) for k, v in leaves(value, f"{path}[{i}]").items()}
    return {path: str(data)}


def without_tailscale(doc: Any) -> None:
    del doc["tailscale"]
    doc["talos"]["extensions"].remove("siderolabs/tailscale")


@pytest.mark.parametrize("tailscale", ["configured", "unused"])
def test_every_value_of_the_secrets_file_echoed_by_a_driver_is_redacted(
    repo, proxmox, factory, tmp_path, caplog, tailscale
) -> None:
    """Not only the Proxmox token: the Talos CAs and keys, the bootstrap and trustd tokens, the secretbox key,
    the tailscale key, the Flux age key and the git password all come out as `***`, wherever they are shown;
    also a value no machine config carries (the tailscale key of a cluster that does not use tailscale)."""
    if tailscale == "unused":
        edit_spec(repo, without_tailscale)
    path = repo / "clusters/home/secrets.sops.yaml"
    sops = SopsCli(age_key_file=AGE_KEY)
    sops.set_value(path, '["flux"]["gitUsername"]', Secret("runner-bot"))
    sops.set_value(path, '["flux"]["gitPassword"]', Secret("glpat-LabOnlyGitPassword00000000"))
    values = {k: v for k, v in leaves(sops.decrypt(path.read_bytes(), str(path))).items() if k not in NAMES}
    assert {"proxmox.tokenSecret", "tailscale.authKey", "flux.ageKey", "flux.gitPassword"} < values.keys()
    assert {
        "talos.secrets.bootstraptoken",
        "talos.secrets.secretboxencryptionsecret",
        "talos.certs.os.key",
    } < values.keys()
    echo = "download refused: upstream echoed " + " | ".join(values.values())

    outcome, shown = echoed_run(repo, proxmox, factory, tmp_path, caplog, echo)

    leaked = {name: sorted(where for where, text in shown.items() if value in text) for name, value in values.items()}
    assert {name: where for name, where in leaked.items() if where} == {}
    assert outcome.result is not None and outcome.result.error
    assert "upstream echoed " + " | ".join(["***"] * len(values)) in outcome.result.error
