"""cert-manager ClusterIssuers as the hand-off checks them: can certificates be issued?

Flux's `wait: true` judges a ClusterIssuer by kstatus, which calls an object without conditions Current: one
applied a moment before cert-manager registered its account passes, and so infra-configs can go Ready with an
issuer that Let's Encrypt refused. The runner therefore asks the issuers themselves. cert-manager v1.16 writes
its Ready condition with the generation it saw (no top-level observedGeneration); an ACME 4xx answer
("Failed to register ACME account: 400 urn:ietf:params:acme:error:invalidContact: ...") is never retried
(`pkg/issuer/acme/setup.go`), so it fails the wait at once instead of at its deadline.
"""

from __future__ import annotations

import re
from typing import Any

from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.generic_resource import create_global_resource

from .errors import translated
from .readiness import FluxStatus, Verdict

ClusterIssuer = create_global_resource("cert-manager.io", "v1", "ClusterIssuer", "clusterissuers")
# What cert-manager leaves as it is until the spec changes: an ACME server's 4xx answer to the account.
_REFUSED = re.compile(r"^Failed to (register|update|verify) ACME account: ?4\d\d urn:ietf:params:acme:error:")


def issuer_status(obj: dict[str, Any]) -> FluxStatus:
    meta = obj.get("metadata") or {}
    ready = next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), None)
    reason, message = (ready or {}).get("reason", ""), (ready or {}).get("message", "")
    verdict: Verdict = "pending"  # no condition yet, or one about an older spec
    if ready is not None and ready.get("observedGeneration") == meta.get("generation"):
        if ready.get("status") == "True":
            verdict = "ready"
        elif _REFUSED.match(message):
            verdict = "failed"
    return FluxStatus("ClusterIssuer", "", str(meta.get("name", "")), verdict, reason, message)


class IssuerOps:
    _client: Client

    def cluster_issuers_status(self) -> list[FluxStatus]:
        """Every ClusterIssuer with its verdict; none when cert-manager's CRDs are not installed."""
        with translated("list ClusterIssuers"):
            try:
                return [issuer_status(dict(i)) for i in self._client.list(ClusterIssuer)]
            except ApiError as e:
                if e.status.code == 404:  # the type is not served: cert-manager is not installed
                    return []
                raise
