"""Step handlers that act on Kubernetes and Flux: drains, node removal, the Flux install and the hand-off."""

from __future__ import annotations

from runner.core.flux_settings import cluster_settings
from runner.core.secret import Secret
from runner.core.steps import Kind, Step
from runner.drivers.kube import flux_install
from runner.engine.reconcile.drain import drain_node as drain
from runner.engine.reconcile.drain import uncordon_when_ready
from runner.engine.reconcile.handlers.context import StepContext, now
from runner.engine.reconcile.handlers.table import Handlers


def drain_node(ctx: StepContext, step: Step) -> str:
    settings = ctx.conns.settings
    kube = ctx.kube()
    try:
        return drain(
            kube,
            str(step.params["node_name"]),
            timeout=settings.drain_timeout,
            poll=settings.poll_seconds,
            cancel=ctx.cancel,
            log=ctx.log,
        )
    finally:
        kube.close()


def uncordon_node(ctx: StepContext, step: Step) -> str:
    kube = ctx.kube()
    try:
        return uncordon_when_ready(kube, str(step.params["node_name"]), wait=ctx.wait)
    finally:
        kube.close()


def delete_k8s_node(ctx: StepContext, step: Step) -> str:
    kube = ctx.kube()
    try:
        removed = kube.remove_node(str(step.params["node_name"]))
    finally:
        kube.close()
    return "cordoned and deleted from Kubernetes" if removed else "not a Kubernetes node"


def install_flux(ctx: StepContext, step: Step) -> str:
    flux = ctx.cluster.flux
    assert flux is not None  # the planner only plans this step for clusters with a flux section
    key = ctx.flux_key()  # before anything is applied: a key that opens the machine secrets stops here
    auth: dict[str, Secret | str] | None = None
    if ctx.conns.secrets.git_password is not None:
        auth = {"username": ctx.conns.secrets.git_username or "git", "password": ctx.conns.secrets.git_password}
    kube = ctx.kube()
    try:
        kube.install_flux(
            flux.url,
            flux.branch,
            flux.path,
            key.private,
            auth,
            handoff=ctx.handoff,
            settings=cluster_settings(ctx.cluster),
        )
    finally:
        kube.close()
    return f"Flux {step.params['version']} installed; syncing {flux.path}"


def replace_flux_key(ctx: StepContext, step: Step) -> str:
    """A rotated Flux key: the commit re-encrypted flux/ to it, so Flux needs it to decrypt again."""
    key = ctx.flux_key()
    kube = ctx.kube()
    timeout = ctx.conns.settings.flux_timeout
    try:
        kube.replace_sops_secret(key.private, handoff=ctx.handoff)
        # kustomize-controller reads the Secret on each attempt but does not watch it: a build that already
        # failed with the old key waits for its retryInterval unless asked again, as `flux reconcile` does.
        statuses = ctx.wait(kube.kustomizations_status, "Flux Kustomizations to list", timeout)
        assert isinstance(statuses, list)
        tokens = {(s.namespace, s.name): kube.request_reconcile("Kustomization", s.name, s.namespace) for s in statuses}
        for (ns, name), token in sorted(tokens.items()):
            kube.wait_ready("Kustomization", name, ns, timeout=timeout, handled=token)
    finally:
        kube.close()
    return f"sops-age Secret now holds the Flux key {key.recipient}; {len(tokens)} Kustomizations reconciled with it"


def apply_flux_settings(ctx: StepContext, step: Step) -> str:
    kube = ctx.kube()
    try:
        kube.apply([flux_install.settings_configmap(cluster_settings(ctx.cluster))], handoff=ctx.handoff)
    finally:
        kube.close()
    return f"{flux_install.SETTINGS_CONFIGMAP} applied in {flux_install.FLUX_NAMESPACE}"


def wait_flux(ctx: StepContext, step: Step) -> str:
    kube = ctx.kube()
    timeout = ctx.conns.settings.flux_timeout
    try:
        ctx.wait(lambda: kube.kustomizations_status(), "Flux Kustomizations to appear", timeout)
        names: set[str] = set()
        while True:
            statuses = kube.kustomizations_status()
            fresh = {s.name for s in statuses} - names
            if not fresh:
                break
            for name in sorted(fresh):
                kube.wait_ready("Kustomization", name, timeout=timeout)
            names |= fresh
    finally:
        kube.close()
    return f"{len(names)} Kustomizations Ready: {', '.join(sorted(names))}"


def record_handoff(ctx: StepContext, step: Step) -> str:
    ctx.store.record_handoff(ctx.desired.cluster, now())
    ctx.handoff = True
    return "hand-off recorded: Flux owns in-cluster objects"


def switch_endpoint(ctx: StepContext, step: Step) -> str:
    endpoint = str(step.params["endpoint"])
    kube = ctx.kube(endpoint)
    try:
        ctx.wait(kube.api_ready, f"the VIP {ctx.desired.vip} answering", ctx.conns.settings.flux_timeout)
    finally:
        kube.close()
    ctx.store.set_endpoint(ctx.desired.cluster, endpoint)
    return f"endpoint is now {endpoint}"


HANDLERS: Handlers = {
    Kind.DRAIN_NODE: drain_node,
    Kind.UNCORDON_NODE: uncordon_node,
    Kind.DELETE_K8S_NODE: delete_k8s_node,
    Kind.INSTALL_FLUX: install_flux,
    Kind.REPLACE_FLUX_KEY: replace_flux_key,
    Kind.APPLY_FLUX_SETTINGS: apply_flux_settings,
    Kind.WAIT_FLUX: wait_flux,
    Kind.RECORD_HANDOFF: record_handoff,
    Kind.SWITCH_ENDPOINT: switch_endpoint,
}
