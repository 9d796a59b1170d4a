"""Pod Security admission, as kube-apiserver's PodSecurity plugin enforces it (pod-security-admission v0.32, v0.36).

The level a namespace enforces comes from its `pod-security.kubernetes.io/enforce` label, else from the
plugin's configured defaults (on Talos: the `admissionControl` PodSecurity entry of the machine config,
`enforce: baseline` with only kube-system exempt), else `privileged` (the upstream default). Pods are
checked at creation, so a Deployment whose template violates the level is stored (with a warning) but its
ReplicaSet's pods are refused: `pods "<name>" is forbidden: violates PodSecurity "baseline:latest": ...`.

Only the checks that decide this cluster's bootstrap are modelled; each names the upstream check file.
Before checking, the API server's defaulting runs: on the host network every container port gets
`hostPort = containerPort` (pkg/apis/core/v1/defaults.go), which is why hostNetwork pods also fail `hostPort`.
"""

from __future__ import annotations

from typing import Any

from . import release

ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
ENFORCE_VERSION_LABEL = "pod-security.kubernetes.io/enforce-version"
LEVELS = ("privileged", "baseline", "restricted")

# policy/check_capabilities_baseline.go: the only capabilities baseline lets a container add.
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]


def _plural(one: str, many: str, n: int) -> str:
    return one if n == 1 else many


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def defaulted(pod: dict[str, Any]) -> dict[str, Any]:
    """The API server's defaulting that matters here: host-network ports get hostPort = containerPort."""
    if not pod.get("hostNetwork"):
        return pod
    out = {**pod}
    for key in ("initContainers", "containers"):
        if pod.get(key):
            out[key] = [
                {
                    **c,
                    "ports": [
                        {**p, "hostPort": p.get("hostPort") or p.get("containerPort")} for p in c.get("ports") or []
                    ],
                }
                for c in pod[key]
            ]
    return out


def _probe_hosts(container: dict[str, Any]) -> list[str]:
    """The hosts a container's probes and lifecycle handlers name (httpGet and tcpSocket)."""
    handlers = [container.get(p) or {} for p in ("livenessProbe", "readinessProbe", "startupProbe")]
    handlers += [(container.get("lifecycle") or {}).get(h) or {} for h in ("postStart", "preStop")]
    return [
        str(action["host"])
        for handler in handlers
        for action in ((handler.get("httpGet") or {}), (handler.get("tcpSocket") or {}))
        if action.get("host")
    ]


def _baseline(pod: dict[str, Any], minor: int) -> list[str]:
    """Reasons by check ID, in the order of the sorted IDs (policy/registry.go `populate`)."""
    found: dict[str, str] = {}
    # check_hostNamespaces.go
    hosts = [f"{k}=true" for k in ("hostNetwork", "hostPID", "hostIPC") if pod.get(k)]
    if hosts:
        found["hostNamespaces"] = f"host namespaces ({', '.join(hosts)})"
    # check_privileged.go
    privileged = [c["name"] for c in _containers(pod) if (c.get("securityContext") or {}).get("privileged")]
    if privileged:
        found["privileged"] = (
            f"privileged ({_plural('container', 'containers', len(privileged))} {_quoted(privileged)} "
            f"{_plural('must not set', 'must not set', len(privileged))} securityContext.privileged=true)"
        )
    # check_capabilities_baseline.go
    bad_caps: list[str] = []
    caps: set[str] = set()
    for c in _containers(pod):
        added = set(((c.get("securityContext") or {}).get("capabilities") or {}).get("add") or [])
        if added - BASELINE_CAPABILITIES:
            bad_caps.append(c["name"])
            caps |= added - BASELINE_CAPABILITIES
    if bad_caps:
        found["capabilities_baseline"] = (
            f"non-default capabilities ({_plural('container', 'containers', len(bad_caps))} {_quoted(bad_caps)} "
            f"must not include {_quoted(sorted(caps))} in securityContext.capabilities.add)"
        )
    # check_hostPathVolumes.go
    host_paths = [v["name"] for v in pod.get("volumes") or [] if "hostPath" in v]
    if host_paths:
        found["hostPathVolumes"] = (
            f"hostPath volumes ({_plural('volume', 'volumes', len(host_paths))} {_quoted(host_paths)})"
        )
    # check_hostPorts.go
    bad: list[str] = []
    ports: set[int] = set()
    for c in _containers(pod):
        used = {int(p["hostPort"]) for p in c.get("ports") or [] if p.get("hostPort")}
        if used:
            bad.append(c["name"])
            ports |= used
    if bad:
        found["hostPorts"] = (
            f"hostPort ({_plural('container', 'containers', len(bad))} {_quoted(bad)} "
            f"{_plural('uses', 'use', len(bad))} {_plural('hostPort', 'hostPorts', len(ports))} "
            f"{', '.join(str(p) for p in sorted(ports))})"
        )
    # check_hostProbesAndhostLifecycle.go, a baseline check from policy version 1.34
    probing = {c["name"]: _probe_hosts(c) for c in _containers(pod)}
    probing = {name: found_hosts for name, found_hosts in probing.items() if found_hosts}
    if probing and minor >= release.PROBE_HOSTS_BASELINE:
        names, named = sorted(probing), sorted({h for found_hosts in probing.values() for h in found_hosts})
        found["hostProbesAndHostLifecycle"] = (
            f"probe or lifecycle host ({_plural('container', 'containers', len(names))} {_quoted(names)} "
            f"{_plural('uses', 'use', len(names))} "
            f"{_plural('probe or lifecycle host', 'probe or lifecycle hosts', len(named))} {_quoted(named)})"
        )
    return [found[check_id] for check_id in sorted(found)]


def _restricted(pod: dict[str, Any], minor: int) -> list[str]:
    found: list[str] = []
    pod_ctx = pod.get("securityContext") or {}
    # check_allowPrivilegeEscalation.go
    escalating = [
        c["name"]
        for c in _containers(pod)
        if (c.get("securityContext") or {}).get("allowPrivilegeEscalation") is not False
    ]
    if escalating:
        found.append(
            f"allowPrivilegeEscalation != false ({_plural('container', 'containers', len(escalating))} "
            f"{_quoted(escalating)} must set securityContext.allowPrivilegeEscalation=false)"
        )
    # check_runAsNonRoot.go; from policy 1.35 a pod in a user namespace (`hostUsers: false`) may run as root
    in_user_namespace = pod.get("hostUsers") is False and minor >= release.USER_NAMESPACE_RELAXATION
    root = [
        c["name"]
        for c in _containers(pod)
        if not in_user_namespace
        and not (c.get("securityContext") or {}).get("runAsNonRoot", pod_ctx.get("runAsNonRoot"))
    ]
    if root:
        found.append(
            f"runAsNonRoot != true ({_plural('container', 'containers', len(root))} {_quoted(root)} "
            "must set securityContext.runAsNonRoot=true)"
        )
    return found


def violations(level: str, pod: dict[str, Any], minor: int = release.NEWEST_CHECKED) -> list[str]:
    """The forbidden reasons of a (defaulted) pod spec at `level` of policy version 1.`minor` (by default the
    newest release checked upstream), in pod-security-admission's wording."""
    if level == "privileged":
        return []
    pod = defaulted(pod)
    found = _baseline(pod, minor)
    if level == "restricted":
        found += _restricted(pod, minor)
    return found


def namespace_level(namespace: str, labels: dict[str, str], config: dict[str, Any] | None) -> tuple[str, str]:
    """(level, version) enforced in a namespace: the label, else the configured default; exemptions first."""
    exemptions = ((config or {}).get("exemptions") or {}).get("namespaces") or []
    if namespace in exemptions:
        return "privileged", "latest"
    defaults = (config or {}).get("defaults") or {}
    level = labels.get(ENFORCE_LABEL) or defaults.get("enforce") or "privileged"
    version = labels.get(ENFORCE_VERSION_LABEL) or defaults.get("enforce-version") or "latest"
    return (level if level in LEVELS else "restricted"), version


def policy_minor(version: str, server_minor: int) -> int:
    """The policy version checked: `latest` and anything newer than the server are the server's own checks
    (policy/registry.go `EvaluatePod` caps the version at the newest the binary knows)."""
    try:
        major, minor = version.removeprefix("v").split(".")
        wanted = int(minor) if major == "1" else server_minor
    except ValueError:
        wanted = server_minor
    return min(wanted, server_minor)


def forbidden(
    namespace: str, labels: dict[str, str], config: dict[str, Any] | None, pod: dict[str, Any], server_minor: int
) -> str | None:
    """The API server's refusal of a pod with this spec in this namespace, or None when it is admitted;
    `server_minor` is the minor release of the kube-apiserver answering."""
    level, version = namespace_level(namespace, labels, config)
    found = violations(level, pod, policy_minor(version, server_minor))
    if not found:
        return None
    return f'violates PodSecurity "{level}:{version}": {", ".join(found)}'


def pod_security_config(admission_control: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """The PodSecurity plugin's configuration out of a Talos `cluster.apiServer.admissionControl` list."""
    for plugin in admission_control or []:
        if plugin.get("name") == "PodSecurity":
            configuration = plugin.get("configuration")
            return configuration if isinstance(configuration, dict) else None
    return None


# What `talosctl gen config` (Talos v1.11) puts in cluster.apiServer.admissionControl
# (siderolabs/talos pkg/machinery/config/generate/init.go@v1.11.2): the configuration a twin serving a
# Talos cluster enforces when it is not handed the machine config's own.
TALOS_DEFAULT: dict[str, Any] = {
    "apiVersion": "pod-security.admission.config.k8s.io/v1alpha1",
    "kind": "PodSecurityConfiguration",
    "defaults": {
        "enforce": "baseline",
        "enforce-version": "latest",
        "audit": "restricted",
        "audit-version": "latest",
        "warn": "restricted",
        "warn-version": "latest",
    },
    "exemptions": {"usernames": [], "runtimeClasses": [], "namespaces": ["kube-system"]},
}
