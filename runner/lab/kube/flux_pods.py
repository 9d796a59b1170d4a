"""Where the twin's Flux controllers run: a controller is the container whose image is its release image
(`ghcr.io/fluxcd/<controller>`), in whichever flux-system Deployment holds it: one Deployment per
controller (the release's own install) or all four in one pod (flux-aio's shape, which the runner installs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .catalog import Catalog
from .store import Store

FLUX_NS = "flux-system"
IMAGE_PREFIX = "ghcr.io/fluxcd/"


@dataclass(frozen=True)
class Located:
    deployment: dict[str, Any]
    container: dict[str, Any]

    @property
    def pod_spec(self) -> dict[str, Any]:
        return dict(((self.deployment.get("spec") or {}).get("template") or {}).get("spec") or {})


def _image_name(image: str) -> str:
    return image.split("@", 1)[0].rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image.split("@", 1)[0]


def locate(store: Store, catalog: Catalog, controller: str) -> Located | None:
    rt = catalog.by_kind("apps/v1", "Deployment")
    assert rt is not None
    for deploy in store.list(rt, FLUX_NS):
        pod = ((deploy.get("spec") or {}).get("template") or {}).get("spec") or {}
        for container in pod.get("containers") or []:
            if _image_name(str(container.get("image", ""))) == IMAGE_PREFIX + controller:
                return Located(deploy, container)
    return None


def flag(container: dict[str, Any], name: str) -> str | None:
    """The value of a `--name=value` argument of the container, or None."""
    for arg in container.get("args") or []:
        if str(arg).startswith(f"{name}="):
            return str(arg).split("=", 1)[1]
    return None


def placed_pod(store: Store, catalog: Catalog, deployment: dict[str, Any]) -> dict[str, Any] | None:
    """A pod of the Deployment (by its selector) that has a node, the first by name; None if none has one."""
    rt = catalog.by_kind("v1", "Pod")
    assert rt is not None
    wanted = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    pods = [
        p
        for p in store.list(rt, deployment["metadata"]["namespace"])
        if p["spec"].get("nodeName")
        and wanted
        and all((p["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())
    ]
    return min(pods, key=lambda p: p["metadata"]["name"]) if pods else None
