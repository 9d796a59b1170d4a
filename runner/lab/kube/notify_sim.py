"""Flux events and notification-controller, simulated (Flux v2.3: notification-controller v1.3.0).

- The other controllers' event recorder (fluxcd/pkg runtime/events, v0.47) POSTs each info/error event as
  JSON to the controller's `--events-addr`, from the controller's own pod; when that fails it logs
  `unable to record event` and the event is gone. The twin delivers only where reach.Reach says the pod's
  request would land: on notification-controller's event server (`--events-addr`, default `:9090`).
- The event server (running in every replica, not only the leader) strips metadata to the involved
  object's group, lists the Alerts (v1beta3) whose event sources, severity and inclusion/exclusion lists
  match, and posts to each one's Provider: `generic` and `generic-hmac` as the event JSON with the
  `gotk-component` header (and `X-Signature: sha256=<hmac>`). Other provider types are recorded, not sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable
from typing import Any

from . import flux_pods, pod_network
from .catalog import Catalog
from .cluster import ClusterSim
from .conditions import ready_of
from .controller import Controller
from .reach import Reach
from .store import Store, now

CONTROLLER = "notification-controller"
DEFAULT_EVENTS_ADDR = ":9090"  # notification-controller main.go flag default
NOTIFICATION_API = "notification.toolkit.fluxcd.io/v1beta3"
STILL_WORKING = {"DependencyNotReady", "Progressing", "ProgressingWithRetry", "ArtifactFailed", ""}
EXCLUDED_META = ("checksum", "digest")  # eventv1.MetaChecksumKey, MetaDigestKey
Post = Callable[[str, bytes, dict[str, str]], int]


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    import httpx

    return httpx.post(url, content=body, headers=headers, timeout=5.0).status_code


class NotificationSim(Controller):
    def __init__(
        self, store: Store, catalog: Catalog, cluster: ClusterSim, events: list[str], post: Post | None = None
    ) -> None:
        super().__init__(store, catalog, events)
        self.reach = Reach(store, catalog, cluster)
        self.cluster = cluster
        self.post = post or _post
        self.lock = threading.Lock()
        self.received: list[dict[str, Any]] = []  # events the event server accepted, with `cni_ready` at the time
        self.lost: list[str] = []  # what the emitting controllers logged: "unable to record event ..."
        self.sent: list[dict[str, Any]] = []  # {alert, provider, address, status | error}

    # the emitting side ---------------------------------------------------------------------------
    def status_changed(self, controller: str, obj: dict[str, Any], status: dict[str, Any]) -> None:
        """The event a controller records after a reconcile whose outcome changed: info when Ready, error when
        it failed (not while it is still progressing)."""
        state, reason, message = ready_of({**obj, "status": status})
        if state == "True":
            severity = "info"
            if obj["kind"] == "Kustomization":
                interval = (obj.get("spec") or {}).get("interval", "10m")
                message = f"Reconciliation finished in 0s, next run in {interval}"
        elif state == "False" and reason not in STILL_WORKING:
            severity = "error"
        else:
            return
        group = obj["apiVersion"].rpartition("/")[0]
        revision = status.get("lastAppliedRevision") or status.get("lastAttemptedRevision")
        meta = {f"{group}/revision": revision} if revision else {}
        self.emit(controller, obj, severity, reason or severity, message, meta)

    def emit(
        self, controller: str, obj: dict[str, Any], severity: str, reason: str, message: str, meta: dict[str, str]
    ) -> None:
        found = flux_pods.locate(self.store, self.catalog, controller)
        webhook = flux_pods.flag(found.container, "--events-addr") if found else None
        if found is None or not webhook:
            return  # no --events-addr: Kubernetes events only
        event = {
            "involvedObject": {
                "kind": obj["kind"],
                "namespace": obj["metadata"].get("namespace", ""),
                "name": obj["metadata"]["name"],
                "uid": obj["metadata"].get("uid", ""),
                "apiVersion": obj["apiVersion"],
                "resourceVersion": obj["metadata"].get("resourceVersion", ""),
            },
            "severity": severity,
            "timestamp": now(),
            "message": message,
            "reason": reason,
            **({"metadata": meta} if meta else {}),
            "reportingController": controller,
            "reportingInstance": controller,
        }
        why = self._unreachable(found, webhook)
        if why is not None:
            with self.lock:
                self.lost.append(f'{controller}: unable to record event: Post "{webhook}": {why}')
            return
        with self.lock:
            self.received.append({**event, "cni_ready": self.cluster.cni_ready})
        self._dispatch(event)

    def _unreachable(self, emitter: flux_pods.Located, webhook: str) -> str | None:
        """Why the emitter's pod cannot post to `webhook`'s notification-controller event server, or None."""
        caller = flux_pods.placed_pod(self.store, self.catalog, emitter.deployment)
        server = flux_pods.locate(self.store, self.catalog, CONTROLLER)
        target = flux_pods.placed_pod(self.store, self.catalog, server.deployment) if server else None
        if caller is None:
            return "the controller has no pod"
        if server is None or target is None or not self.cluster.workload_ready(server.deployment):
            return f"dial tcp {pod_network.needs_dns(webhook) or webhook}: connect: connection refused"
        listen = flux_pods.flag(server.container, "--events-addr") or DEFAULT_EVENTS_ADDR
        return self.reach.unreachable(webhook, caller, target, int(listen.rsplit(":", 1)[1]))

    # the event server ----------------------------------------------------------------------------
    def _dispatch(self, event: dict[str, Any]) -> None:
        group = event["involvedObject"]["apiVersion"].rpartition("/")[0]
        meta = {
            k.removeprefix(f"{group}/"): v
            for k, v in (event.get("metadata") or {}).items()
            if k.startswith(f"{group}/") and k.removeprefix(f"{group}/") not in EXCLUDED_META
        }
        event = {**event, "metadata": meta} if meta else {k: v for k, v in event.items() if k != "metadata"}
        alerts = self.catalog.by_kind(NOTIFICATION_API, "Alert")
        for alert in self.store.list(alerts, None) if alerts else []:
            if self._matches(alert, event):
                self._notify(alert, event)

    def _matches(self, alert: dict[str, Any], event: dict[str, Any]) -> bool:
        spec, involved = alert.get("spec") or {}, event["involvedObject"]
        if spec.get("suspend"):
            return False
        severity = spec.get("eventSeverity", "info")
        if event["severity"] != severity and severity != "info":
            return False
        sources = [
            s
            for s in spec.get("eventSources") or []
            if s.get("kind") == involved["kind"]
            and s.get("namespace", alert["metadata"]["namespace"]) == involved["namespace"]
            and s.get("name") in ("*", involved["name"])
            and self._labels_match(s.get("matchLabels"), involved)
        ]
        included = not spec.get("inclusionList") or any(re.search(x, event["message"]) for x in spec["inclusionList"])
        excluded = any(re.search(x, event["message"]) for x in spec.get("exclusionList") or [])
        return bool(sources) and included and not excluded

    def _labels_match(self, wanted: dict[str, str] | None, involved: dict[str, Any]) -> bool:
        if not wanted:
            return True
        rt = self.catalog.by_kind(involved["apiVersion"], involved["kind"])
        obj = self.store.find(rt, involved["namespace"], involved["name"]) if rt else None
        labels = ((obj or {}).get("metadata") or {}).get("labels") or {}
        return all(labels.get(k) == v for k, v in wanted.items())

    def _notify(self, alert: dict[str, Any], event: dict[str, Any]) -> None:
        ns, spec = alert["metadata"]["namespace"], alert.get("spec") or {}
        providers = self.catalog.by_kind(NOTIFICATION_API, "Provider")
        name = (spec.get("providerRef") or {}).get("name", "")
        provider = self.store.find(providers, ns, name) if providers else None
        record: dict[str, Any] = {"alert": f"{ns}/{alert['metadata']['name']}", "provider": f"{ns}/{name}"}
        if provider is None:
            self._record({**record, "error": f'failed to read provider: Provider "{name}" not found'})
            return
        pspec = provider.get("spec") or {}
        if pspec.get("suspend"):
            return
        secret = self._secret(ns, (pspec.get("secretRef") or {}).get("name"))
        address = secret.get("address", "").strip() or pspec.get("address", "")
        meta = {**(event.get("metadata") or {})}
        for key, value in (spec.get("eventMetadata") or {}).items():
            meta.setdefault(key, value)
        if spec.get("summary"):
            meta["summary"] = spec["summary"]
        notification = {**event, **({"metadata": meta} if meta else {})}
        record["address"] = address
        kind = pspec.get("type", "generic")
        if kind not in ("generic", "generic-hmac") or not address:
            self._record({**record, "error": f"provider type {kind!r} is not simulated" if address else "no address"})
            return
        body = json.dumps(notification).encode()
        headers = {"Content-Type": "application/json", "gotk-component": event["reportingController"]}
        if kind == "generic-hmac":
            key = secret.get("token", "").strip().encode()
            headers["X-Signature"] = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        threading.Thread(target=self._send, args=(record, address, body, headers), daemon=True).start()

    def _send(self, record: dict[str, Any], address: str, body: bytes, headers: dict[str, str]) -> None:
        try:
            code = self.post(address, body, headers)
        except Exception as exc:  # any transport error is what the controller would log
            self._record({**record, "error": f"failed to send notification: {type(exc).__name__}: {exc}"})
            return
        ok = code in (200, 201, 202)
        self._record(
            {**record, "status": code} if ok else {**record, "error": f"request failed with status code {code}"}
        )

    def _secret(self, namespace: str, name: str | None) -> dict[str, str]:
        rt = self.catalog.by_kind("v1", "Secret")
        obj = self.store.find(rt, namespace, name) if rt and name else None
        return {k: base64.b64decode(v).decode() for k, v in ((obj or {}).get("data") or {}).items()}

    def _record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.sent.append(entry)
