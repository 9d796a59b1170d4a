"""Step handlers that act on Kubernetes and Flux: drains, node removal, the Flux install and the hand-off."""

from __future__ import annotations

import functools

from runner.core.errors import Permanent, Transient
from runner.core.flux_settings import cluster_settings
from runner.core.secret import Secret
from runner.core.steps import Kind, Step
from runner.drivers.kube import FluxStatus, KubeApi, flux_install
from runner.engine.reconcile.drain import drain_node as drain
from runner.engine.reconcile.drain import uncordon_when_ready
from runner.engine.reconcile.handlers.context import StepContext, now
from runner.engine.reconcile.handlers.table import Handlers


def drain_node(ctx: StepContext, step: Step) -> str:
    settings = ctx.conns.settings
    with ctx.kube_session() as kube:
        return drain(
            kube,
            str(step.params["node_name"]),
            timeout=settings.drain_timeout,
            poll=settings.poll_seconds,
            cancel=ctx.cancel,
            log=ctx.log,
        )


def uncordon_node(ctx: StepContext, step: Step) -> str:
    with ctx.kube_session() as kube:
        return uncordon_when_ready(kube, str(step.params["node_name"]), wait=ctx.wait)


def delete_k8s_node(ctx: StepContext, step: Step) -> str:
    with ctx.kube_session() as kube:
        removed = kube.remove_node(str(step.params["node_name"]))
    return "cordoned and deleted from Kubernetes" if removed else "not a Kubernetes node"


def _git_auth(ctx: StepContext) -> dict[str, Secret | str] | None:
    if ctx.conns.secrets.git_password is None:
        return None
    return {"username": ctx.conns.secrets.git_username or "git", "password": ctx.conns.secrets.git_password}


def install_flux(ctx: StepContext, step: Step) -> str:
    flux = ctx.cluster.flux
    assert flux is not None  # the planner only plans this step for clusters with a flux section
    key = ctx.flux_key()  # before anything is applied: a key that opens the machine secrets stops here
    with ctx.kube_session() as kube:
        kube.install_flux(
            flux.url,
            flux.branch,
            flux.path,
            key.private,
            _git_auth(ctx),
            handoff=ctx.handoff,
            settings=cluster_settings(ctx.cluster),
            version=str(step.params["version"]),
        )
    return f"Flux {step.params['version']} installed; syncing {flux.path}"


def upgrade_flux(ctx: StepContext, step: Step) -> str:
    """A running Flux to a newer release; the wait step after it sees its Kustomizations Ready again."""
    flux = ctx.cluster.flux
    assert flux is not None
    key = ctx.flux_key()
    with ctx.kube_session() as kube:
        done = kube.upgrade_flux(
            str(step.params["version"]),
            flux.url,
            flux.branch,
            flux.path,
            key.private,
            _git_auth(ctx),
            handoff=ctx.handoff,
            settings=cluster_settings(ctx.cluster),
        )
    for line in done:
        ctx.log(line)
    return f"Flux {step.params['previous']}→{step.params['version']}: " + "; ".join(done)


def replace_flux_key(ctx: StepContext, step: Step) -> str:
    """A rotated Flux key: the commit re-encrypted flux/ to it, so Flux needs it to decrypt again."""
    key = ctx.flux_key()
    timeout = ctx.conns.settings.flux_timeout
    with ctx.kube_session() as kube:
        kube.replace_sops_secret(key.private, handoff=ctx.handoff)
        # kustomize-controller reads the Secret on each attempt but does not watch it: a build that already
        # failed with the old key waits for its retryInterval unless asked again, as `flux reconcile` does.
        statuses = ctx.wait(kube.kustomizations_status, "Flux Kustomizations to list", timeout)
        assert isinstance(statuses, list)
        tokens = {(s.namespace, s.name): kube.request_reconcile("Kustomization", s.name, s.namespace) for s in statuses}
        for (ns, name), token in sorted(tokens.items()):
            kube.wait_ready("Kustomization", name, ns, timeout=timeout, handled=token)
    return f"sops-age Secret now holds the Flux key {key.recipient}; {len(tokens)} Kustomizations reconciled with it"


def apply_flux_settings(ctx: StepContext, step: Step) -> str:
    with ctx.kube_session() as kube:
        kube.apply([flux_install.settings_configmap(cluster_settings(ctx.cluster))], handoff=ctx.handoff)
    return f"{flux_install.SETTINGS_CONFIGMAP} applied in {flux_install.FLUX_NAMESPACE}"


def wait_flux(ctx: StepContext, step: Step) -> str:
    timeout = ctx.conns.settings.flux_timeout
    with ctx.kube_session() as kube:
        ctx.wait(lambda: kube.kustomizations_status(), "Flux Kustomizations to appear", timeout)
        names: set[str] = set()
        while True:
            fresh = {s.name for s in kube.kustomizations_status()} - names
            if not fresh:
                break
            for name in sorted(fresh):
                ctx.wait(functools.partial(_kustomization_ready, kube, name), f"Kustomization {name} Ready", timeout)
            names |= fresh
        issuers: list[str] = []
        ctx.wait(lambda: _issuers_ready(kube, issuers), "ClusterIssuers to register their ACME accounts", timeout)
    told = f"; ClusterIssuers Ready: {', '.join(issuers)}" if issuers else ""
    return f"{len(names)} Kustomizations Ready: {', '.join(sorted(names))}{told}"


def _kustomization_ready(kube: KubeApi, name: str, namespace: str = "flux-system") -> bool:
    """True once Ready; a failed Kustomization, or an issuer whose ACME account was refused, fails at once (a
    refused issuer holds infra-configs in its health check until Flux's timeout, and everything after it)."""
    _refused_issuers(kube)
    status = next((s for s in kube.kustomizations_status() if (s.namespace, s.name) == (namespace, name)), None)
    what = f"Kustomization {namespace}/{name}"
    if status is None:
        raise Transient(f"{what} not found")
    if status.verdict == "failed":
        raise Permanent(f"{what}: {status.reason}: {status.message}")
    if status.verdict != "ready":
        raise Transient(f"{what}: {status.reason or 'no Ready condition yet'}: {status.message}".rstrip(": "))
    return True


def _refused_issuers(kube: KubeApi) -> list[FluxStatus]:
    statuses = kube.cluster_issuers_status()
    for s in statuses:
        if s.verdict == "failed":  # cert-manager does not retry an ACME 4xx: nothing changes until the spec does
            raise Permanent(f"ClusterIssuer {s.name}: {s.reason}: {s.message}")
    return statuses


def _issuers_ready(kube: KubeApi, names: list[str]) -> bool:
    """Whether every ClusterIssuer is Ready (their names into `names`). Flux's health check can pass an issuer
    cert-manager has not judged yet (kstatus calls an object without conditions Current), so ask them."""
    statuses = _refused_issuers(kube)
    for s in statuses:
        if s.verdict != "ready":  # said at the deadline: which issuer, and what cert-manager last wrote
            raise Transient(f"ClusterIssuer {s.name}: {s.reason or 'no Ready condition yet'}: {s.message}".rstrip(": "))
    names[:] = sorted(s.name for s in statuses)
    return True


def record_handoff(ctx: StepContext, step: Step) -> str:
    ctx.store.record_handoff(ctx.desired.cluster, now())
    ctx.handoff = True
    return "hand-off recorded: Flux owns in-cluster objects"


def switch_endpoint(ctx: StepContext, step: Step) -> str:
    endpoint = str(step.params["endpoint"])
    with ctx.kube_session(endpoint) as kube:
        ctx.wait(kube.api_ready, f"the VIP {ctx.desired.vip} answering", ctx.conns.settings.flux_timeout)
    ctx.store.set_endpoint(ctx.desired.cluster, endpoint)
    return f"endpoint is now {endpoint}"


HANDLERS: Handlers = {
    Kind.DRAIN_NODE: drain_node,
    Kind.UNCORDON_NODE: uncordon_node,
    Kind.DELETE_K8S_NODE: delete_k8s_node,
    Kind.INSTALL_FLUX: install_flux,
    Kind.UPGRADE_FLUX: upgrade_flux,
    Kind.REPLACE_FLUX_KEY: replace_flux_key,
    Kind.APPLY_FLUX_SETTINGS: apply_flux_settings,
    Kind.WAIT_FLUX: wait_flux,
    Kind.RECORD_HANDOFF: record_handoff,
    Kind.SWITCH_ENDPOINT: switch_endpoint,
}
