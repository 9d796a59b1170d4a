"""The adoption report for people: terminal text and markdown (JSON is `AdoptionReport.as_json`)."""

from __future__ import annotations

from runner.core.adoption.report import AdoptionReport, NodeReport


def _node_lines(node: NodeReport) -> list[str]:
    lines = [f"{node.name} (VM {node.vmid}, {node.ip}): {'REBOOTS' if node.reboot else 'no reboot'}"]
    lines += [f"  vm      {c}" for c in node.vm]
    lines += [f"  config  {c}" for c in node.config]
    differs = [w for w, v in node.secrets if v != "same"]
    if node.secrets:
        lines.append(f"  secrets {'same' if not differs else 'differ: ' + ', '.join(differs)}")
    if node.talos:
        lines.append(f"  talos   {node.talos}")
    if node.schematic != "same":
        lines.append(f"  image   schematic {node.schematic}")
    if node.version != "same":
        lines.append(f"  talos   version {node.version}")
    return lines


def render_text(report: AdoptionReport) -> str:
    lines = [f"Adoption of cluster {report.cluster} (endpoint {report.endpoint})", ""]
    for node in report.nodes:
        lines += _node_lines(node)
    if report.releases:
        lines.append("")
    for r in report.releases:
        lines.append(f"helm {r.release} ({r.chart}): {r.takeover} by {r.helmrelease}")
        lines += [f"  values  {v}" for v in r.values]
    lines.append("")
    if report.refusals:
        lines.append(f"REFUSED ({len(report.refusals)}):")
        lines += [f"  - {r}" for r in report.refusals]
    else:
        lines.append("Adoptable: `runner adopt --apply --confirm <digest>` tags the VMs and records the cluster.")
    lines.append(f"digest {report.digest}")
    return "\n".join(lines) + "\n"


def render_markdown(report: AdoptionReport) -> str:
    lines = [f"### Adoption of `{report.cluster}`", "", f"Endpoint in use: `{report.endpoint}`", ""]
    lines += ["| node | VM | reboot | differences |", "|---|---|---|---|"]
    for n in report.nodes:
        diffs = [*n.vm, *n.config]
        if n.schematic != "same":
            diffs.append(f"schematic {n.schematic}")
        shown = "<br>".join(f"`{d}`" for d in diffs) or "none"
        lines.append(f"| {n.name} | {n.vmid} | {'yes' if n.reboot else 'no'} | {shown} |")
    for r in report.releases:
        lines.append(f"\n- Helm `{r.release}` ({r.chart}): **{r.takeover}** by `{r.helmrelease}`")
        lines += [f"  - `{v}`" for v in r.values]
    lines.append("")
    lines += [f"- :x: {r}" for r in report.refusals] or ["Adoptable."]
    lines += ["", f"Digest: `{report.digest}`"]
    return "\n".join(lines) + "\n"
