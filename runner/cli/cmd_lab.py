"""`runner lab`: bring up the twins, the git server and the runner; push; watch the cluster come up."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import typer
from rich.live import Live

from runner.cli.common import console, err_console, errors_as_exit
from runner.cli.lab.pulls import PullWatcher
from runner.cli.lab.pulls import merge as merge_pull
from runner.cli.lab.session import LAB_KEY, LabSession
from runner.cli.lab.view import LabView
from runner.drivers.age import read_key
from runner.engine.commands.key_separation import files_opened_by
from runner.lab.world_inputs import Pace


def _summary(session: LabSession, view: LabView, run: dict[str, object], seconds: float) -> bool:
    facts = session.store.get(session.cluster_name)
    snap = session.store.snapshot(session.cluster_name) or {}
    vip = f"https://{session.cluster.network.vip}:6443"
    handoff = bool(facts.handoff_at) and facts.endpoint == vip
    console.print(view.nodes_table(console.width))
    console.print(f"run #{run['id']} {run['result']}: {run['summary']}", highlight=False)
    if run.get("error"):
        err_console.print(f"[red]error:[/] {run['error']}", highlight=False)
    flux = snap.get("flux_version") or "not installed"
    ready = "all Kustomizations Ready" if snap.get("kustomizations_ready") else "Kustomizations not Ready"
    console.print(f"endpoint: {facts.endpoint or '-'}   Flux {flux}: {ready}", highlight=False)
    if handoff:
        console.print(f"[bold green]hand-off complete[/] in {seconds:.1f}s wall time", highlight=False)
    else:
        err_console.print(f"[red]hand-off not complete[/] after {seconds:.1f}s", highlight=False)
    return handoff and run["result"] == "success"


def _show_keys(session: LabSession) -> None:
    """Which of the lab's SOPS files each of its two age keys opens, found by trying each key on each file."""
    for label, path in (("runner key", session.age_key), ("Flux key", session.flux_age_key)):
        opens, closed = files_opened_by(session.repo_root, read_key(path).private, session.cluster_name)
        rel = path.relative_to(session.repo_root)
        shut = f"; not {', '.join(closed)}" if closed else ""
        console.print(f"  {label:<10} {rel} opens {', '.join(opens) or 'nothing'}{shut}", highlight=False)


def _next_steps(session: LabSession) -> None:
    clone = session.clone
    forge = session.world.forge.url
    console.print(
        "\n[bold]Try next[/]\n"
        f"  cd {clone}\n"
        f"  $EDITOR clusters/{session.cluster_name}/cluster.yaml      # e.g. raise a worker's memory\n"
        "  git commit -am 'more memory' && git push origin main   # the push hook sends a signed webhook\n"
        "[bold]Or as a change for review[/]\n"
        "  git switch -c more-memory && git commit -am 'more memory' && git push origin more-memory\n"
        f"      # opens a pull request on the forge twin: its plan comment and statuses show here and at\n"
        f"      # {forge}/{session.world.git.full_name}/pulls\n"
        f"  runner lab merge 1 --workdir {session.workdir}   # merges PR #1 into main, which applies it\n"
        f"  web UI: {session.server.url}/      API: {session.server.url}/api/runs\n"
        f"  RUNNER_CONFIG={session.config_file} runner status   # also kubeconfig, talosconfig, plan\n"
        "Ctrl-C stops the lab.",
        highlight=False,
    )


lab_app = typer.Typer(
    invoke_without_command=True, no_args_is_help=False, help="The whole story on this machine, against twins"
)


@lab_app.callback()
def lab(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Exit after the first convergence (0) or failure (1)"),
    workdir: Path | None = typer.Option(None, help="Where the lab keeps its state (default: a new temp dir)"),
    port: int | None = typer.Option(None, help="Port of the runner's web UI/API (default: any free port)"),
    fast: bool = typer.Option(False, "--fast", help="Shorter simulated boot and task times"),
    repo: Path = typer.Option(Path("."), help="This repository (clusters/home, flux/, the lab key)"),
) -> None:
    """Run the whole story on this machine: Proxmox, Image Factory, Talos, Kubernetes+Flux twins, git push, hand-off."""
    if ctx.invoked_subcommand is not None:
        return  # `runner lab merge ...` talks to a lab that is already running
    root = repo.resolve()
    if not (root / LAB_KEY).exists() or not (root / "clusters/home/cluster.yaml").exists():
        raise typer.BadParameter(f"{root} is not the runner repository (needs clusters/home and {LAB_KEY})")
    workdir = (workdir or Path(tempfile.mkdtemp(prefix="runner-lab-"))).resolve()
    view: LabView | None = None

    def listener(event: str, request: object, payload: object) -> None:
        if view is not None:
            view.on_event(event, request, payload)

    started = time.monotonic()
    session = LabSession(root, workdir, pace=Pace.fast() if fast else Pace(), listener=listener, port=port)
    with errors_as_exit():
        session.start()
    try:
        view = LabView(session.cluster, session.world.node_view, width=lambda: console.width)
        world = session.world
        console.print(
            f"lab in {workdir}\n  runner   {session.server.url}\n  proxmox  {world.proxmox.url}\n"
            f"  factory  {world.factory.url}\n  talos    {world.talos.url}\n  kube     {world.kube.url}\n"
            f"  forge    {world.forge.url}\n  git      {world.git.url}",
            highlight=False,
        )
        _show_keys(session)
        session.seed_clone()
        commit = session.push()
        console.print(f"pushed {commit[:12]} to main; the post-receive hook sent the webhook", highlight=False)
        run = _watch(session, view, commit)
        ok = _summary(session, view, run, time.monotonic() - started)
        if once:
            raise typer.Exit(0 if ok else 1)
        _next_steps(session)
        _serve_until_interrupted(session, view)
    finally:
        session.stop()


def _watch(session: LabSession, view: LabView, commit: str) -> dict[str, object]:
    if console.is_terminal:
        with Live(view.render(), console=console, refresh_per_second=4, transient=True) as live:
            run = session.wait_for_run(commit, timeout=600, tick=lambda: live.update(view.render()))
    else:
        shown = 0

        def tick() -> None:
            nonlocal shown
            for line in view.printed[shown:]:
                console.print(line, highlight=False, markup=False)
            shown = len(view.printed)

        run = session.wait_for_run(commit, timeout=600, tick=tick)
        tick()
    view.mark_phases_done()
    return run


@lab_app.command("merge")
def merge(
    pr: int = typer.Argument(..., help="Number of the pull request to merge"),
    workdir: Path = typer.Option(..., help="The running lab's directory (printed when it starts)"),
) -> None:
    """Merge a lab pull request into main (fast-forward or a merge commit), as a forge's merge button does."""
    with errors_as_exit():
        try:
            reply = merge_pull(workdir.resolve(), pr)
        except (FileNotFoundError, LookupError, ConnectionError) as exc:
            err_console.print(f"[red]error:[/] {exc}", highlight=False)
            raise typer.Exit(1) from None
    console.print(
        f"merged PR #{reply['number']} into main as {str(reply['sha'])[:12]} (pull_request webhook {reply['webhook']});"
        " the push to main applies it",
        highlight=False,
    )


def _serve_until_interrupted(session: LabSession, view: LabView) -> None:
    seen = {r["id"] for r in session.journal.runs(limit=200)}
    pulls = PullWatcher(session.world.forge_state, session.world.forge.url)
    try:
        while True:
            time.sleep(0.5)
            for line in pulls.changes():
                console.print(line, highlight=False, markup=False)
            for r in reversed(session.journal.runs(limit=20)):
                if r["id"] not in seen and r["status"] == "finished":
                    seen.add(r["id"])
                    console.print(
                        f"run #{r['id']} ({r['trigger']}, {r['mode']}, {r['commit_sha'][:12]}): "
                        f"{r['result']}: {r['summary']}",
                        highlight=False,
                    )
    except KeyboardInterrupt:
        console.print("stopping the lab...")


def register(app: typer.Typer) -> None:
    app.add_typer(lab_app, name="lab")
