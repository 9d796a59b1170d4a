"""Kubernetes API twin with simulated Flux (source, kustomize and helm controllers), nodes and workloads."""

from .pki import CertificateAuthority, admin_kubeconfig
from .serve import RunningKubeTwin, serve_kube_twin
from .twin import KubeTwin, TwinOptions

__all__ = ["CertificateAuthority", "KubeTwin", "RunningKubeTwin", "TwinOptions", "admin_kubeconfig", "serve_kube_twin"]
