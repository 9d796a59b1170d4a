"""One reconcile: load -> decrypt -> derive -> observe -> plan -> (apply) -> record.

Used by the service (via `run_fn`), the CLI (`plan`, `apply`) and the lab alike, so every path runs the
same code against the same drivers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from runner.core.derive import Desired, derive
from runner.core.errors import Permanent, RunnerError, SecretsError, Transient
from runner.core.maintenance import Verdict, disruption_verdict
from runner.core.planner import plan as make_plan
from runner.core.planner.snapshot import SNAPSHOT_ID
from runner.core.secret import Redactor
from runner.core.snapshot import observed_from_snapshot, snapshot
from runner.core.spec import Backups
from runner.core.state import Observed
from runner.core.steps import Kind, Plan
from runner.drivers import workdir
from runner.drivers.age import read_key
from runner.drivers.sops import SopsCli, default_age_key_file
from runner.engine.reconcile.backups import BackupStore
from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.engine.reconcile.configs import (
    NodeConfig,
    RenderedConfigs,
    config_endpoint,
    node_configs,
    with_config_hashes,
)
from runner.engine.reconcile.connection_targets import ConnectionTargets, annotated, targets_of
from runner.engine.reconcile.etcd_snapshots import Controller, age_recipients, snapshot_if_due
from runner.engine.reconcile.executor import Reporter, execute
from runner.engine.reconcile.flux_key import checked_flux_key
from runner.engine.reconcile.handlers import StepRunner
from runner.engine.reconcile.load import DecryptCache, LoadedCluster, SpecCache, flux_release_of, load_cluster
from runner.engine.reconcile.observe import observe
from runner.engine.reconcile.outcome import Outcome, counted
from runner.engine.reconcile.preflight import check_privileges
from runner.engine.reconcile.redaction import LOG_REDACTION, RedactingReporter, redacted_plan, register_secrets
from runner.engine.reconcile.source import Source
from runner.engine.reconcile.target_settings import TargetSettings
from runner.engine.reconcile.targets import Connections


@dataclass
class Engine:
    """Long-lived pieces shared by runs: settings, the cluster-state store, the decrypted-secrets cache."""

    settings: TargetSettings
    store: ClusterStateStore
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))  # injectable for tests
    decrypt: DecryptCache = field(init=False)
    sops: SopsCli = field(init=False)
    rendered: RenderedConfigs = field(init=False)

    def __post_init__(self) -> None:
        workdir.sweep()  # a CLI run after a crash finds no credentials of the dead process left on disk
        self.sops = SopsCli(age_key_file=self.settings.age_key_file)
        self.decrypt = DecryptCache(self.sops)
        self.specs = SpecCache()
        self.rendered = RenderedConfigs()

    def snapshot_recipients(self, source: Source, name: str) -> tuple[str, ...]:
        sops_config = source.read(".sops.yaml")
        own = self.settings.age_key_file or default_age_key_file()
        public = read_key(own).public if own.exists() else None
        return tuple(age_recipients(sops_config.decode() if sops_config else None, name, public))

    def prepare(
        self, source: Source, name: str, allow_destroy: bool = False, targets: ConnectionTargets | None = None
    ) -> tuple[LoadedCluster, Connections, Desired, dict[str, NodeConfig]]:
        """Load, decrypt and derive; `targets` (default: the spec's own) is where the drivers may connect."""
        loaded = load_cluster(source, name, self.decrypt, self.specs)
        assert loaded.secrets is not None
        conns = Connections(self.settings, targets or ConnectionTargets.of(loaded.cluster), loaded.secrets)
        base = derive(loaded.cluster, flux_release_of(loaded.cluster))
        if allow_destroy:  # the CLI flag: an operator's explicit consent for this one run
            base = dataclasses.replace(base, allow_destroy=True)
        facts = self.store.get(name)
        endpoint = config_endpoint(base, facts.endpoint)
        adopted = facts.adopted_at is not None
        configs = node_configs(loaded.cluster, base, loaded.secrets, conns.bundle, self.rendered, endpoint, adopted)
        return loaded, conns, with_config_hashes(base, configs), configs

    def endpoint_configs(self, loaded: LoadedCluster, conns: Connections, desired: Desired) -> dict[str, NodeConfig]:
        """What the move-endpoint steps apply once the VIP answers: the same configs, naming the VIP (rendered
        into the memo, so the next run, which wants exactly these, renders nothing)."""
        assert loaded.secrets is not None
        adopted = self.store.get(loaded.cluster.name).adopted_at is not None
        return node_configs(
            loaded.cluster, desired, loaded.secrets, conns.bundle, self.rendered, desired.vip_endpoint, adopted
        )

    def reconcile(
        self,
        source: Source,
        name: str,
        *,
        apply: bool,
        reporter: Reporter,
        redactor: Redactor | None = None,
        cancel: threading.Event | None = None,
        commit: str | None = None,
        allow_destroy: bool = False,
        on_plan: Callable[[Plan], None] | None = None,
        targets_from: Source | None = None,
        offline: str | None = None,
        still_ours: Callable[[], bool] | None = None,
    ) -> Outcome:
        """One run. A plan with `targets_from` (the protected branch) connects only to that source's targets;
        with `offline` (the reason) it contacts nothing and plans against the last recorded state."""
        started = time.monotonic()
        outcome = Outcome(name)
        conns: Connections | None = None
        redactor = redactor if redactor is not None else Redactor()
        LOG_REDACTION.watch(redactor)
        reporter = RedactingReporter(reporter, redactor)  # the one boundary: nothing leaves the run unredacted
        try:
            if apply and (targets_from is not None or offline):
                raise Permanent("refusing to apply: a run with borrowed connection targets only plans")
            trusted = targets_of(targets_from, name) if targets_from is not None else None
            if targets_from is not None and trusted is None:
                offline = offline or "the protected branch has no valid spec of this cluster"
            loaded, conns, desired, configs = self.prepare(source, name, allow_destroy, trusted)
            register_secrets(redactor, loaded, configs)
            outcome.warnings = [str(w) for w in loaded.warnings]
            facts = self.store.get(name)
            recorded = self.store.snapshot(name) if offline else None
            observed = observed_from_snapshot(recorded) if offline else observe(desired, conns, facts, self.store)
            maintenance = loaded.cluster.maintenance
            plan = annotated(make_plan(desired, observed), trusted, loaded.cluster, offline, recorded)
            plan = with_window_note(plan, disruption_verdict(maintenance, self.clock()))
            outcome.plan = redacted_plan(plan, redactor)  # what is shown; `plan` itself is what runs
            reporter.log(f"plan: {len(plan.steps)} steps, {len(plan.conflicts)} conflicts")
            if on_plan is not None:
                on_plan(outcome.plan)
            if not apply:
                return outcome  # plans (PRs, `runner plan`) leave the recorded picture of the cluster alone
            if plan.conflicts:
                raise Permanent("refusing to apply: " + "; ".join(outcome.plan.conflicts))
            if not outcome.plan.empty:  # an apply that changes nothing needs no privilege beyond reading
                assert loaded.secrets is not None
                check_privileges(
                    conns.proxmox_inspect, loaded.cluster, conns.proxmox_url, loaded.secrets.proxmox_token_id
                )
            runner = StepRunner(
                loaded.cluster,
                desired,
                conns,
                configs,
                self.store,
                # Flux gets the cluster's Flux key, never the runner's own; checked when it is handed over.
                functools.partial(checked_flux_key, loaded, source),
                facts.handoff_at is not None,
                cancel or threading.Event(),
                reporter.log,
                endpoint_configs=self.endpoint_configs(loaded, conns, desired)
                if any(s.kind is Kind.MOVE_ENDPOINT for s in outcome.plan.steps)
                else {},
                age_recipients=self.snapshot_recipients(source, name),
            )
            outcome.result = execute(
                plan,
                runner,
                reporter,
                max_parallel=self.settings.max_parallel_steps,
                cancel=runner.cancel,
                still_ours=still_ours,
                gate=lambda step: disruption_verdict(maintenance, self.clock()).reason() or None,
            )
            outcome.warnings += outcome.result.awaiting.values()  # a node that answers no more is worth a warning
            if outcome.result.failed_step == SNAPSHOT_ID:  # the snapshot guarding a disruptive step failed
                outcome.snapshot_failed = outcome.result.error
            if outcome.result.ok and commit:
                self.store.set_applied(name, commit)
            if outcome.result.ok and loaded.cluster.backups and observed.cluster.bootstrapped:
                down = [str(s.params["node_name"]) for s in plan.steps if s.kind is Kind.AWAIT_NODE]
                self._scheduled_snapshot(loaded.cluster.backups, desired, conns, source, outcome, reporter, down)
            if any(s.kind is Kind.MOVE_ENDPOINT and outcome.result.statuses.get(s.id) == "done" for s in plan.steps):
                # The nodes' configs now name the VIP: convergence is judged against what the next run wants.
                vip_configs = self.endpoint_configs(loaded, conns, desired)
                desired = with_config_hashes(desired, vip_configs)
            self._record_after(name, desired, conns, observed, plan, outcome, reporter)
        except (RunnerError, SecretsError) as exc:
            outcome.error = redactor(str(exc))
            # Nothing was changed yet (a 5xx or timeout while observing): the whole run may be retried.
            outcome.transient = isinstance(exc, Transient) and outcome.result is None
        finally:
            if conns is not None:
                conns.close()
            outcome.seconds = time.monotonic() - started
            if outcome.result is not None and outcome.result.error:
                outcome.result.error = redactor(outcome.result.error)  # a driver's error may echo a secret
            outcome.warnings = [redactor(w) for w in outcome.warnings]
        return outcome

    def _scheduled_snapshot(
        self,
        backups: Backups,
        desired: Desired,
        conns: Connections,
        source: Source,
        outcome: Outcome,
        reporter: Reporter,
        down: list[str],
    ) -> None:
        taken, failed = snapshot_if_due(
            conns.talos,
            [Controller(c.name, c.ip) for c in desired.controllers],
            BackupStore(self.settings.backup_dir),
            cluster=desired.cluster,
            every=backups.interval,
            keep=backups.keep,
            recipients=list(self.snapshot_recipients(source, desired.cluster)),
            now=self.clock(),
            exclude=down,  # a controller that answers no more is asked last
        )
        if taken is not None:
            reporter.log(f"scheduled etcd snapshot {taken.id} from {taken.controller} ({taken.size} bytes)")
        if failed is not None:  # a scheduled snapshot failing does not fail the run, but people should hear of it
            reporter.log(failed)
            outcome.warnings.append(failed)
            outcome.snapshot_failed = failed

    def _record_after(
        self,
        name: str,
        desired: Desired,
        conns: Connections,
        before: Observed,
        plan: Plan,
        outcome: Outcome,
        reporter: Reporter,
    ) -> None:
        """Look again after applying: the snapshot shows what is, and a non-empty re-plan means no convergence.

        An empty plan changed nothing, so the first observation still holds and costs no second look. A failure
        of this look is only logged: it must not hide the error of the step that really failed.
        """
        if plan.empty:
            self.store.set_snapshot(name, snapshot(desired, before, plan))
            return
        try:
            after = observe(desired, conns, self.store.get(name), self.store)
        except RunnerError as exc:
            reporter.log(f"could not observe the cluster after applying: {exc}")
            return
        again = make_plan(desired, after)
        self.store.set_snapshot(name, snapshot(desired, after, again))
        if outcome.result is not None and outcome.result.ok and again.steps:
            reporter.log(f"after applying, {len(again.steps)} steps remain: {', '.join(s.id for s in again.steps)}")


def with_window_note(plan: Plan, verdict: Verdict) -> Plan:
    """A plan whose disruptive steps must wait says so, and until when (the PR comment shows it)."""
    waiting = [s.id for s in plan.steps if s.disruptive]
    if verdict.may_start or not waiting:
        return plan
    note = f"{counted(len(waiting), 'disruptive step')} ({', '.join(waiting)}) {verdict.reason()}; the rest runs now"
    return dataclasses.replace(plan, notes=(*plan.notes, note))
