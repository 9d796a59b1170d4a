"""Cilium's Gateway API controller, simulated: GatewayClass, Gateway and HTTPRoute status, and the Gateway's Service.

What the twin keeps of Cilium 1.20 (operator/pkg/gateway-api):
- The controller runs only if the Gateway API CRDs existed when the operator started (cell.go checks them once and
  disables itself with "Required GatewayAPI resources are not found"); `started` is decided by the Helm twin at
  each Cilium install/upgrade, which is when the operator's pods start.
- It owns GatewayClasses whose `controllerName` is `io.cilium/gateway-controller` (Accepted). Gateways of any other
  or of a missing class are not its business: nothing writes their status (the real API server shows the CRD's
  default, Accepted Unknown `Pending` "Waiting for controller"; the twin leaves it empty).
- A Gateway of its class gets a Service `cilium-gateway-<name>` of type LoadBalancer (so its address comes from LB
  IPAM), `status.addresses` from that Service, Accepted "Gateway successfully scheduled", and Programmed True once
  the address exists (False `AddressNotAssigned` "Gateway waiting for address" before). An HTTPS listener whose
  certificate Secret is missing has ResolvedRefs False `InvalidCertificateRef`.
- An HTTPRoute gets one `status.parents` entry per parentRef to such a Gateway: Accepted False
  `NotAllowedByListeners` when no listener's `allowedRoutes.namespaces.from` (default Same) admits its namespace,
  False `NoMatchingListenerHostname` when no hostname intersects, else True; ResolvedRefs False `BackendNotFound`
  when a backend Service does not exist, else True.
Condition types and reasons are Gateway API's (apis/v1 gateway_types.go, gatewayclass_types.go, shared_types.go
@v1.5.1); messages are the twin's wording except where Cilium's are quoted above.
"""

from __future__ import annotations

from typing import Any

from . import lb_ipam
from .conditions import condition
from .controller import Controller

GROUP = "gateway.networking.k8s.io"
API = f"{GROUP}/v1"
CONTROLLER_NAME = "io.cilium/gateway-controller"
MANAGER = "cilium-operator-gateway-api"
# The CRDs Cilium's Gateway API guide lists as required (standard channel).
REQUIRED_PLURALS = ("gatewayclasses", "gateways", "httproutes", "referencegrants", "grpcroutes")


def _cond(
    old: list[dict[str, Any]] | None, type_: str, status: str, reason: str, message: str, gen: int
) -> dict[str, Any]:
    return condition(old, status, reason, message, gen, type_)[0]


def _hosts_intersect(listener_host: str | None, route_hosts: list[str]) -> bool:
    if not listener_host or not route_hosts:
        return True
    for host in route_hosts:
        if host == listener_host:
            return True
        if (
            listener_host.startswith("*.")
            and host.endswith(listener_host[1:])
            and host.count(".") >= listener_host.count(".")
        ):
            return True
        if host.startswith("*.") and listener_host.endswith(host[1:]):
            return True
    return False


class GatewayApiSim(Controller):
    started = False  # the operator's Gateway API controller runs (CRDs were there when it started)

    def reconcile(self, cilium_running: bool) -> None:
        if not (cilium_running and self.started):
            return
        classes = self._classes()
        gateways = [g for g in self._list("Gateway") if (g.get("spec") or {}).get("gatewayClassName") in classes]
        routes = self._list("HTTPRoute")
        for gateway in gateways:
            self._gateway(gateway, routes)
        for route in routes:
            self._route(route, {(g["metadata"]["namespace"], g["metadata"]["name"]): g for g in gateways})

    def _list(self, kind: str) -> list[dict[str, Any]]:
        rt = self.catalog.by_kind(API, kind)
        return self.store.list(rt, None) if rt is not None else []

    def _classes(self) -> set[str]:
        rt = self._rt(API, "GatewayClass")
        ours = set()
        for gc in self.store.list(rt, None):
            if (gc.get("spec") or {}).get("controllerName") != CONTROLLER_NAME:
                continue
            meta = gc["metadata"]
            old = (gc.get("status") or {}).get("conditions")
            accepted = _cond(old, "Accepted", "True", "Accepted", "Valid GatewayClass", meta["generation"])
            self.store.set_status(rt, None, meta["name"], {**(gc.get("status") or {}), "conditions": [accepted]})
            ours.add(meta["name"])
        return ours

    def _gateway(self, gateway: dict[str, Any], routes: list[dict[str, Any]]) -> None:
        meta, spec = gateway["metadata"], gateway.get("spec") or {}
        ns, gen = meta["namespace"], meta["generation"]
        service = self._service(gateway)
        addresses = lb_ipam.ingress_ips(service)
        old = gateway.get("status") or {}
        old_conditions = old.get("conditions")
        programmed = (
            _cond(old_conditions, "Programmed", "True", "Programmed", "Gateway successfully reconciled", gen)
            if addresses
            else _cond(old_conditions, "Programmed", "False", "AddressNotAssigned", "Gateway waiting for address", gen)
        )
        status = {
            "addresses": [{"type": "IPAddress", "value": a} for a in addresses],
            "conditions": [
                _cond(old_conditions, "Accepted", "True", "Accepted", "Gateway successfully scheduled", gen),
                programmed,
            ],
            "listeners": [self._listener(gateway, listener, routes, old) for listener in spec.get("listeners") or []],
        }
        self.store.set_status(self._rt(API, "Gateway"), ns, meta["name"], status)

    def _listener(
        self, gateway: dict[str, Any], listener: dict[str, Any], routes: list[dict[str, Any]], old: dict[str, Any]
    ) -> dict[str, Any]:
        gen, ns = gateway["metadata"]["generation"], gateway["metadata"]["namespace"]
        previous: dict[str, Any] = next(
            (entry for entry in old.get("listeners") or [] if entry.get("name") == listener["name"]), {}
        )
        conditions = previous.get("conditions")
        secret_rt = self._rt("v1", "Secret")
        missing = [
            ref.get("name")
            for ref in ((listener.get("tls") or {}).get("certificateRefs") or [])
            if self.store.find(secret_rt, ref.get("namespace", ns), ref.get("name", "")) is None
        ]
        resolved = (
            _cond(conditions, "ResolvedRefs", "False", "InvalidCertificateRef", f"Secret {missing[0]} not found", gen)
            if missing
            else _cond(conditions, "ResolvedRefs", "True", "ResolvedRefs", "Resolved Refs", gen)
        )
        attached = sum(1 for r in routes if self._attaches(r, gateway, listener))
        kinds = [{"group": GROUP, "kind": "HTTPRoute"}]
        return {
            "name": listener["name"],
            "attachedRoutes": attached,
            "supportedKinds": kinds,
            "conditions": [
                _cond(conditions, "Accepted", "True", "Accepted", "Listener Accepted", gen),
                _cond(conditions, "Programmed", "True", "Programmed", "Listener Programmed", gen),
                resolved,
            ],
        }

    def _service(self, gateway: dict[str, Any]) -> dict[str, Any]:
        meta = gateway["metadata"]
        rt = self._rt("v1", "Service")
        name = f"cilium-gateway-{meta['name']}"
        existing = self.store.find(rt, meta["namespace"], name)
        if existing is not None:
            return existing
        ports = sorted({int(listener["port"]) for listener in (gateway.get("spec") or {}).get("listeners") or []})
        return self.store.create(
            rt,
            meta["namespace"],
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": name,
                    "labels": {
                        "io.cilium.gateway/owning-gateway": meta["name"],
                        "gateway.networking.k8s.io/gateway-name": meta["name"],
                    },
                    "ownerReferences": [
                        {
                            "apiVersion": API,
                            "kind": "Gateway",
                            "name": meta["name"],
                            "uid": meta.get("uid", ""),
                            "controller": True,
                        }
                    ],
                },
                "spec": {
                    "type": "LoadBalancer",
                    "ports": [{"name": f"port-{p}", "port": p, "protocol": "TCP"} for p in ports],
                },
            },
            MANAGER,
        )

    @staticmethod
    def _refers(ref: dict[str, Any], route: dict[str, Any], gateway: dict[str, Any]) -> bool:
        gmeta = gateway["metadata"]
        return bool(
            ref.get("kind", "Gateway") == "Gateway"
            and ref.get("group", GROUP) == GROUP
            and ref.get("name") == gmeta["name"]
            and ref.get("namespace", route["metadata"]["namespace"]) == gmeta["namespace"]
        )

    @staticmethod
    def _allows(listener: dict[str, Any], route: dict[str, Any], gateway: dict[str, Any]) -> bool:
        origin = (((listener.get("allowedRoutes") or {}).get("namespaces") or {}).get("from")) or "Same"
        return origin == "All" or (
            origin == "Same" and route["metadata"]["namespace"] == gateway["metadata"]["namespace"]
        )

    def _attaches(self, route: dict[str, Any], gateway: dict[str, Any], listener: dict[str, Any]) -> bool:
        return any(
            self._refers(ref, route, gateway)
            and ref.get("sectionName", listener["name"]) == listener["name"]
            and self._allows(listener, route, gateway)
            and _hosts_intersect(listener.get("hostname"), (route.get("spec") or {}).get("hostnames") or [])
            for ref in (route.get("spec") or {}).get("parentRefs") or []
        )

    def _route(self, route: dict[str, Any], gateways: dict[tuple[str, str], dict[str, Any]]) -> None:
        meta, spec = route["metadata"], route.get("spec") or {}
        ns, gen = meta["namespace"], meta["generation"]
        old_parents = (route.get("status") or {}).get("parents") or []
        parents = []
        for ref in spec.get("parentRefs") or []:
            gateway = gateways.get((ref.get("namespace", ns), ref.get("name", "")))
            if gateway is None:
                continue
            full_ref = {"group": GROUP, "kind": "Gateway", **ref, "namespace": ref.get("namespace", ns)}
            old = next((p.get("conditions") for p in old_parents if p.get("parentRef") == full_ref), None)
            listeners = [
                lst
                for lst in (gateway.get("spec") or {}).get("listeners") or []
                if ref.get("sectionName", lst["name"]) == lst["name"]
            ]
            allowed = [lst for lst in listeners if self._allows(lst, route, gateway)]
            if not allowed:
                accepted = _cond(old, "Accepted", "False", "NotAllowedByListeners", "HTTPRoute is not allowed", gen)
            elif not any(_hosts_intersect(lst.get("hostname"), spec.get("hostnames") or []) for lst in allowed):
                accepted = _cond(
                    old, "Accepted", "False", "NoMatchingListenerHostname", "No matching listener hostname", gen
                )
            else:
                accepted = _cond(old, "Accepted", "True", "Accepted", "Accepted HTTPRoute", gen)
            parents.append(
                {
                    "parentRef": full_ref,
                    "controllerName": CONTROLLER_NAME,
                    "conditions": [accepted, self._refs(route, old)],
                }
            )
        self.store.set_status(self._rt(API, "HTTPRoute"), ns, meta["name"], {"parents": parents})

    def _refs(self, route: dict[str, Any], old: list[dict[str, Any]] | None) -> dict[str, Any]:
        meta = route["metadata"]
        rt = self._rt("v1", "Service")
        for rule in (route.get("spec") or {}).get("rules") or []:
            for backend in rule.get("backendRefs") or []:
                namespace = backend.get("namespace", meta["namespace"])
                if self.store.find(rt, namespace, backend.get("name", "")) is None:
                    message = f'Service "{namespace}/{backend.get("name", "")}" not found'
                    return _cond(old, "ResolvedRefs", "False", "BackendNotFound", message, meta["generation"])
        return _cond(old, "ResolvedRefs", "True", "ResolvedRefs", "Service reference is valid", meta["generation"])
