"""Kubernetes driver: lightkube, server-side apply, Flux install and status."""

from .api import FLUX_OWNER_LABEL, KINDS, EvictionBlocked, KubeApi, PodInfo
from .client import LightkubeApi
from .flux_install import flux_version as vendored_flux_version
from .flux_install import vendored_versions as vendored_flux_versions
from .readiness import FluxStatus

__all__ = [
    "FLUX_OWNER_LABEL",
    "KINDS",
    "EvictionBlocked",
    "FluxStatus",
    "KubeApi",
    "LightkubeApi",
    "PodInfo",
    "vendored_flux_version",
    "vendored_flux_versions",
]
