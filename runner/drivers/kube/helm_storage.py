"""Read Helm 3's release storage: the Secrets labelled owner=helm (helm v3 pkg/storage/driver/secrets.go).

Read-only and only what `runner adopt` needs to tell whether Flux would take a release over; the release
payload holds the values the operator installed with, so it is handed to the caller and never logged.
"""

from __future__ import annotations

from typing import Any

from lightkube import Client
from lightkube.resources.core_v1 import Secret as KubeSecret

from .apply import as_dict
from .errors import translated


class HelmStorageReads:
    _client: Client

    def helm_release_secrets(self) -> list[dict[str, Any]]:
        """Every Helm release Secret in every namespace, as the API returns it."""
        with translated("list Helm release storage"):
            found = self._client.list(KubeSecret, namespace="*", labels={"owner": "helm"})
            return [as_dict(s) for s in found if (as_dict(s).get("type") == "helm.sh/release.v1")]
