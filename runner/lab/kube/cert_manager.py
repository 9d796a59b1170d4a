"""cert-manager's issuer controller, simulated for ACME ClusterIssuers on Let's Encrypt: account registration.

cert-manager v1.16.2 `pkg/issuer/acme/setup.go`: it registers the account (`mailto:` + the lower-cased
`spec.acme.email`, none when empty) and sets the Ready condition: True `ACMEAccountRegistered` "The ACME account
was registered with the ACME server", or False `ErrRegisterACMEAccount` "Failed to register ACME account: <err>"
(`ErrUpdateACMEAccount` "Failed to update ACME account:<err>" once an account exists). A 4xx answer is not
retried: the issuer stays so until its spec changes. Conditions carry the generation they saw; the status has no
top-level observedGeneration. It runs once the cert-manager release is installed (pods on the pod network).
Only Let's Encrypt's servers are modelled; other issuers are left without a status.

Certificates (`pkg/controller/certificates/readiness`): one whose issuer is a Ready ClusterIssuer gets its
`spec.secretName` Secret (type kubernetes.io/tls) and Ready True `Ready` "Certificate is up to date and has not
expired"; before that, Ready False `DoesNotExist` "Issuing certificate as Secret does not exist". The ACME order and
its DNS-01 challenge are not simulated: the issued pair is a placeholder, not a certificate.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import urlsplit

from . import letsencrypt
from .conditions import condition, is_ready
from .controller import Controller

ISSUER = ("cert-manager.io/v1", "ClusterIssuer")
CERTIFICATE = ("cert-manager.io/v1", "Certificate")
MANAGER = "cert-manager-clusterissuers"


class CertManagerSim(Controller):
    def running(self) -> bool:
        rt = self.catalog.by_kind("helm.toolkit.fluxcd.io/v2", "HelmRelease")
        releases = self.store.list(rt, None) if rt is not None else []
        return any(_chart(r) == "cert-manager" and is_ready(r) for r in releases)

    def reconcile(self) -> None:
        rt = self.catalog.by_kind(*ISSUER)
        if rt is None or not self.running():
            return
        for issuer in self.store.list(rt, None):
            status = self._sync(issuer)
            if status is not None:
                self.store.set_status(rt, None, issuer["metadata"]["name"], status)
        cert_rt = self.catalog.by_kind(*CERTIFICATE)
        for certificate in self.store.list(cert_rt, None) if cert_rt is not None else []:
            self._issue(certificate)

    def _issue(self, certificate: dict[str, Any]) -> None:
        meta, spec = certificate["metadata"], certificate.get("spec") or {}
        ref = spec.get("issuerRef") or {}
        issuer_rt = self._rt(*ISSUER)
        issuer = self.store.find(issuer_rt, None, ref.get("name", "")) if ref.get("kind") == "ClusterIssuer" else None
        secret_rt = self._rt("v1", "Secret")
        ns, secret_name = meta["namespace"], spec.get("secretName", "")
        old = (certificate.get("status") or {}).get("conditions")
        issued = False
        if issuer is not None and _issuer_ready(issuer):
            if self.store.find(secret_rt, ns, secret_name) is None:
                placeholder = base64.b64encode(f"lab certificate for {spec.get('dnsNames')}".encode()).decode()
                self.store.create(
                    secret_rt,
                    ns,
                    {
                        "apiVersion": "v1",
                        "kind": "Secret",
                        "type": "kubernetes.io/tls",
                        "metadata": {
                            "name": secret_name,
                            "annotations": {"cert-manager.io/certificate-name": meta["name"]},
                        },
                        "data": {"tls.crt": placeholder, "tls.key": placeholder},
                    },
                    MANAGER,
                )
            issued = True
        verdict = (
            ("True", "Ready", "Certificate is up to date and has not expired")
            if issued
            else ("False", "DoesNotExist", "Issuing certificate as Secret does not exist")
        )
        self.store.set_status(
            self._rt(*CERTIFICATE), ns, meta["name"], {"conditions": condition(old, *verdict, meta["generation"])}
        )

    def _sync(self, issuer: dict[str, Any]) -> dict[str, Any] | None:
        meta, acme = issuer["metadata"], (issuer.get("spec") or {}).get("acme")
        old = issuer.get("status") or {}
        seen = next((c for c in old.get("conditions") or [] if c.get("type") == "Ready"), None)
        host = urlsplit(str((acme or {}).get("server", ""))).hostname
        if not isinstance(acme, dict) or host not in letsencrypt.HOSTS:
            return None
        if seen is not None and seen.get("observedGeneration") == meta["generation"]:
            return None  # synced for this spec; a refused registration is not retried either
        email = str(acme.get("email") or "").lower()
        account = dict(old.get("acme") or {})
        try:
            letsencrypt.new_account([f"mailto:{email}"] if email else [])
        except letsencrypt.AcmeError as e:
            reason, message = (
                ("ErrUpdateACMEAccount", f"Failed to update ACME account:{e}")
                if account.get("uri")
                else ("ErrRegisterACMEAccount", f"Failed to register ACME account: {e}")
            )
            self.events.append(f"ClusterIssuer/{meta['name']} {reason}")
            verdict = ("False", reason, message)
        else:
            digest = hashlib.sha256(f"{meta['name']}/{meta.get('uid', '')}".encode()).hexdigest()[:10]
            account = {**account, "uri": f"https://{host}/acme/acct/{int(digest, 16)}", "lastRegisteredEmail": email}
            verdict = ("True", "ACMEAccountRegistered", "The ACME account was registered with the ACME server")
        return {
            **old,
            "acme": account,
            "conditions": condition(old.get("conditions"), *verdict, meta["generation"]),
        }


def _issuer_ready(issuer: dict[str, Any]) -> bool:
    ready: dict[str, Any] = next(
        (c for c in (issuer.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), {}
    )
    return bool(ready.get("status") == "True") and ready.get("observedGeneration") == issuer["metadata"]["generation"]


def _chart(release: dict[str, Any]) -> str:
    return str((((release.get("spec") or {}).get("chart") or {}).get("spec") or {}).get("chart", ""))
